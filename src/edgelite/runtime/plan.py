"""The Plan: what `allocate_tensors` builds once and every executor consumes.

Building it resolves every operator's kernel, infers every tensor's shape (evaluating small
operators whose inputs are all known, so shape-computing subgraphs fold), and lays the
non-constant tensors out in one arena with the memory planner.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, replace
from itertools import chain

import numpy as np

from edgelite.errors import ModelError, UnsupportedOpError
from edgelite.model.ir import _DTYPES, _ITEMSIZES, Model, Operator, Subgraph, TensorType
from edgelite.ops._sparsity import reads_sparse
from edgelite.ops.base import Node, OpDef
from edgelite.ops.dequantize import OP as _DEQUANTIZE
from edgelite.ops.dequantize import widen_float16_into
from edgelite.ops.registry import Resolver, lookup
from edgelite.runtime.planner import lifetime_steps, plan_spans

try:  # the float16 block's memory (native/_slab.c); numpy's without the extension
    from edgelite.native._engine import slab as _slab
except ImportError:
    _slab = None

_FOLD_LIMIT = 4096  # elements: outputs up to this size are evaluated at prepare time
# Ops that only unpack constant weights (float16/int8 -> float32, sparse -> dense): when their
# inputs are constants they run once here and their outputs become constants, as XNNPACK does.
_FOLD_CONSTANT_OPS = frozenset({"DEQUANTIZE", "DENSIFY"})
ARENA_ALIGNMENT = 64
# Ops whose output holds exactly its input's bytes: the output may share the input's memory.
_ALIAS_OPS = frozenset({"RESHAPE", "SQUEEZE", "EXPAND_DIMS"})
_FLOAT16, _FLOAT32 = TensorType.FLOAT16, TensorType.FLOAT32
_HALF, _SINGLE = np.dtype(np.float16), np.dtype(np.float32)
_SIZELESS = frozenset(t for t in TensorType if _ITEMSIZES[t] == 0)
_PAD_FUSERS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D"})  # the native engine reads their PAD's input


@dataclass
class PlannedNode:
    """One operator bound to its kernel and (at invoke) to its operand arrays."""

    opdef: OpDef
    node: Node
    dynamic: bool  # some operand's shape is only known at invoke


@dataclass
class Plan:
    """Execution order, tensor shapes, arena layout and constants of one subgraph."""

    model: Model
    subgraph_index: int
    nodes: list[PlannedNode]
    shapes: list[tuple[int, ...] | None]  # None: dynamic (known after the producing op ran)
    constants: dict[int, np.ndarray]
    arena_offsets: dict[int, int]
    arena_size: int
    arena_lower_bound: int
    preserved: bool = False
    dynamic_tensors: set[int] = field(default_factory=set)

    @property
    def subgraph(self) -> Subgraph:
        return self.model.subgraphs[self.subgraph_index]


def tensor_nbytes(shape: tuple[int, ...], tensor_type: TensorType) -> int:
    return math.prod(shape) * tensor_type.itemsize  # exact: no int64 wrap-around


def build_plan(model: Model, subgraph_index: int, input_shapes: dict[int, tuple[int, ...]],
               resolver: Resolver | None = None, preserve_all_tensors: bool = False) -> Plan:
    """Resolve kernels, infer shapes and plan the arena of one subgraph."""
    graph = model.subgraphs[subgraph_index]
    constants, variables, sizeless = _constants(model, graph)
    shapes: list[tuple[int, ...] | None] = [t.shape for t in graph.tensors]
    for index, shape in input_shapes.items():
        shapes[index] = shape
    known = dict(constants)
    opcodes = [op.opcode for op in graph.operators]  # lets the scans below skip absent op types
    widened = _widened_constants(graph, constants, shapes, resolver) if "DEQUANTIZE" in opcodes else {}
    nodes = []
    sparse_sources: dict[int, int] = {}  # DENSIFY output -> the sparse constant its consumers read
    opdefs: dict[str, OpDef | None] = {}  # lookup's answers for this plan
    for op_index, op in enumerate(graph.operators):
        if op_index in widened:  # DEQUANTIZE of a float16 constant, done above
            target, shape, value = widened[op_index]
            shapes[target] = shape
            constants[target] = known[target] = value
            continue
        opcode = op.opcode
        if opcode == "DENSIFY" and not preserve_all_tensors and _sparse_consumers_only(graph, op, constants):
            sparse_sources[op.outputs[0]] = op.inputs[0]
            shapes[op.outputs[0]] = shapes[op.inputs[0]]
            continue
        if sparse_sources:
            op = _reading_sparse(op, sparse_sources)
        name = op.custom_code if opcode == "CUSTOM" else opcode
        opdef = opdefs.get(name)
        if opdef is None:
            opdef = opdefs[name] = lookup(name, resolver)
        if opdef is None:
            hint = (f"pass custom_op_resolver={{'{op.name}': kernel}} or call edgelite.register_op"
                    if opcode == "CUSTOM" else "this builtin op is not implemented yet")
            raise UnsupportedOpError(f"{op.name} (node {op_index}) has no kernel in edgelite: {hint}")
        ins, outputs = op.inputs, op.outputs
        node, inputs_known = _prepared(graph, op_index, opdef, shapes, known, op)
        for k, shape in zip(outputs, _output_shapes(opdef, node, inputs_known), strict=True):
            shapes[k] = shape
        dynamic = not inputs_known or any(shapes[k] is None for k in outputs)
        if opcode in _FOLD_CONSTANT_OPS and _fold_into_constants(opdef, node, shapes, constants):
            known.update((k, constants[k]) for k in outputs)
            continue
        for i in ins:
            if i >= 0 and i not in known:
                break
        else:  # every present input known: small outputs may be evaluated now
            _fold_if_known(opdef, node, shapes, known)
            dynamic = not inputs_known or any(shapes[k] is None for k in outputs)
        nodes.append(PlannedNode(opdef, node, dynamic))
    dynamic = {i for i, s in enumerate(shapes) if s is None}
    dynamic.update(i for i in sizeless if i not in constants)
    constant_tensors = [*constants, *sparse_sources.values()]
    sizes, firsts, lasts, placed, aliases = _allocations(graph, shapes, constant_tensors, dynamic,
                                                         preserve_all_tensors, variables, opcodes)
    arena = plan_spans(sizes, firsts, lasts, ARENA_ALIGNMENT)
    offsets = dict(zip(placed, arena.offsets, strict=True))
    offsets.update((alias, offsets[root]) for alias, root in aliases.items())
    return Plan(model, subgraph_index, nodes, shapes, constants, offsets, arena.arena_size,
                arena.lower_bound, preserve_all_tensors, dynamic)


def _constants(model: Model, graph: Subgraph) -> tuple[dict[int, np.ndarray], list[int] | None, list[int]]:
    """Tensors with data in their buffer, plus never-written empty tensors (empty constants); the
    variables' indices (None when some is_variable flag is not a plain bool); the tensors whose type
    has no fixed size."""
    buffers, count = model.buffers, len(model.buffers)
    written = None
    constants: dict[int, np.ndarray] = {}
    variables: list[int] | None = []
    sizeless = []
    for i, tensor in enumerate(graph.tensors):
        if tensor.type in _SIZELESS:
            sizeless.append(i)
        flag = tensor.is_variable
        if flag is not False:
            if flag is not True:  # not a plain bool: the general in-arena test decides
                variables = None
            elif variables is not None:
                variables.append(i)
            if flag:
                continue
        buffer = tensor.buffer
        data = buffers[buffer] if 0 <= buffer < count else None
        if data is not None and data.size:
            if tensor.sparsity is not None or _ITEMSIZES[tensor.type] == 0:
                constants[i] = data
            else:
                view, shape = data.view(_DTYPES[tensor.type]), tensor.shape
                constants[i] = view if view.shape == shape else view.reshape(shape)
        elif 0 in tensor.shape and _ITEMSIZES[tensor.type]:
            if written is None:
                written = {k for op in graph.operators for k in op.outputs} | set(graph.inputs)
            if i not in written:
                constants[i] = np.zeros(tensor.shape, _DTYPES[tensor.type])
    return constants, variables, sizeless


def _widened_constants(graph: Subgraph, constants: dict, shapes: list, resolver: Resolver | None,
                       ) -> dict[int, tuple[int, tuple[int, ...], np.ndarray]]:
    """op index -> (output, shape, value) of every DEQUANTIZE of a float16 constant that no operator
    writes, folded as the general path (prepare, shape, fold) would, without building Nodes: all
    widened at once into one read-only float32 block (one allocation instead of one each: a slab of
    native/_slab.c when the extension is built, hugepage-backed when large, reused across plans)."""
    operators, tensors = graph.operators, graph.tensors
    candidates = [(k, op) for k, op in enumerate(operators) if op.opcode == "DEQUANTIZE"]
    if not candidates or lookup("DEQUANTIZE", resolver) is not _DEQUANTIZE:
        return {}
    written = None  # every operator output, once a candidate needs it
    chosen, total = [], 0
    for k, op in candidates:
        ins, outs = op.inputs, op.outputs
        if len(ins) != 1 or len(outs) != 1:
            continue
        source, target = ins[0], outs[0]
        if source not in constants or not 0 <= target < len(tensors) \
                or tensors[source].type != _FLOAT16 or tensors[target].type != _FLOAT32:
            continue
        if written is None:
            written = {i for op in operators for i in op.outputs}
        if source in written:
            continue
        value, shape = constants[source], shapes[source]
        if shape is None or value.dtype != _HALF:
            continue
        shape = _int_tuple(shape)
        size = math.prod(shape)
        if size != value.size:  # a resized constant: numpy broadcasting, on the general path
            continue
        chosen.append((k, target, shape, size, value, total))
        total += -(-size // 16) * 16  # whole 64-byte lines
    if not chosen:
        return {}
    block = np.empty(total, _SINGLE) if _slab is None \
        else np.frombuffer(_slab(total * 4, False), _SINGLE, total)
    widen_float16_into([c[4] for c in chosen], block, [c[5] for c in chosen])
    block.flags.writeable = False
    return {k: (target, shape, block[start:start + size].reshape(shape))
            for k, target, shape, size, value, start in chosen}


def _sparse_consumers_only(graph: Subgraph, densify: Operator, constants: dict) -> bool:
    """Whether DENSIFY can be skipped: it expands a sparse constant that every reader of its output
    (none of them a graph output) takes directly as its sparse weights (ops/_sparsity.py)."""
    source, target = densify.inputs[0], densify.outputs[0]
    if source not in constants or graph.tensors[source].sparsity is None or target in graph.outputs:
        return False
    readers = [(op, position) for op in graph.operators
               for position, i in enumerate(op.inputs) if i == target]
    shape = graph.tensors[source].shape

    def input_shape(op: Operator) -> tuple:
        return graph.tensors[op.inputs[0]].shape if op.inputs[0] >= 0 else ()

    return bool(readers) and all(reads_sparse(op.opcode, position, shape, input_shape(op))
                                 for op, position in readers)


def _reading_sparse(op: Operator, sparse_sources: dict[int, int]) -> Operator:
    """The operator with skipped DENSIFY outputs replaced by the sparse constants they expand."""
    if not any(i in sparse_sources for i in op.inputs):
        return op
    return replace(op, inputs=tuple(sparse_sources.get(i, i) for i in op.inputs))


def _prepared(graph: Subgraph, op_index: int, opdef: OpDef, shapes: list, known: dict,
              op: Operator | None = None) -> tuple[Node, bool]:
    """The checked Node of one operator, and whether every present input's shape is known."""
    op = graph.operators[op_index] if op is None else op
    tensors, ins, outs = graph.tensors, op.inputs, op.outputs
    count = len(tensors)
    if (ins and (min(ins) < -1 or max(ins) >= count)) or (outs and (min(outs) < 0 or max(outs) >= count)):
        for i in (*ins, *outs):
            if i < -1 or i >= count or (i == -1 and i in outs):
                raise ModelError(f"{op.name} (node {op_index}) refers to tensor {i} of {count}")
    if -1 in ins:
        input_tensors = [tensors[i] if i >= 0 else None for i in ins]
        input_shapes = [shapes[i] if i >= 0 else None for i in ins]
        values = [known.get(i) if i >= 0 else None for i in ins]
        inputs_known = all(s is not None for s, i in zip(input_shapes, ins, strict=True) if i >= 0)
    else:
        input_tensors = [tensors[i] for i in ins]
        input_shapes = [shapes[i] for i in ins]
        values = [known.get(i) for i in ins]
        inputs_known = all(s is not None for s in input_shapes)
    node = Node(op_index, op, input_tensors, [tensors[i] for i in outs], input_shapes, values)
    types = opdef.types
    if types is not None and input_tensors:
        first = input_tensors[0]
        if first is not None and first.type not in types:
            supported = ", ".join(sorted(t.name for t in types))
            raise node.unsupported(f"input type {first.type.name} is not supported "
                                   f"(supported: {supported})")
    if inputs_known and opdef.check is not None:
        opdef.check(node)
    return node, inputs_known


