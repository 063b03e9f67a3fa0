"""Small graph-editing helpers for the quantization modes: new tensors, constants, use maps, pruning."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from edgelite.model.ir import Model, Operator, Quantization, Subgraph, Tensor, TensorType


def is_constant(model: Model, tensor: Tensor) -> bool:
    return model.constant(tensor) is not None


def add_tensor(graph: Subgraph, name: str, like: Tensor, type_: TensorType,
               quantization: Quantization | None = None) -> int:
    """A new activation tensor shaped like `like` (no buffer of its own: buffer 0)."""
    graph.tensors.append(Tensor(name, like.shape, type_, 0, quantization,
                                shape_signature=like.shape_signature, has_rank=like.has_rank))
    return len(graph.tensors) - 1


def add_constant(model: Model, graph: Subgraph, name: str, values: np.ndarray, type_: TensorType,
                 quantization: Quantization | None = None) -> int:
    """A new constant tensor holding `values` (stored little-endian in a new buffer)."""
    data = np.ascontiguousarray(values, dtype=type_.numpy)
    graph.tensors.append(Tensor(name, tuple(data.shape), type_, model.add_buffer(data), quantization))
    return len(graph.tensors) - 1


def consumers(graph: Subgraph) -> dict[int, list[int]]:
    """Tensor index -> indices of the operators reading it."""
    readers: dict[int, list[int]] = defaultdict(list)
    for position, op in enumerate(graph.operators):
        for i in op.inputs:
            if i >= 0 and position not in readers[i]:
                readers[i].append(position)
    return readers


def producers(graph: Subgraph) -> dict[int, int]:
    """Tensor index -> index of the operator writing it."""
    return {i: position for position, op in enumerate(graph.operators) for i in op.outputs if i >= 0}


def replace_input(op: Operator, old: int, new: int) -> None:
    op.inputs = tuple(new if i == old else i for i in op.inputs)


def prune(model: Model) -> None:
    """Drop tensors no operator, graph I/O or signature refers to, then buffers no tensor uses."""
    for position, graph in enumerate(model.subgraphs):
        used = set(graph.inputs) | set(graph.outputs)
        for op in graph.operators:
            used |= {i for i in (*op.inputs, *op.outputs, *op.intermediates) if i >= 0}
        for signature in model.signatures:
            if signature.subgraph_index == position:
                used |= set(signature.inputs.values()) | set(signature.outputs.values())
        keep = sorted(used)
        remap = {old: new for new, old in enumerate(keep)}
        graph.tensors = [graph.tensors[i] for i in keep]

        def moved(indices: tuple[int, ...], remap: dict[int, int] = remap) -> tuple[int, ...]:
            return tuple(remap[i] if i >= 0 else i for i in indices)

        graph.inputs, graph.outputs = moved(graph.inputs), moved(graph.outputs)
        for op in graph.operators:
            op.inputs, op.outputs, op.intermediates = moved(op.inputs), moved(op.outputs), moved(
                op.intermediates)
        for signature in model.signatures:
            if signature.subgraph_index == position:
                signature.inputs = {k: remap[v] for k, v in signature.inputs.items()}
                signature.outputs = {k: remap[v] for k, v in signature.outputs.items()}
    _prune_buffers(model)


def _prune_buffers(model: Model) -> None:
    """Keep used buffers only, one copy of identical constant data (as TensorFlow's converter);
    tensors without data point at the schema's empty buffer 0."""
    first_copy: dict[bytes, int] = {}
    for graph in model.subgraphs:
        for tensor in graph.tensors:
            data = model.buffers[tensor.buffer] if 0 <= tensor.buffer < len(model.buffers) else None
            if data is None or data.size == 0:
                tensor.buffer = 0
            elif not tensor.is_variable:
                tensor.buffer = first_copy.setdefault(data.tobytes(), tensor.buffer)
    used = {0} | set(model.metadata.values())
    used |= {t.buffer for graph in model.subgraphs for t in graph.tensors}
    keep = sorted(b for b in used if 0 <= b < len(model.buffers))
    remap = {old: new for new, old in enumerate(keep)}
    model.buffers = [model.buffers[b] for b in keep]
    for graph in model.subgraphs:
        for tensor in graph.tensors:
            tensor.buffer = remap.get(tensor.buffer, 0)
    model.metadata = {name: remap[b] for name, b in model.metadata.items()}


def drop_stale_metadata(model: Model) -> None:
    """Remove metadata that quantization makes wrong (the float model's minimum runtime version)."""
    model.metadata.pop("min_runtime_version", None)
