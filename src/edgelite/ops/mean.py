"""MEAN: average over the axes input (float32; int32/int64 truncate toward zero like TFLite;
int8/uint8/int16 requantize to the output's scale and zero point, as LiteRT's kernels do)."""

from __future__ import annotations

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._quant import (
    dtype_range,
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_ruy,
    quantize_multiplier,
    wrap_int32,
)
from edgelite.ops._reduce import (
    QUANTIZED,
    ReducerOptions,
    int32_sum,
    quantized_params,
    reduce_op,
    reduced_count,
)
from edgelite.ops.base import Node

__all__ = ["OP", "ReducerOptions"]

_NEON_BLOCK = 16  # channels LiteRT's 4-D int8/uint8 mean handles per vector step


def mean(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    count = reduced_count(x, axes)
    if np.issubdtype(x.dtype, np.floating):
        # TFLite sums in float32 and divides once; a float64 sum is that result without its
        # rounding error (an empty reduction gives NaN, as in TFLite).
        total = np.sum(x, axis=axes, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            return (total / count if count else np.full(total.shape, np.nan)).astype(x.dtype)
    total = np.sum(x, axis=axes, dtype=np.int64)
    if count == 0:  # TFLite writes quiet_NaN<int>, i.e. 0
        return np.zeros_like(total)
    return (np.sign(total) * (np.abs(total) // count)).astype(x.dtype)


def mean_quantized(node: Node, x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """LiteRT's quantized MEAN: a float-derived kernel for 4-D int8/uint8 over H and W with
    keep_dims, the integer requantizing kernel everywhere else."""
    count = reduced_count(x, axes)
    if count == 0 or x.size == 0:  # TFLite writes quiet_NaN<int>, i.e. 0
        return np.zeros(np.sum(x, axis=axes).shape, x.dtype)
    if x.dtype != np.int16 and x.ndim == 4 and axes == (1, 2) and node.options.keep_dims:
        return _mean_height_width(node, x)
    return _mean_requantized(node, x, axes, count)


def _mean_requantized(node: Node, x: np.ndarray, axes: tuple[int, ...], count: int) -> np.ndarray:
    """reference_ops::QuantizedMeanOrSum: the input/output scale ratio as a fixed-point
    multiplier, with 1/count folded into it by shifting up to floor(log2(count)) bits."""
    in_scale, in_zero, out_scale, out_zero = quantized_params(node)
    multiplier, shift = (int(v) for v in quantize_multiplier(np.float64(in_scale) / np.float64(out_scale)))
    bits = min(count.bit_length() - 1, 32, 31 + shift)
    multiplier = (multiplier << bits) // count
    shifted = wrap_int32(int32_sum(x, axes) - in_zero * count)
    result = multiply_by_quantized_multiplier(shifted, multiplier, shift - bits) + out_zero
    return np.clip(result, *dtype_range(x.dtype)).astype(x.dtype)


def _mean_height_width(node: Node, x: np.ndarray) -> np.ndarray:
    """optimized_integer_ops::Mean: multiplier from in_scale / (count * out_scale) and a bias
    from the zero points, both computed in float32; the first channels in blocks of 16 go
    through LiteRT's vector path, whose rounding (round half up) differs on exact ties."""
    in_scale, in_zero, out_scale, out_zero = quantized_params(node)
    count = np.float32(x.shape[1] * x.shape[2])
    offset = np.float32(np.float32(in_zero) * in_scale) / out_scale
    offset = offset + np.float32(0.5) if offset > 0 else offset - np.float32(0.5)
    bias = out_zero - int(offset)  # C's float -> int conversion truncates
    multiplier, shift = (int(v) for v in quantize_multiplier(np.float64(in_scale / (count * out_scale))))
    total = np.sum(x, axis=(1, 2), keepdims=True, dtype=np.int64)
    result = multiply_by_quantized_multiplier(total, multiplier, shift)
    vector = (x.shape[3] // _NEON_BLOCK) * _NEON_BLOCK
    # the vector path (MultiplyByQuantizedMultiplier4Rows) rounds like ruy: half up, twice
    result[..., :vector] = multiply_by_quantized_multiplier_ruy(total[..., :vector], multiplier, shift)
    return np.clip(result + bias, *dtype_range(x.dtype)).astype(x.dtype)


TYPES = frozenset({TensorType.FLOAT32, TensorType.INT32, TensorType.INT64}) | QUANTIZED
OP = reduce_op("MEAN", mean, TYPES, quantized=mean_quantized)
