"""Lowering of FULLY_CONNECTED, 1x1 CONV_2D and BATCH_MATMUL with sparse constant weights to the
native engine's SPMM (float32) and QSPMM (int8) ops (native/ops_sparse.c, include/el_sparse.h).

The weights are the reference's own SparseMatrix (ops/_sparsity.py: block-CSR over the output
channels, blocks of the file's block size along the depth), so both executors skip the same
zeros; here they are flattened to the engine's tables: float32 values or int8 pairs of int16
weights, and one int32 index (row pointers, then block columns, in int16-pair units for int8).
Requantization constants come from the same helpers as the dense int8 lowering (ruy rounding).
`install` routes nodes whose weights are sparse here, the others to the dense lowerers.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops import _quant, _sparsity
from edgelite.ops._conv import output_stage
from edgelite.ops._matmul import effective_scale
from edgelite.ops.batch_matmul import sparse_rhs
from edgelite.ops.conv_2d import _pointwise
from edgelite.runtime import native_int8
from edgelite.runtime.native import Lowering, Unsupported, _clamp, _Record, route

SPMM_MT = 32  # include/el_sparse.h: EL_SPMM_MT
SPARSE_OPS = ("FULLY_CONNECTED", "CONV_2D", "BATCH_MATMUL")


def f32_slice_floats(k: int) -> int:
    """ops_sparse.c's f32_slice_bytes, in floats: one transposed tile of EL_SPMM_MT rows."""
    return -(-(k * SPMM_MT * 4) // 64) * 16


def q_slice_floats(k: int) -> int:
    """ops_sparse.c's q_slice_bytes, in floats: a tile of int16 pairs."""
    return -(-((k + k % 2) * SPMM_MT * 2) // 64) * 16


def index_table(sparse: _sparsity.SparseMatrix, pairs: bool) -> np.ndarray:
    """int32 row pointers then block starts (columns, or int16-pair indices for int8)."""
    starts = sparse.cols // 2 if pairs else sparse.cols
    return np.concatenate([sparse.row_ptr, starts]).astype(np.int32)


def int8_tables(sparse: _sparsity.SparseMatrix) -> tuple[np.ndarray, np.ndarray]:
    """(words, index) of int8 weights: each block's weights as int32 words of two int16 (low half
    first), the index's block starts in int16-pair units. Single weights (block 1) go by column
    pairs: one word per pair of columns (2p, 2p + 1) holding a non-zero, so two neighbours share it."""
    if sparse.block > 1:
        words = np.ascontiguousarray(sparse.values.astype(np.int16)).view(np.int32).reshape(-1)
        return words, index_table(sparse, pairs=True)
    n, k = sparse.shape
    dense = np.zeros((n, k + k % 2), np.int16)
    dense[:, :k] = sparse.dense()
    pairs = dense.reshape(n, -1, 2)
    keep = pairs.any(axis=-1)
    row_ptr = np.concatenate([[0], np.cumsum(keep.sum(axis=1))])
    words = np.ascontiguousarray(pairs[keep]).view(np.int32).reshape(-1)
    return words, np.concatenate([row_ptr, np.nonzero(keep)[1]]).astype(np.int32)


def _geometry(node) -> tuple[_sparsity.SparseMatrix, int, list[int], int]:
    """(weights, mode, strides, bias input) of a node the sparse ops run, or Unsupported."""
    name = node.op.name
    if name == "FULLY_CONNECTED":
        if getattr(node.options, "weights_format", 0) != 0 or len(node.input_shapes[1]) != 2:
            raise Unsupported("FULLY_CONNECTED weights format")
        return _sparsity.weight_matrix(node, 1), 0, [1, 1], 2
    if name == "CONV_2D":
        if not _pointwise(node):
            raise Unsupported("sparse CONV_2D other than an ungrouped 1x1 convolution")
        return _sparsity.weight_matrix(node, 1), 1, [node.options.stride_h, node.options.stride_w], 2
    sparse = sparse_rhs(node)
    if sparse is None or node.options.adj_x:
        raise Unsupported("BATCH_MATMUL with a transposed lhs or a batched / hybrid sparse rhs")
    return sparse, 0, [1, 1], -1


def lower_sparse(lw: Lowering, node) -> _Record:
    sparse, mode, strides, bias_at = _geometry(node)
    x_id, out_id = node.op.inputs[0], node.op.outputs[0]
    bias_id = node.op.inputs[bias_at] if 0 <= bias_at < len(node.op.inputs) else -1
    n, k = sparse.shape
    shape = [mode, k, n, sparse.block, sparse.nnz_blocks]  # int8 single weights: pairs (int8_tables)
    x_type, w_type = node.input_tensors[0].type, node.input_tensors[1].type
    if x_type == w_type == TensorType.FLOAT32:
        bias = np.zeros(n, np.float32) if bias_id < 0 else lw.constant(bias_id)
        inputs = [lw.tensor(x_id), lw.extra(sparse.values.reshape(-1)),
                  native_int8.extra(lw, index_table(sparse, False), native_int8.I32), lw.extra(bias),
                  lw.scratch(f32_slice_floats(k))]
        return lw.node("SPMM", inputs, out_id, [*shape, *_clamp(node), *strides])
    if x_type == w_type == TensorType.INT8 and node.op.name != "BATCH_MATMUL":
        return _lower_int8(lw, node, sparse, shape, strides, x_id, out_id)
    raise Unsupported("sparse weights run natively for float32 and int8 FULLY_CONNECTED / CONV_2D only")


def _lower_int8(lw: Lowering, node, sparse, shape: list, strides: list, x_id: int, out_id: int) -> _Record:
    n, k = sparse.shape
    w_quant = _quant.quantization_of(node.input_tensors[1])
    if np.any(w_quant.zero_point):
        raise Unsupported("int8 sparse weights with a zero point")
    activation = node.options.fused_activation_function
    if node.op.name == "FULLY_CONNECTED":
        real = effective_scale(node, 0, 1, float_product=not w_quant.per_channel)
        multiplier, shift = _quant.quantize_multiplier(np.broadcast_to(real, (n,)))
        out_scale, out_zero = native_int8.quant(node.output_tensors[0])
        low, high = _quant.activation_range_quantized(activation, out_scale, out_zero, np.int8)
    else:
        stage = output_stage(node, 0, 1, n, activation)
        multiplier, shift, out_zero = stage.multiplier, stage.shift, stage.zero_point
        low, high = stage.low, stage.high
    channels = np.zeros((n, 4), np.int64)
    channels[:, 0] = _quant.wrap_int32(native_int8._bias(lw, node, n))
    channels[:, 1] = np.broadcast_to(multiplier, (n,))
    channels[:, 2] = np.broadcast_to(shift, (n,))
    words, index = int8_tables(sparse)
    shape[4] = index.size - n - 1
    tables = [native_int8.extra(lw, table, native_int8.I32)
              for table in (words, index, channels.astype(np.int32))]
    inputs = [native_int8.qtensor(lw, x_id), *tables, lw.scratch(q_slice_floats(k))]
    zero = native_int8.quant(node.input_tensors[0])[1]
    params = [*shape, zero, int(out_zero), int(low), int(high), *strides]
    return native_int8.record(lw, "QSPMM", inputs, out_id, params)


def _reads_sparse_weights(lw: Lowering, node) -> bool:
    weights = node.input_tensors[1] if len(node.input_tensors) > 1 else None
    return weights is not None and weights.sparsity is not None


def install(lowerers: dict[str, Callable]) -> None:
    """Route nodes of SPARSE_OPS whose weights are a sparse constant to lower_sparse (in place)."""
    route(lowerers, dict.fromkeys(SPARSE_OPS, lower_sparse), _reads_sparse_weights)
