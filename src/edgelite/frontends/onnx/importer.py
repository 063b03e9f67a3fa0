"""ONNX ModelProto -> edgelite Model: load, infer shapes, convert node by node, run the passes."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from edgelite.errors import ConversionError
from edgelite.frontends.onnx import graph_io, patterns
from edgelite.frontends.onnx.context import Context, Converter, Unsupported, Value
from edgelite.model.ir import Model, SignatureDef

Progress = Callable[[int, int, str], None]  # (nodes done, nodes total, op type)


@cache
def converters() -> dict[str, Converter]:
    """Every family module's CONVERTERS, merged; an op type claimed twice is an error."""
    from edgelite.frontends.onnx import ops

    merged: dict[str, Converter] = {}
    owner: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(ops.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"edgelite.frontends.onnx.ops.{info.name}")
        for op_type, converter in getattr(module, "CONVERTERS", {}).items():
            if op_type in merged:
                raise ConversionError(f"ONNX op {op_type} has converters in both ops/{owner[op_type]}.py "
                                      f"and ops/{info.name}.py")
            merged[op_type], owner[op_type] = converter, info.name
    return merged


@dataclass
class Conversion:
    """The result of converting one graph, before the passes."""

    model: Model
    ops_in: int
    unsupported: dict[str, list[str]] = field(default_factory=dict)  # op type -> node names + reasons


def convert(model: Any, *, input_shapes: Mapping[str, Sequence[int]] | None = None, nhwc_io: bool = False,
            allow_custom_ops: bool = False, optimize: bool = True, example_inputs: Any = None,
            progress: Progress | None = None) -> Model:
    """Convert an ONNX model (ModelProto, path, or a torch.nn.Module with example_inputs) to a Model.

    input_shapes pins graph-input shapes (symbolic dims are -1 in shape_signature otherwise);
    nhwc_io exposes rank-4 inputs/outputs as NHWC; allow_custom_ops keeps unsupported ONNX ops as
    CUSTOM ops instead of raising one ConversionError that lists them all.
    """
    return convert_graph(model, input_shapes=input_shapes, nhwc_io=nhwc_io, allow_custom_ops=allow_custom_ops,
                         optimize=optimize, example_inputs=example_inputs, progress=progress).model


def convert_graph(model: Any, *, input_shapes: Mapping[str, Sequence[int]] | None = None,
                  nhwc_io: bool = False, allow_custom_ops: bool = False, optimize: bool = True,
                  example_inputs: Any = None, progress: Progress | None = None) -> Conversion:
    """convert(), also returning the ONNX op count and what was unsupported (for the CLI)."""
    proto = graph_io.load(model, example_inputs)
    proto = graph_io.prepare(proto, input_shapes or {})
    if optimize:
        patterns.recognize(proto)
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 1)
    ctx = Context(opset, graph_io.value_info(proto.graph), fold=optimize)
    graph = proto.graph
    initializers = {t.name for t in graph.initializer}
    for tensor in graph.initializer:
        ctx.bind(tensor.name, ctx.constant(numpy_helper.to_array(tensor), tensor.name))
    inputs = [graph_io.add_input(ctx, i, nhwc_io) for i in graph.input if i.name not in initializers]
    conversion = Conversion(ctx.model, len(graph.node))
    ctx.subgraph_converter = lambda sub: _convert_subgraph(ctx, sub, conversion, allow_custom_ops)
    nodes = graph_io.topological(graph.node, set(ctx.values))
    _convert_nodes(ctx, nodes, conversion, allow_custom_ops, progress)
    if conversion.unsupported and not allow_custom_ops:
        raise ConversionError(unsupported_message(conversion.unsupported, opset))
    outputs, taken = [], {v.index for v in inputs}
    for graph_output in graph.output:
        outputs.append(graph_io.add_output(ctx, graph_output, nhwc_io, taken))
        taken.add(outputs[-1])
    ctx.graph.inputs = tuple(v.index for v in inputs)
    ctx.graph.outputs = tuple(outputs)
    tensors = ctx.graph.tensors
    ctx.model.signatures = [SignatureDef("serving_default", {tensors[i].name: i for i in ctx.graph.inputs},
                                         {tensors[i].name: i for i in ctx.graph.outputs})]
    ctx.model.description = f"edgelite from ONNX ({proto.producer_name or 'unknown producer'}, opset {opset})"
    from edgelite.frontends.onnx.passes import pipeline

    pipeline.run(ctx.model, optimize=optimize)
    return conversion


