"""BATCH_MATMUL: lhs [..., m, k] x rhs [..., k, n] (adj_x/adj_y transpose the last two axes),
batch dimensions broadcast; ranks 2 to 5 as in TFLite.

Kernels: float32; int8 and int16 (both operands of the output's type, per-tensor scales);
hybrid (float32 lhs, int8 rhs with one scale). See ops/_matmul.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops import _matmul, _quant, _sparsity
from edgelite.ops.base import Node, OpDef


@dataclass
class BatchMatMulOptions:
    table: ClassVar[str] = "BatchMatMulOptions"
    adj_x: bool = False
    adj_y: bool = False
    asymmetric_quantize_inputs: bool = False


def _matrices(node: Node) -> tuple[tuple, tuple, int, int, int, int]:
    """Batch dims of lhs and rhs, extended to the output rank, and (rows, lhs depth, rhs depth, cols)."""
    lhs, rhs = node.input_shapes[0], node.input_shapes[1]
    rank = max(len(lhs), len(rhs))
    lhs, rhs = (1,) * (rank - len(lhs)) + tuple(lhs), (1,) * (rank - len(rhs)) + tuple(rhs)
    o = node.options
    rows, depth = (lhs[-1], lhs[-2]) if o.adj_x else (lhs[-2], lhs[-1])
    rhs_depth, cols = (rhs[-1], rhs[-2]) if o.adj_y else (rhs[-2], rhs[-1])
    return lhs[:-2], rhs[:-2], rows, depth, rhs_depth, cols


def shape(node: Node) -> list:
    lhs_batch, rhs_batch, rows, _, _, cols = _matrices(node)
    batch = tuple(b if a == 1 else a for a, b in zip(lhs_batch, rhs_batch, strict=True))
    return [(*batch, rows, cols)]


TYPES = frozenset({TensorType.FLOAT32, TensorType.INT8, TensorType.INT16})


def check(node: Node) -> None:
    _check_types(node)
    _sparsity.dense_input(node, 1)  # sparse rhs: validated (and indexed) once, here
    for i in range(2):
        if not 2 <= len(node.input_shapes[i]) <= 5:
            raise ModelError(f"{node.describe()}: input {i} has shape {tuple(node.input_shapes[i])}; "
                             "BATCH_MATMUL takes ranks 2 to 5")
    lhs_batch, rhs_batch, _, depth, rhs_depth, _ = _matrices(node)
    if any(a != b and 1 not in (a, b) for a, b in zip(lhs_batch, rhs_batch, strict=True)):
        raise ModelError(f"{node.describe()}: batch dimensions {lhs_batch} and {rhs_batch} do not broadcast")
    if depth != rhs_depth:
        raise ModelError(f"{node.describe()}: lhs {tuple(node.input_shapes[0])} and rhs "
                         f"{tuple(node.input_shapes[1])} disagree on the contracted size "
                         f"({depth} vs {rhs_depth}; adj_x={node.options.adj_x}, adj_y={node.options.adj_y})")


def _check_types(node: Node) -> None:
    lhs, rhs, out = node.input_type(0), node.input_type(1), node.output_tensors[0].type
    hybrid = lhs == TensorType.FLOAT32 and rhs == TensorType.INT8
    if not (lhs == rhs == out or (hybrid and out == TensorType.FLOAT32)):
        raise node.unsupported(f"lhs {lhs.name}, rhs {rhs.name} and output {out.name} is not supported; "
                               "use one type (float32, int8 or int16) for all three, or float32 lhs "
                               "and output with int8 rhs (hybrid)")
    if lhs == TensorType.FLOAT32 and not hybrid:
        return
    if hybrid and node.options.asymmetric_quantize_inputs:
        _check_hybrid_row_sums(node)
    quants = [_quant.quantization_of(node.input_tensors[1], "rhs")]
    if not hybrid:
        quants += [_quant.quantization_of(node.input_tensors[0], "lhs"),
                   _quant.quantization_of(node.output_tensors[0], "output")]
    if hybrid and quants[0].per_channel:
        _check_hybrid_channels(node, quants[0])
    elif any(q.per_channel for q in quants):
        raise node.unsupported("quantized BATCH_MATMUL takes per-tensor scales only (one scale per "
                               "operand; a hybrid rhs may have one per output column)")
    if lhs == TensorType.INT16 and any(q.zero_point[0] for q in quants):
        raise ModelError(f"{node.describe()}: int16 BATCH_MATMUL operands must be symmetric (zero point 0)")


def run(node: Node) -> None:
    lhs, o = node.inputs[0], node.options
    sparse = sparse_rhs(node)
    if sparse is not None:
        _run_sparse(node, lhs, sparse)
        return
    rhs = _sparsity.dense_input(node, 1)
    if o.adj_x:
        lhs = np.swapaxes(lhs, -1, -2)
    if o.adj_y:
        rhs = np.swapaxes(rhs, -1, -2)
    out = node.outputs[0]
    if lhs.dtype == np.float32 and rhs.dtype == np.int8:
        out[...] = _hybrid(lhs, rhs, node.input_tensors[1].quantization.scale, o.asymmetric_quantize_inputs,
                           o.adj_x).reshape(out.shape)
    elif lhs.dtype != np.float32:
        out[...] = _quantized(node, lhs, rhs)
    else:
        np.matmul(lhs, rhs, out=out)


def sparse_rhs(node: Node) -> _sparsity.SparseMatrix | None:
    """A sparse constant 2-D rhs as [output columns, depth], when the sparse kernel takes it: float32,
    or int8 with a symmetric rhs (the hybrid and int16 kernels densify it)."""
    tensor = node.input_tensors[1]
    if tensor.sparsity is None or len(node.input_shapes[1]) != 2:
        return None
    lhs_type = node.input_type(0)
    if tensor.type != lhs_type or lhs_type not in (TensorType.FLOAT32, TensorType.INT8):
        return None
    if lhs_type == TensorType.INT8 and np.any(tensor.quantization.zero_point):
        return None
    return _sparsity.weight_matrix(node, 1, transpose=not node.options.adj_y)


def _run_sparse(node: Node, lhs: np.ndarray, sparse: _sparsity.SparseMatrix) -> None:
    """lhs [..., m, k] (adj_x: [..., k, m]) by the sparse rhs, skipping its all-zero blocks."""
    if node.options.adj_x:
        lhs = np.swapaxes(lhs, -1, -2)
    out = node.outputs[0]
    rows = lhs.reshape(-1, lhs.shape[-1])
    if lhs.dtype == np.float32:
        out[...] = sparse.times_transposed(rows).reshape(out.shape)
        return
    lhs_quant, out_quant = node.input_tensors[0].quantization, node.output_tensors[0].quantization
    acc = sparse.times_transposed(rows.astype(np.int64) - int(lhs_quant.zero_point[0]), np.int64)
    multiplier, shift = _quant.quantize_multiplier(_matmul.effective_scale(node, 0, 1, float_product=True))
    scaled = _quant.multiply_by_quantized_multiplier(_quant.wrap_int32(acc), multiplier, shift)
    low, high = _quant.dtype_range(lhs.dtype)
    out[...] = np.clip(scaled + int(out_quant.zero_point[0]), low, high).reshape(out.shape)


def _hybrid(lhs: np.ndarray, rhs: np.ndarray, rhs_scale: np.ndarray, asymmetric: bool,
            adj_x: bool) -> np.ndarray:
    """Each lhs row quantized at run time (_quant.quantize_input_rows), times the int8 rhs.

    As LiteRT does: when both ranks exceed 2 and rhs's third-last dimension is 1 (and adj_x is
    false), lhs [..., q, m, k] is folded to [..., q * m, k] and that rhs dimension dropped.
    Then, with the rank-5 extended shapes, the row scales and zero points of batch
    (b0, b1, b2) are read at row batch b0 + b1 + b2 instead of the flat batch index (b = 0 along
    broadcast dimensions), and the rhs column sums likewise: with two or more batch dimensions,
    batches borrow other batches' row scales (optimized_ops::BatchMatMul, hybrid).
    """
    lhs_shape, rhs_shape = _hybrid_shapes(lhs.shape, rhs.shape, adj_x)
    lhs5, rhs5 = lhs.reshape(lhs_shape), rhs.reshape(rhs_shape)
    rows, depth = lhs5.shape[-2:]
    q, scales, zeros = _quant.quantize_input_rows(lhs5.reshape(-1, depth), asymmetric)
    q = q.reshape(lhs5.shape)
    scales = scales.reshape(-1, rows, 1) * rhs_scale.astype(np.float32).reshape(1, 1, -1)
    zeros = zeros.reshape(-1, rows).astype(np.int64)
    weights = np.swapaxes(rhs5, -1, -2).astype(np.int64)  # [..., n, k]
    col_sums = weights.sum(axis=-1).reshape(-1, weights.shape[-2])
    batch = np.broadcast_shapes(lhs5.shape[:3], rhs5.shape[:3])
    result = np.empty((*batch, rows, weights.shape[-2]), np.float32)
    for index in np.ndindex(*batch):
        lhs_index = tuple(i if d > 1 else 0 for i, d in zip(index, lhs5.shape[:3], strict=True))
        rhs_index = tuple(i if d > 1 else 0 for i, d in zip(index, rhs5.shape[:3], strict=True))
        acc = q[lhs_index].astype(np.int64) @ weights[rhs_index].T
        row_batch = sum(lhs_index)
        if asymmetric:
            acc -= zeros[row_batch][:, None] * col_sums[sum(rhs_index)]
        result[index] = _quant.wrap_int32(acc).astype(np.float32) * scales[row_batch]
    return result


def _hybrid_shapes(lhs: tuple, rhs: tuple, adj_x: bool) -> tuple[tuple, tuple]:
    """The rank-5 shapes LiteRT's hybrid kernel iterates over (see _hybrid), lhs [.., m, k]."""
    if len(lhs) > 2 and len(rhs) > 2 and rhs[-3] == 1 and not adj_x:
        lhs, rhs = (*lhs[:-3], lhs[-3] * lhs[-2], lhs[-1]), (*rhs[:-3], *rhs[-2:])
    return (1,) * (5 - len(lhs)) + tuple(lhs), (1,) * (5 - len(rhs)) + tuple(rhs)


