"""Loading and preparing an ONNX graph (torch export, shape pinning, inference) and its inputs/outputs."""

from __future__ import annotations

import inspect
import io
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper

from edgelite.errors import ConversionError
from edgelite.frontends.onnx.context import Context, Shape, Value, nchw_to_nhwc_perm, nhwc_to_nchw_perm


def load(model: Any, example_inputs: Any = None) -> onnx.ModelProto:
    """A ModelProto from a ModelProto, a path, serialized bytes, or a torch.nn.Module."""
    if isinstance(model, onnx.ModelProto):
        return model
    if isinstance(model, (str, os.PathLike)):
        try:
            return onnx.load(os.fspath(model))
        except (OSError, onnx.onnx_cpp2py_export.checker.ValidationError) as error:
            raise ConversionError(f"cannot read ONNX model {os.fspath(model)!r}: {error}") from error
        except Exception as error:  # protobuf DecodeError
            raise ConversionError(f"{os.fspath(model)!r} is not an ONNX model: {error}") from error
    if isinstance(model, (bytes, bytearray)):
        return onnx.load_from_string(bytes(model))
    if type(model).__module__.startswith("torch") or hasattr(model, "state_dict"):
        return export_torch(model, example_inputs)
    raise TypeError(f"cannot convert a {type(model).__name__}: pass an onnx.ModelProto, a path to a "
                    ".onnx file, or a torch.nn.Module with example_inputs=")


