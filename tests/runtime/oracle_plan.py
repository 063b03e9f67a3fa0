"""FROZEN COPY of edgelite/runtime/plan.py before the fast planner (the differential tests' oracle;
do not optimise; float16 weights widen with numpy's astype).

The Plan: what `allocate_tensors` builds once and every executor consumes.

Building it resolves every operator's kernel, infers every tensor's shape (evaluating small
operators whose inputs are all known, so shape-computing subgraphs fold), and lays the
non-constant tensors out in one arena with the memory planner.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from edgelite.errors import ModelError, UnsupportedOpError
from edgelite.model.ir import Model, Operator, Subgraph, TensorType
from edgelite.ops._sparsity import reads_sparse
from edgelite.ops.base import Node, OpDef
from edgelite.ops.registry import Resolver, lookup
from edgelite.runtime.plan import Plan, PlannedNode
from tests.runtime.oracle_planner import Allocation, plan_arena, tensor_lifetimes

_FOLD_LIMIT = 4096  # elements: outputs up to this size are evaluated at prepare time
# Ops that only unpack constant weights (float16/int8 -> float32, sparse -> dense): when their
# inputs are constants they run once here and their outputs become constants, as XNNPACK does.
_FOLD_CONSTANT_OPS = frozenset({"DEQUANTIZE", "DENSIFY"})
ARENA_ALIGNMENT = 64
# Ops whose output holds exactly its input's bytes: the output may share the input's memory.
_ALIAS_OPS = frozenset({"RESHAPE", "SQUEEZE", "EXPAND_DIMS"})
_PAD_FUSERS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D"})  # the native engine reads their PAD's input


def tensor_nbytes(shape: tuple[int, ...], tensor_type: TensorType) -> int:
    return math.prod(shape) * tensor_type.itemsize  # exact: no int64 wrap-around


def build_plan(model: Model, subgraph_index: int, input_shapes: dict[int, tuple[int, ...]],
               resolver: Resolver | None = None, preserve_all_tensors: bool = False) -> Plan:
    """Resolve kernels, infer shapes and plan the arena of one subgraph."""
    graph = model.subgraphs[subgraph_index]
    constants = _constants(model, graph)
    shapes: list[tuple[int, ...] | None] = [t.shape for t in graph.tensors]
    for index, shape in input_shapes.items():
        shapes[index] = shape
    known = dict(constants)
    nodes = []
    sparse_sources: dict[int, int] = {}  # DENSIFY output -> the sparse constant its consumers read
    for op_index, op in enumerate(graph.operators):
        skip = op.opcode == "DENSIFY" and not preserve_all_tensors
        if skip and _sparse_consumers_only(graph, op, constants):
            sparse_sources[op.outputs[0]] = op.inputs[0]
            shapes[op.outputs[0]] = shapes[op.inputs[0]]
            continue
        op = _reading_sparse(op, sparse_sources)
        opdef = lookup(op.name, resolver)
        if opdef is None:
            hint = (f"pass custom_op_resolver={{'{op.name}': kernel}} or call edgelite.register_op"
                    if op.opcode == "CUSTOM" else "this builtin op is not implemented yet")
            raise UnsupportedOpError(f"{op.name} (node {op_index}) has no kernel in edgelite: {hint}")
        node = _prepare_node(graph, op_index, opdef, shapes, known, op)
        for k, shape in zip(op.outputs, output_shapes(opdef, node), strict=True):
            shapes[k] = shape
        if op.opcode in _FOLD_CONSTANT_OPS and _fold_into_constants(opdef, node, shapes, constants):
            known.update((k, constants[k]) for k in op.outputs)
            continue
        _fold_if_known(opdef, node, shapes, known)
        # absent optional inputs (index -1) have no shape and do not make a node dynamic
        dynamic = not shapes_known(node) or any(shapes[k] is None for k in op.outputs)
        nodes.append(PlannedNode(opdef, node, dynamic))
    dynamic = {i for i, s in enumerate(shapes) if s is None}
    dynamic |= {i for i, t in enumerate(graph.tensors) if t.type.itemsize == 0 and i not in constants}
    constant_ids = {id(graph.tensors[i]) for i in (*constants, *sparse_sources)}
    allocations, tensors, aliases = _allocations(graph, shapes, constant_ids, dynamic, preserve_all_tensors)
    arena = plan_arena(allocations, ARENA_ALIGNMENT)
    offsets = dict(zip(tensors, arena.offsets, strict=True))
    offsets.update((alias, offsets[root]) for alias, root in aliases.items())
    return Plan(model, subgraph_index, nodes, shapes, constants, offsets, arena.arena_size,
                arena.lower_bound, preserve_all_tensors, dynamic)


def _constants(model: Model, graph: Subgraph) -> dict[int, np.ndarray]:
    """Tensors with data in their buffer, plus never-written empty tensors (empty constants)."""
    written = {i for op in graph.operators for i in op.outputs} | set(graph.inputs)
    constants = {}
    for i, tensor in enumerate(graph.tensors):
        if tensor.is_variable:
            continue
        value = model.constant(tensor)
        if value is None and i not in written and 0 in tensor.shape and tensor.type.itemsize:
            value = np.zeros(tensor.shape, tensor.dtype)
        if value is not None:
            constants[i] = value
    return constants


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


def _prepare_node(graph: Subgraph, op_index: int, opdef: OpDef, shapes: list, known: dict,
                  op: Operator | None = None) -> Node:
    op = graph.operators[op_index] if op is None else op
    for i in (*op.inputs, *op.outputs):
        if i < -1 or i >= len(graph.tensors) or (i == -1 and i in op.outputs):
            raise ModelError(f"{op.name} (node {op_index}) refers to tensor {i} of {len(graph.tensors)}")
    input_tensors = [graph.tensors[i] if i >= 0 else None for i in op.inputs]
    node = Node(op_index, op, input_tensors, [graph.tensors[i] for i in op.outputs],
                [shapes[i] if i >= 0 else None for i in op.inputs],
                [known.get(i) if i >= 0 else None for i in op.inputs])
    if opdef.types is not None and input_tensors and input_tensors[0] is not None \
            and input_tensors[0].type not in opdef.types:
        supported = ", ".join(sorted(t.name for t in opdef.types))
        raise node.unsupported(f"input type {input_tensors[0].type.name} is not supported "
                               f"(supported: {supported})")
    if opdef.check is not None and shapes_known(node):
        opdef.check(node)
    return node


def shapes_known(node: Node) -> bool:
    """Whether every present input of the node has a known shape."""
    return all(s is not None for s, t in zip(node.input_shapes, node.input_tensors, strict=True)
               if t is not None)


def output_shapes(opdef: OpDef, node: Node) -> list:
    """Output shapes from the op's shape function (None entries: known only at invoke)."""
    if opdef.shape is None:
        return [t.shape for t in node.output_tensors]
    if not shapes_known(node):
        return [None] * len(node.output_tensors)
    try:
        result = opdef.shape(node)
    except (ValueError, IndexError, TypeError) as error:
        raise ModelError(f"{node.describe()}: cannot infer output shapes from inputs "
                         f"{node.input_shapes}: {error}") from error
    if len(result) != len(node.output_tensors):
        raise ModelError(f"{node.describe()}: has {len(node.output_tensors)} outputs, "
                         f"the op produces {len(result)}")
    return [None if s is None else tuple(int(d) for d in s) for s in result]


