"""Identity removal and dead-code elimination (operators, tensors and buffers nobody uses)."""

from __future__ import annotations

import numpy as np

from edgelite.model.ir import Model, Subgraph


def consumers(graph: Subgraph) -> dict[int, list[int]]:
    """Tensor index -> indices of the operators reading it."""
    readers: dict[int, list[int]] = {}
    for k, op in enumerate(graph.operators):
        for i in op.inputs:
            if i >= 0:
                readers.setdefault(i, []).append(k)
    return readers


def producers(graph: Subgraph) -> dict[int, int]:
    """Tensor index -> index of the operator writing it."""
    return {i: k for k, op in enumerate(graph.operators) for i in op.outputs}


def replace_uses(graph: Subgraph, old: int, new: int) -> None:
    """Make every operator that reads tensor `old` read `new` instead."""
    for op in graph.operators:
        if old in op.inputs:
            op.inputs = tuple(new if i == old else i for i in op.inputs)


def _is_identity(model: Model, graph: Subgraph, op) -> bool:
    if not op.inputs or op.inputs[0] < 0 or len(op.outputs) != 1:
        return False
    source, result = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    def key(t):
        return t.shape, t.type, t.shape_signature

    if key(source) != key(result):
        return False
    if source.quantization is not None or result.quantization is not None:
        return False
    constants = [None if i < 0 else model.constant(graph.tensors[i]) for i in op.inputs[1:]]
    if op.opcode in ("RESHAPE", "CAST", "SQUEEZE", "EXPAND_DIMS"):
        return True
    if op.opcode == "TRANSPOSE":
        return constants[0] is not None and list(constants[0]) == list(range(len(source.shape)))
    activation = getattr(op.options, "fused_activation_function", 0)
    if activation or len(constants) != 1 or constants[0] is None:
        return False
    neutral = {"ADD": 0, "SUB": 0, "MUL": 1, "DIV": 1}.get(op.opcode)
    return neutral is not None and bool(np.all(constants[0] == neutral))


def remove_identities(model: Model, subgraph_index: int = 0) -> int:
    """Drop ops that copy their input (same-shape RESHAPE, identity TRANSPOSE, x+0, x*1, ...)."""
    graph = model.subgraphs[subgraph_index]
    removed, kept = 0, []
    protected = set(graph.outputs)
    for op in graph.operators:
        if _is_identity(model, graph, op) and op.outputs[0] not in protected:
            replace_uses(graph, op.outputs[0], op.inputs[0])
            removed += 1
        else:
            kept.append(op)
    graph.operators = kept
    return removed


def remove_dead_code(model: Model, subgraph_index: int = 0) -> int:
    """Remove operators whose outputs nothing reads, then unused tensors and buffers."""
    graph = model.subgraphs[subgraph_index]
    live = set(graph.outputs)
    kept = []
    for op in reversed(graph.operators):
        if any(i in live for i in op.outputs):
            kept.append(op)
            live.update(i for i in (*op.inputs, *op.intermediates) if i >= 0)
    removed = len(graph.operators) - len(kept)
    graph.operators = kept[::-1]
    _compact_tensors(model, subgraph_index)
    if len(model.subgraphs) == 1:
        _compact_buffers(model)
    return removed


def _compact_tensors(model: Model, subgraph_index: int) -> None:
    graph = model.subgraphs[subgraph_index]
    used = set(graph.inputs) | set(graph.outputs)
    for op in graph.operators:
        used.update(i for i in (*op.inputs, *op.outputs, *op.intermediates) if i >= 0)
    order = sorted(used)
    remap = {old: new for new, old in enumerate(order)}
    graph.tensors = [graph.tensors[i] for i in order]

    def fix(indices: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(remap[i] if i >= 0 else i for i in indices)

    for op in graph.operators:
        op.inputs, op.outputs, op.intermediates = fix(op.inputs), fix(op.outputs), fix(op.intermediates)
    graph.inputs, graph.outputs = fix(graph.inputs), fix(graph.outputs)
    for signature in model.signatures:
        if signature.subgraph_index == subgraph_index:
            signature.inputs = {k: remap[i] for k, i in signature.inputs.items()}
            signature.outputs = {k: remap[i] for k, i in signature.outputs.items()}


def _compact_buffers(model: Model) -> None:
    used = {0} | {t.buffer for g in model.subgraphs for t in g.tensors} | set(model.metadata.values())
    order = sorted(b for b in used if b < len(model.buffers))
    remap = {old: new for new, old in enumerate(order)}
    model.buffers = [model.buffers[b] for b in order]
    for graph in model.subgraphs:
        for tensor in graph.tensors:
            tensor.buffer = remap.get(tensor.buffer, 0)
    model.metadata = {name: remap[b] for name, b in model.metadata.items()}
