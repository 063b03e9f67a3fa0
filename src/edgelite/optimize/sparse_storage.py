"""Sparse weights in TFLite's own format: SparsityParameters (ops/_sparsity.py) on a constant
that a DENSIFY op expands before its consumer, as TensorFlow's converter writes sparse float
weights. LiteRT expands it once at load; edgelite folds it at prepare.

Layouts tried (the smallest wins; dense is kept when sparse would not be smaller):
  csr          CSR over the last dimension (TFLite's "random sparse" layout)
  csr(rows)    CSR over the first dimension: only non-zero output channels are stored
  block(1,k)   blocks of k along the last dimension (k = 4, 16), CSR over the blocks
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from edgelite.model.ir import Model, Operator, Sparsity, Tensor
from edgelite.ops._sparsity import DENSE, SPARSE_CSR, decode, encode
from edgelite.ops.densify import DensifyOptions
from edgelite.optimize.quantize._graph import prune as drop_unused

LAYOUTS = ("csr", "csr(rows)", "block(1,4)", "block(1,16)")
OVERHEAD = 96  # bytes a DENSIFY op and one more tensor add to a file, about


def encode_layout(dense: np.ndarray, layout: str) -> tuple[np.ndarray, Sparsity] | None:
    """(values, Sparsity) of `dense` in `layout`, or None where the layout does not apply."""
    rank = dense.ndim
    if layout == "csr":
        return encode(dense)
    if layout == "csr(rows)":
        return encode(dense, formats=[SPARSE_CSR] + [DENSE] * (rank - 1)) if rank > 1 else None
    size = int(layout[len("block(1,"):-1])
    if dense.shape[-1] % size or rank < 2:
        return None
    return encode(dense, formats=[DENSE] * (rank - 1) + [SPARSE_CSR], block_size=[size],
                  block_map=[rank - 1])


def stored_bytes(values: np.ndarray, sparsity: Sparsity) -> int:
    index_bytes = sum(np.asarray(a).nbytes for level in sparsity.dim_metadata
                      for a in (level.array_segments, level.array_indices) if a is not None)
    return values.nbytes + index_bytes + 8 * len(sparsity.dim_metadata)


def best_layout(dense: np.ndarray, layouts: Iterable[str] = LAYOUTS):
    """(layout, values, sparsity) of the smallest layout that beats dense storage, or None."""
    best = None
    for layout in layouts:
        encoded = encode_layout(dense, layout)
        if encoded is None or encoded[0].size == 0:  # an empty buffer would mean "no data"
            continue
        size = stored_bytes(*encoded)
        if best is None or size < best[0]:
            best = (size, layout, *encoded)
    if best is None or best[0] + OVERHEAD >= dense.nbytes:
        return None
    return best[1:]


def store_sparse(model: Model, tensors: Iterable[int], layouts: Iterable[str] | str = LAYOUTS,
                 force: bool = False) -> dict[int, str]:
    """Store each constant of subgraph 0 in `tensors` sparse behind a DENSIFY op where that is
    smaller (always, with `force`). Returns tensor index -> layout ("dense" where kept dense)."""
    layouts = (layouts,) if isinstance(layouts, str) else tuple(layouts)
    graph = model.subgraphs[0]
    chosen, densify_ops = {}, []
    for index in tensors:
        tensor = graph.tensors[index]
        dense = model.constant(tensor)
        if dense is None or tensor.sparsity is not None:
            continue
        found = best_layout(dense, layouts) if not force else _forced(dense, layouts[0])
        chosen[index] = "dense" if found is None else found[0]
        if found is None:
            continue
        _, values, sparsity = found
        graph.tensors.append(Tensor(tensor.name + "_sparse", tensor.shape, tensor.type,
                                    model.add_buffer(values), tensor.quantization, sparsity,
                                    shape_signature=tensor.shape_signature))
        tensor.buffer, tensor.lut = 0, False  # now DENSIFY's output; its consumers keep reading it
        densify_ops.append(Operator("DENSIFY", (len(graph.tensors) - 1,), (index,), DensifyOptions()))
    graph.operators[:0] = densify_ops
    drop_unused(model)
    return chosen


def _forced(dense: np.ndarray, layout: str):
    encoded = encode_layout(dense, layout)
    return None if encoded is None or encoded[0].size == 0 else (layout, *encoded)


def densify_constants(model: Model) -> int:
    """Fold DENSIFY ops of constant sparse tensors (and sparse constants read directly) back to
    dense constants, so that later passes see plain weights. Returns how many were expanded."""
    expanded = 0
    for graph in model.subgraphs:
        kept = []
        for op in graph.operators:
            source = graph.tensors[op.inputs[0]] if op.opcode == "DENSIFY" else None
            if source is None or source.sparsity is None or model.constant(source) is None:
                kept.append(op)
                continue
            target = graph.tensors[op.outputs[0]]
            target.buffer = model.add_buffer(_dense(model, source))
            expanded += 1
        graph.operators = kept
        for op in graph.operators:
            for i in op.inputs:
                tensor = graph.tensors[i] if i >= 0 else None
                if tensor is not None and tensor.sparsity is not None and model.constant(tensor) is not None:
                    tensor.buffer = model.add_buffer(_dense(model, tensor))
                    tensor.sparsity = None
                    expanded += 1
    if expanded:
        drop_unused(model)
    return expanded


def _dense(model: Model, tensor: Tensor) -> np.ndarray:
    raw = np.ascontiguousarray(model.constant(tensor)).reshape(-1).view(np.uint8)
    return decode(raw.view(tensor.dtype), tensor.shape, tensor.sparsity)