def _fold_into_constants(opdef: OpDef, node: Node, shapes: list, constants: dict) -> bool:
    """Run a weight-unpacking op on constant inputs now; its outputs join the constants."""
    op = node.op
    if not all(i in constants for i in op.inputs if i >= 0) or any(shapes[k] is None for k in op.outputs):
        return False
    node.outputs = [np.empty(shapes[k], dtype=t.dtype) for k, t in zip(op.outputs, node.output_tensors,
                                                                        strict=True)]
    if node.inputs[0].dtype == np.float16:
        node.outputs[0][...] = node.inputs[0].astype(np.float32)
    else:
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


def _allocations(graph: Subgraph, shapes: list, constants: dict, dynamic: set,
                 preserve_all: bool) -> tuple[list[Allocation], list[int], dict[int, int]]:
    """Arena allocations (size, first step, last step) of every non-constant, non-dynamic tensor
    that is not an alias, the tensors they are for, and the aliases (tensor -> the one it shares)."""
    lifetimes = tensor_lifetimes(graph, constant=lambda t: t.is_variable is False and id(t) in constants)
    whole_graph = (0, max(len(graph.operators) - 1, 0))
    if preserve_all:
        lifetimes = dict.fromkeys(lifetimes, whole_graph)
    for source, step in _padded_reads(graph).items():
        if source in lifetimes:
            lifetimes[source] = (lifetimes[source][0], max(lifetimes[source][1], step))
    aliases = {} if preserve_all else _aliases(graph, shapes, set(lifetimes) - dynamic)
    span: dict[int, tuple[int, int]] = {}
    for i, (first, last) in lifetimes.items():  # a shared buffer lives as long as all its tensors
        root = aliases.get(i, i)
        old = span.get(root, (first, last))
        span[root] = (min(old[0], first), max(old[1], last))
    tensors = sorted(i for i in lifetimes if i not in dynamic and i not in aliases)
    allocations = [Allocation(tensor_nbytes(shapes[i], graph.tensors[i].type), *span[i]) for i in tensors]
    return allocations, tensors, aliases


def _padded_reads(graph: Subgraph) -> dict[int, int]:
    """PAD input -> step of the convolution right after the PAD that is its output's only reader:
    the native engine may fuse the padding into that convolution, reading the PAD's input there."""
    reads: dict[int, int] = {}
    for op in graph.operators:
        for i in op.inputs:
            reads[i] = reads.get(i, 0) + 1
    found = {}
    for step, op in enumerate(graph.operators[:-1]):
        after = graph.operators[step + 1]
        if (op.opcode == "PAD" and op.inputs and len(op.outputs) == 1 and after.opcode in _PAD_FUSERS
                and after.inputs and after.inputs[0] == op.outputs[0] and reads.get(op.outputs[0]) == 1):
            found[op.inputs[0]] = step + 1
    return found


def _aliases(graph: Subgraph, shapes: list, in_arena: set[int]) -> dict[int, int]:
    """Outputs of RESHAPE / SQUEEZE / EXPAND_DIMS that share their input's arena bytes (as TFLite's
    in-place reshape): both in the arena, neither a graph input or output nor a variable. The op
    then copies a buffer onto itself; every other op keeps its own memory."""
    boundary = {*graph.inputs, *graph.outputs}
    aliases: dict[int, int] = {}
    for op in graph.operators:
        if op.opcode not in _ALIAS_OPS or not op.inputs or len(op.outputs) != 1:
            continue
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