def export_torch(module: Any, example_inputs: Any, opset: int = 17) -> onnx.ModelProto:
    """Export a torch.nn.Module with torch.onnx (TorchScript exporter, dynamo=False)."""
    if example_inputs is None:
        raise ConversionError("converting a torch module needs example_inputs=(tensor, ...)")
    import torch

    if not isinstance(example_inputs, tuple):
        example_inputs = (example_inputs,)
    buffer = io.BytesIO()
    module.eval()
    mha = getattr(torch.backends, "mha", None)  # fused inference kernels have no ONNX export
    fastpath = mha.get_fastpath_enabled() if mha is not None else None
    try:
        if mha is not None:
            mha.set_fastpath_enabled(False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter is what we want
            kwargs = {"dynamo": False} if "dynamo" in torch.onnx.export.__code__.co_varnames else {}
            torch.onnx.export(_Positional(module), example_inputs, buffer, opset_version=opset,
                              do_constant_folding=True, input_names=_input_names(module, len(example_inputs)),
                              **kwargs)
    finally:
        if mha is not None:
            mha.set_fastpath_enabled(fastpath)
    return onnx.load_from_string(buffer.getvalue())


def _input_names(module: Any, count: int) -> list[str]:
    """The module's forward() parameter names for the example inputs (input_0... otherwise)."""
    try:
        names = [p.name for p in inspect.signature(module.forward).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    return names[:count] if len(names) >= count else [f"input_{i}" for i in range(count)]


def _Positional(module: Any) -> Any:  # noqa: N802 - builds a module class lazily (torch is optional)
    """module called with the example inputs only, so the exporter never traces forward()'s
    defaulted arguments (TransformerEncoderLayer's is_causal would become a tensor)."""
    import torch

    class Positional(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = module

        def forward(self, *args: Any) -> Any:
            return self.inner(*args)

    return Positional().eval()


def prepare(model: onnx.ModelProto, input_shapes: Mapping[str, Sequence[int]]) -> onnx.ModelProto:
    """Check the model, pin input shapes and run ONNX shape inference (on a copy)."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    known = {i.name for i in copy.graph.input}
    for name, shape in input_shapes.items():
        if name not in known:
            raise ConversionError(f"input_shapes names {name!r}, not an input of the model "
                                  f"(inputs: {', '.join(sorted(known))})")
        graph_input = next(i for i in copy.graph.input if i.name == name)
        dims = graph_input.type.tensor_type.shape.dim
        if len(dims) and len(dims) != len(shape):
            raise ConversionError(f"input_shapes[{name!r}] = {list(shape)} has rank {len(shape)}, "
                                  f"the model's input has rank {len(dims)}")
        del dims[:]
        for d in shape:
            graph_input.type.tensor_type.shape.dim.add().dim_value = int(d)
    try:
        inferred = onnx.shape_inference.infer_shapes(copy, data_prop=True)
    except Exception:  # noqa: BLE001 - inference is best-effort; edgelite's shape functions remain
        inferred = copy
    try:
        onnx.checker.check_model(inferred)
    except onnx.checker.ValidationError as error:
        if "No Op registered" in str(error):  # an unknown op: reported with the other unsupported ones
            return inferred
        raise ConversionError(f"the ONNX model is invalid: {str(error).splitlines()[0]}") from error
    return inferred


def _dims(type_proto: onnx.TypeProto) -> tuple[Shape | None, Shape | None]:
    tensor_type = type_proto.tensor_type
    if not tensor_type.HasField("shape"):
        return None, None
    shape, signature = [], []
    for dim in tensor_type.shape.dim:
        static = dim.HasField("dim_value") and dim.dim_value >= 0
        shape.append(int(dim.dim_value) if static else 1)
        signature.append(int(dim.dim_value) if static else -1)
    return tuple(shape), (tuple(signature) if -1 in signature else None)


def _dtype(type_proto: onnx.TypeProto) -> np.dtype | None:
    if not type_proto.HasField("tensor_type") or not type_proto.tensor_type.elem_type:
        return None
    try:
        return np.dtype(helper.tensor_dtype_to_np_dtype(type_proto.tensor_type.elem_type))
    except (KeyError, TypeError, ValueError):
        return None


def value_info(graph: onnx.GraphProto) -> dict[str, tuple[Shape | None, Shape | None, np.dtype | None]]:
    """ONNX name -> (concrete shape, signature, dtype) for every typed name, subgraphs included."""
    info = {}
    for entry in (*graph.input, *graph.value_info, *graph.output):
        if entry.type.HasField("tensor_type"):
            info[entry.name] = (*_dims(entry.type), _dtype(entry.type))
    for node in graph.node:
        for attribute in node.attribute:
            for sub in (*([attribute.g] if attribute.HasField("g") else []), *attribute.graphs):
                info.update({k: v for k, v in value_info(sub).items() if k not in info})
    return info


def add_input(ctx: Context, graph_input: onnx.ValueInfoProto, nhwc_io: bool) -> Value:
    """A graph input keeping its ONNX name; with nhwc_io a rank-4 input is NHWC + a TRANSPOSE."""
    shape, signature, dtype = ctx.info(graph_input.name)
    if dtype is None:
        raise ConversionError(f"graph input {graph_input.name!r} has no tensor type")
    if shape is None:
        raise ConversionError(f"graph input {graph_input.name!r} has no shape: pass "
                              f"input_shapes={{'{graph_input.name}': [...]}}")
    if not (nhwc_io and len(shape) == 4):
        value = ctx.new_value(graph_input.name, shape, dtype, signature)
        ctx.bind(graph_input.name, value)
        return value
    perm = nchw_to_nhwc_perm(4)
    value = ctx.new_value(graph_input.name, tuple(shape[p] for p in perm), dtype,
                          None if signature is None else tuple(signature[p] for p in perm))
    ctx.transpose(value, nhwc_to_nchw_perm(4), outputs=[graph_input.name])
    return value


def add_output(ctx: Context, graph_output: onnx.ValueInfoProto, nhwc_io: bool, taken: set[int]) -> int:
    """The tensor index of a graph output, named as in ONNX; a copy when the tensor is a constant,
    a graph input or already another output (`taken`: the indices of those so far)."""
    name = graph_output.name
    value = ctx.value(name)
    if nhwc_io and value.shape is not None and len(value.shape) == 4:
        index = ctx.transpose(value, nchw_to_nhwc_perm(4)).index
        tensor = ctx.graph.tensors[index]
        tensor.name = ctx.rename(tensor.name, name)
        return index
    if value.index is None or value.index in taken:
        if value.shape is None:
            raise ConversionError(f"graph output {name!r} has an unknown shape")
        dims = value.signature or value.shape
        if list(dims).count(-1) > 1:
            raise ConversionError(f"graph output {name!r} copies a tensor with several dynamic dims")
        shape = ctx.constant(np.asarray(dims, dtype=np.int32), f"{name}/shape")
        fold, ctx.fold = ctx.fold, False  # the copy must stay an op
        copy = ctx.emit("RESHAPE", [value, shape], {"new_shape": tuple(dims)}, outputs=1)[0]
        ctx.fold = fold
        ctx.graph.tensors[copy.index].name = name  # may repeat an input's name: TFLite allows it
        return copy.index
    tensor = ctx.graph.tensors[value.index]
    if tensor.name != name:
        tensor.name = ctx.rename(tensor.name, name)
    return value.index


def topological(nodes: Iterable[onnx.NodeProto], available: set[str]) -> list[onnx.NodeProto]:
    """Nodes in an order where every input is produced first (ONNX order when it already is)."""
    nodes = list(nodes)
    available = set(available) | {""}
    ordered, pending = [], nodes
    while pending:
        progressed, waiting = False, []
        for node in pending:
            needed = set(node.input) | _outer_names(node)
            if needed <= available:
                ordered.append(node)
                available.update(node.output)
                progressed = True
            else:
                waiting.append(node)
        if not progressed:
            missing = sorted({i for n in waiting for i in n.input if i not in available})
            raise ConversionError(f"the ONNX graph has a cycle or undefined inputs: {missing[:5]}")
        pending = waiting
    return ordered


def _outer_names(node: onnx.NodeProto) -> set[str]:
    """Names a node's subgraphs read from the enclosing scope (so If/Loop come after them)."""
    names: set[str] = set()
    for attribute in node.attribute:
        for sub in (*([attribute.g] if attribute.HasField("g") else []), *attribute.graphs):
            local = {t.name for t in sub.initializer} | {i.name for i in sub.input}
            local |= {o for n in sub.node for o in n.output}
            for inner in sub.node:
                names |= {i for i in inner.input if i and i not in local}
                names |= _outer_names(inner) - local
    return names