def shapes_known(node: Node) -> bool:
    """Whether every present input of the node has a known shape."""
    return all(s is not None for s, t in zip(node.input_shapes, node.input_tensors, strict=True)
               if t is not None)


def output_shapes(opdef: OpDef, node: Node) -> list:
    """Output shapes from the op's shape function (None entries: known only at invoke)."""
    return _output_shapes(opdef, node, shapes_known(node))


def _shape_error(node: Node, error: Exception) -> ModelError:
    return ModelError(f"{node.describe()}: cannot infer output shapes from inputs {node.input_shapes}: "
                      f"{error}")


def _int_tuple(shape) -> tuple[int, ...]:
    """tuple(map(int, shape)), without copying a shape that already is a tuple of plain ints."""
    if type(shape) is tuple:
        for d in shape:
            if type(d) is not int:
                return tuple(map(int, shape))
        return shape
    return tuple(map(int, shape))


def _output_shapes(opdef: OpDef, node: Node, inputs_known: bool) -> list:
    if opdef.shape is None:
        return [t.shape for t in node.output_tensors]
    if not inputs_known:
        return [None] * len(node.output_tensors)
    try:
        result = opdef.shape(node)
    except (ValueError, IndexError, TypeError) as error:
        raise _shape_error(node, error) from error
    if len(result) != len(node.output_tensors):
        raise ModelError(f"{node.describe()}: has {len(node.output_tensors)} outputs, "
                         f"the op produces {len(result)}")
    return [None if s is None else _int_tuple(s) for s in result]


