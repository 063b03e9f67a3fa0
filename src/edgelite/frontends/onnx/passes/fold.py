"""Constant folding: operators whose inputs are all constant run once, with edgelite's reference
kernels, and their outputs become constant tensors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from edgelite.model.ir import Model, Operator, Tensor, TensorType
from edgelite.ops.base import Node
from edgelite.ops.registry import lookup

FOLD_LIMIT = 1 << 27  # output elements


def evaluate(opcode: str, options: Any, inputs: Sequence[np.ndarray | None], shapes: Sequence[tuple],
             dtypes: Sequence[Any]) -> list[np.ndarray] | None:
    """Run one builtin op on constant inputs; None when edgelite has no kernel or it fails."""
    opdef = lookup(opcode)
    if opdef is None:
        return None
    tensors = [None if a is None else Tensor(f"in{i}", tuple(a.shape), TensorType.from_numpy(a.dtype))
               for i, a in enumerate(inputs)]
    out_tensors = [Tensor(f"out{k}", tuple(s), TensorType.from_numpy(d))
                   for k, (s, d) in enumerate(zip(shapes, dtypes, strict=True))]
    op = Operator(opcode, tuple(-1 if a is None else i for i, a in enumerate(inputs)),
                  tuple(range(len(shapes))), options)
    node = Node(0, op, tensors, out_tensors, [None if a is None else tuple(a.shape) for a in inputs],
                list(inputs))
    node.outputs = [np.zeros(s, dtype=d) for s, d in zip(shapes, dtypes, strict=True)]
    try:
        if opdef.check is not None:
            opdef.check(node)
        opdef.run(node)
    except Exception:  # noqa: BLE001 - folding is an optimisation; the op stays in the graph
        return None
    return node.outputs


def fold_constants(model: Model, subgraph_index: int = 0) -> int:
    """Fold every operator with all-constant inputs (not feeding a graph output); return the count."""
    graph = model.subgraphs[subgraph_index]
    kept, folded = [], 0
    for op in graph.operators:
        values = [None if i < 0 else model.constant(graph.tensors[i]) for i in op.inputs]
        outs = [graph.tensors[k] for k in op.outputs]
        foldable = (op.opcode != "CUSTOM" and any(i >= 0 for i in op.inputs)
                    and all(v is not None for v, i in zip(values, op.inputs, strict=True) if i >= 0)
                    and not set(op.outputs) & set(graph.outputs)
                    and all(t.shape_signature is None and t.type.itemsize for t in outs)
                    and all(np.prod(t.shape, dtype=np.int64) <= FOLD_LIMIT for t in outs))
        results = evaluate(op.opcode, op.options, values, [t.shape for t in outs],
                           [t.dtype for t in outs]) if foldable else _static_shape(graph, op)
        if results is None:
            kept.append(op)
            continue
        for tensor, result in zip(outs, results, strict=True):
            tensor.buffer = model.add_buffer(result) if result.size else 0
        folded += 1
    graph.operators = kept
    return folded


def _static_shape(graph, op: Operator) -> list[np.ndarray] | None:
    """SHAPE of a tensor whose shape is fully static is a constant."""
    if op.opcode != "SHAPE" or op.outputs[0] in graph.outputs:
        return None
    source = graph.tensors[op.inputs[0]]
    if source.shape_signature is not None and -1 in source.shape_signature or not source.has_rank:
        return None
    return [np.asarray(source.shape, dtype=graph.tensors[op.outputs[0]].dtype)]