def _convert_nodes(ctx: Context, nodes: Sequence[onnx.NodeProto], conversion: Conversion,
                   allow_custom_ops: bool, progress: Progress | None = None) -> None:
    table = converters()
    for done, node in enumerate(nodes):
        key = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
        converter = table.get(key)
        ctx.node = node
        reason = None
        if ctx.fold and _small_constant_inputs(ctx, node) and _fold_with_onnx(ctx, node):
            pass  # a shape computation on constants: ONNX's own semantics, nothing emitted
        elif converter is None:
            reason = "no converter"
        else:
            try:
                converter(node, ctx)
            except Unsupported as error:
                reason = str(error) or "unsupported variant"
            except ConversionError:
                raise
            except Exception as error:
                raise ConversionError(f"converting {key} node {node.name or node.output[0]!r}: "
                                      f"{type(error).__name__}: {error}") from error
        if reason is not None and ctx.fold and _fold_with_onnx(ctx, node):
            reason = None
        if reason is not None:
            conversion.unsupported.setdefault(key, []).append(f"{node.name or node.output[0]!r} ({reason})")
            _custom_op(ctx, node, key)
        missing = [o for o in node.output if o and o not in ctx.values]
        if missing:
            raise ConversionError(f"the {key} converter left outputs {missing} of node {node.name!r} unbound")
        if progress is not None:
            progress(done + 1, len(nodes), key)
    ctx.node = None


_NONDETERMINISTIC = frozenset({"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
                               "Bernoulli", "Multinomial"})


_SMALL = 1 << 16  # input elements: nodes on constants this small fold through ONNX's reference


def _small_constant_inputs(ctx: Context, node: onnx.NodeProto) -> bool:
    values = [ctx.values.get(name) for name in node.input if name]
    return bool(values) and all(v is not None and v.is_const for v in values) \
        and sum(v.const.size for v in values) <= _SMALL


def _fold_with_onnx(ctx: Context, node: onnx.NodeProto) -> bool:
    """A node without a converter whose inputs are all constant: evaluate it with ONNX's
    reference implementation (shape computations often use ops TFLite lacks, e.g. Mod)."""
    inputs = [ctx.input(node, i) for i in range(len(node.input))]
    present = [(name, v) for name, v in zip(node.input, inputs, strict=True) if v is not None]
    if not present or any(not v.is_const for _, v in present) or node.op_type in _NONDETERMINISTIC:
        return False
    if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for a in node.attribute):
        return False
    from onnx import helper
    from onnx.reference import ReferenceEvaluator

    def info(name: str, value: np.ndarray) -> onnx.ValueInfoProto:
        return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(value.dtype), value.shape)

    try:
        graph = helper.make_graph([node], "fold", [info(n, v.const) for n, v in present],
                                  [helper.make_empty_tensor_value_info(o) for o in node.output if o])
        domain = node.domain if node.domain not in ("", "ai.onnx") else ""
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid(domain, ctx.opset)])
        results = ReferenceEvaluator(model).run(None, {n: v.const for n, v in present})
    except Exception:  # noqa: BLE001 - not evaluable here: the node stays unsupported
        return False
    for name, result in zip([o for o in node.output if o], results, strict=True):
        ctx.bind(name, ctx.constant(np.asarray(result), name))
    return True


def _custom_op(ctx: Context, node: onnx.NodeProto, key: str) -> None:
    """Keep an unconvertible node as a CUSTOM op (its NodeProto bytes as custom options)."""
    inputs = [ctx.input(node, i) for i in range(len(node.input))]
    ctx.emit("CUSTOM", inputs, None, custom_code=key, custom_options=node.SerializeToString(),
             shapes=[ctx.info(o)[0] or () for o in node.output])


def _convert_subgraph(ctx: Context, graph: onnx.GraphProto, conversion: Conversion,
                      allow_custom_ops: bool) -> list[Value]:
    outer_node = ctx.node
    for tensor in graph.initializer:
        ctx.bind(tensor.name, ctx.constant(numpy_helper.to_array(tensor), tensor.name))
    _convert_nodes(ctx, graph_io.topological(graph.node, set(ctx.values)), conversion, allow_custom_ops)
    ctx.node = outer_node
    return [ctx.value(o.name) for o in graph.output]


def unsupported_message(unsupported: Mapping[str, list[str]], opset: int) -> str:
    """One message naming every unsupported op type, its nodes and the opset."""
    lines = [f"{len(unsupported)} ONNX op type(s) cannot be converted (opset {opset}): "
             + ", ".join(sorted(unsupported))]
    for op_type in sorted(unsupported):
        nodes = unsupported[op_type]
        shown = ", ".join(nodes[:5]) + (f", ... ({len(nodes)} nodes)" if len(nodes) > 5 else "")
        lines.append(f"  {op_type}: {shown}")
    lines.append("pass allow_custom_ops=True (--allow-custom-ops) to keep them as custom ops")
    return "\n".join(lines)