def _fold_into_constants(opdef: OpDef, node: Node, shapes: list, constants: dict) -> bool:
    """Run a weight-unpacking op on constant inputs now; its outputs join the constants."""
    op = node.op
    if not all(i in constants for i in op.inputs if i >= 0) or any(shapes[k] is None for k in op.outputs):
        return False
    node.outputs = [np.empty(shapes[k], dtype=t.dtype) for k, t in zip(op.outputs, node.output_tensors,
                                                                        strict=True)]
    opdef.run(node)
    for k, value in zip(op.outputs, node.outputs, strict=True):
        value.flags.writeable = False
        constants[k] = value
    node.outputs = []
    return True


def _fold_if_known(opdef: OpDef, node: Node, shapes: list, known: dict) -> None:
    """Evaluate small ops whose inputs are all known, so that later shapes can depend on them."""
    op = node.op
    present = [i for i in op.inputs if i >= 0]
    if not present or any(i not in known for i in present) or op.opcode == "CUSTOM":
        return
    out_shapes = [shapes[k] for k in op.outputs]
    if any(s is None or np.prod(s, dtype=np.int64) > _FOLD_LIMIT for s in out_shapes):
        return
    if any(t.type.itemsize == 0 for t in node.output_tensors):
        return
    node.outputs = [np.zeros(s, dtype=t.dtype) for s, t in zip(out_shapes, node.output_tensors, strict=True)]
    try:
        opdef.run(node)
    except Exception:  # folding is an optimisation only; the op runs again (and reports) at invoke
        return
    finally:
        outputs, node.outputs = node.outputs, []
    known.update(zip(op.outputs, outputs, strict=True))