def _check_hybrid_channels(node: Node, quant) -> None:
    """A hybrid rhs may be quantized per output column (LiteRT reads scale[column])."""
    rhs = node.input_shapes[1]
    axis = len(rhs) - (2 if node.options.adj_y else 1)
    if quant.quantized_dimension != axis or quant.scale.size != rhs[axis]:
        raise node.unsupported(f"rhs has {quant.scale.size} scales on dimension "
                               f"{quant.quantized_dimension}; a per-channel hybrid rhs needs one scale "
                               f"per output column ({rhs[axis]}, dimension {axis})")


def _check_hybrid_row_sums(node: Node) -> None:
    """Asymmetric hybrid: LiteRT sums the rhs columns of d1 * d2 matrices only but reads the sums
    at matrix b0 + b1 + b2; past them it reads memory it never wrote."""
    rhs = node.input_shapes[1]
    _, rhs5 = _hybrid_shapes(node.input_shapes[0], rhs, node.options.adj_x)  # batch dims only
    if sum(d - 1 for d in rhs5[:3]) >= rhs5[1] * rhs5[2]:
        raise node.unsupported(f"asymmetric_quantize_inputs with rhs batch dimensions "
                               f"{tuple(rhs[:-2])} is not supported: LiteRT reads column sums it never "
                               "computed; use symmetric input quantization or fold the first batch "
                               "dimension")


def _quantized(node: Node, lhs: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """int8: int32 accumulators and TFLite's reference (double-rounding) multiplier; int16: int64
    accumulators and its 16-bit reduced multiplier. The multiplier comes from the float32
    product of the input scales, as in LiteRT's Prepare."""
    lhs_quant, rhs_quant = node.input_tensors[0].quantization, node.input_tensors[1].quantization
    out_quant = node.output_tensors[0].quantization
    acc = _matmul.integer_matmul(lhs, int(lhs_quant.zero_point[0]), rhs, int(rhs_quant.zero_point[0]))
    multiplier, shift = _quant.quantize_multiplier(_matmul.effective_scale(node, 0, 1, float_product=True))
    if lhs.dtype == np.int16:
        scaled = _quant.multiply_by_quantized_multiplier_int64_reduced(acc, multiplier, shift)
    else:
        scaled = _quant.multiply_by_quantized_multiplier(_quant.wrap_int32(acc), multiplier, shift)
    low, high = _quant.dtype_range(lhs.dtype)
    return np.clip(scaled + int(out_quant.zero_point[0]), low, high)


OP = OpDef("BATCH_MATMUL", run, shape=shape, check=check, types=TYPES, options=BatchMatMulOptions)
