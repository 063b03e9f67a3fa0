"""TRANSPOSE -> RESHAPE (flatten) -> FULLY_CONNECTED: flatten NHWC directly and permute the
weights' columns instead, so the classifier head of a CNN needs no data-moving transpose."""

from __future__ import annotations

import numpy as np

from edgelite.frontends.onnx.passes.layout import inverse, perm_of
from edgelite.frontends.onnx.passes.rewrite import Rewriter
from edgelite.model.ir import Model


def transpose_into_fully_connected(model: Model, subgraph_index: int = 0) -> int:
    """Drop a transpose feeding a flatten whose only reader is a FULLY_CONNECTED with constant
    weights, permuting the weight columns to the untransposed order; return the count."""
    rw, count = Rewriter(model, subgraph_index), 0
    for fc in list(rw.graph.operators):
        if fc.opcode != "FULLY_CONNECTED" or fc.options.keep_num_dims:
            continue
        readers, producers = rw.consumers(), rw.producers()
        flat = fc.inputs[0]
        reshape = producers.get(flat)
        weights = rw.const(fc.inputs[1])
        if reshape is None or reshape.opcode != "RESHAPE" or weights is None or weights.dtype != np.float32:
            continue
        transpose = producers.get(reshape.inputs[0])
        perm = perm_of(rw, transpose) if transpose is not None else None
        if perm is None or perm[0] != 0 or len(readers.get(flat, [])) != 1 or flat in rw.graph.outputs:
            continue
        if len(readers.get(reshape.inputs[0], [])) != 1 or reshape.inputs[0] in rw.graph.outputs:
            continue
        t = rw.tensor(reshape.inputs[0])
        if len(rw.tensor(flat).shape) != 2 or rw.tensor(flat).shape[1] != int(np.prod(t.shape[1:])):
            continue
        inv = inverse(perm)
        per_unit = weights.reshape(weights.shape[0], *t.shape[1:])
        moved = np.ascontiguousarray(per_unit.transpose([0, *inv[1:]]).reshape(weights.shape))
        name = rw.tensor(fc.inputs[1]).name
        fc.inputs = (fc.inputs[0], rw.add_const(moved, f"{name}/nhwc"), *fc.inputs[2:])
        reshape.inputs = (transpose.inputs[0], *reshape.inputs[1:])
        count += 1
    return count