def _allocations(graph: Subgraph, shapes: list, constant_tensors: list[int], dynamic: set,
                 preserve_all: bool, variables: list[int] | None = None, opcodes: list[str] | None = None,
                 ) -> tuple[list[int], list[int], list[int], list[int], dict[int, int]]:
    """Arena allocations (sizes, first steps, last steps) of every non-constant, non-dynamic tensor
    that is not an alias, the tensors they are for, and the aliases (tensor -> the one it shares).
    `variables`: the variables' indices when every is_variable flag is a plain bool (else None)."""
    in_arena = _in_arena(graph.tensors, constant_tensors, variables)
    first, last = lifetime_steps(graph, in_arena, variables=variables)
    if preserve_all:
        first, last = dict.fromkeys(first, 0), dict.fromkeys(first, max(len(graph.operators) - 1, 0))
    if opcodes is None or "PAD" in opcodes:
        for source, step in _padded_reads(graph).items():
            if source in last and step > last[source]:
                last[source] = step
    aliases = {} if preserve_all or (opcodes is not None and _ALIAS_OPS.isdisjoint(opcodes)) \
        else _aliases(graph, shapes, first, dynamic)
    if aliases:  # a shared buffer lives as long as all its tensors
        span: dict[int, tuple[int, int]] = {}
        for i, start in first.items():
            root, end = aliases.get(i, i), last[i]
            old = span.get(root, (start, end))
            span[root] = (min(old[0], start), max(old[1], end))
        first, last = {i: s[0] for i, s in span.items()}, {i: s[1] for i, s in span.items()}
    placed = sorted(first) if not dynamic and not aliases else \
        sorted(i for i in first if i not in dynamic and i not in aliases)
    tensors = graph.tensors
    sizes = [math.prod(shapes[i]) * _ITEMSIZES[tensors[i].type] for i in placed]
    return sizes, [first[i] for i in placed], [last[i] for i in placed], placed, aliases


def _in_arena(tensors: list, constant_tensors: list[int], variables: list[int] | None) -> list[bool]:
    """Per tensor: a variable, or not a constant (constants known by the identity of their Tensor)."""
    count = len(tensors)
    if variables is not None and len(set(map(id, tensors))) == count:  # distinct: identity is index
        in_arena = [True] * count
        for i in constant_tensors:
            in_arena[i] = False
    else:
        constant_ids = {id(tensors[i]) for i in constant_tensors}
        if variables is None:
            return [t.is_variable or not (t.is_variable is False and id(t) in constant_ids) for t in tensors]
        in_arena = [id(t) not in constant_ids for t in tensors]
    for i in variables:
        in_arena[i] = True
    return in_arena


def _padded_reads(graph: Subgraph) -> dict[int, int]:
    """PAD input -> step of the convolution right after the PAD that is its output's only reader:
    the native engine may fuse the padding into that convolution, reading the PAD's input there."""
    operators = graph.operators
    reads = None
    found = {}
    for step, op in enumerate(operators[:-1]):
        if op.opcode != "PAD" or not op.inputs or len(op.outputs) != 1:
            continue
        after = operators[step + 1]
        if after.opcode in _PAD_FUSERS and after.inputs and after.inputs[0] == op.outputs[0]:
            if reads is None:
                reads = Counter(chain.from_iterable(o.inputs for o in operators))
            if reads.get(op.outputs[0]) == 1:
                found[op.inputs[0]] = step + 1
    return found


def _aliases(graph: Subgraph, shapes: list, lifetimes: dict[int, int], dynamic: set[int]) -> dict[int, int]:
    """Outputs of RESHAPE / SQUEEZE / EXPAND_DIMS that share their input's arena bytes (as TFLite's
    in-place reshape): both in the arena (having a lifetime, not dynamic), neither a graph input or
    output nor a variable. The op then copies a buffer onto itself; every other op keeps its own
    memory."""
    boundary = in_arena = None
    aliases: dict[int, int] = {}
    for op in graph.operators:
        if op.opcode not in _ALIAS_OPS or not op.inputs or len(op.outputs) != 1:
            continue
        if in_arena is None:
            boundary, in_arena = {*graph.inputs, *graph.outputs}, lifetimes.keys() - dynamic
        source, target = op.inputs[0], op.outputs[0]
        tensors = graph.tensors
        if (source in boundary or target in boundary or source not in in_arena or target not in in_arena
                or tensors[source].is_variable or tensors[target].is_variable or source == target
                or tensors[source].type != tensors[target].type or target in aliases
                or tensor_nbytes(shapes[source], tensors[source].type)
                != tensor_nbytes(shapes[target], tensors[target].type)):
            continue
        aliases[target] = aliases.get(source, source)
    return aliases
