"""SUM: sum over the axes input (float32 summed exactly then rounded; integers wrap like C;
int8/uint8/int16 requantize to the output's scale and zero point, as LiteRT does)."""

from __future__ import annotations

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._quant import dtype_range, round_half_away
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


def total(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    accumulator = np.float64 if np.issubdtype(x.dtype, np.floating) else x.dtype
    return np.sum(x, axis=axes, dtype=accumulator).astype(x.dtype)


def total_quantized(node: Node, x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """LiteRT's optimized quantized SUM: the int32 sum of the raw values rescaled in float32,
    round(sum * (in_scale / out_scale) - in_zero * scale * count) + out_zero, then clamped."""
    in_scale, in_zero, out_scale, out_zero = quantized_params(node)
    count = reduced_count(x, axes)
    sums = int32_sum(x, axes)
    if count == 0 or x.size == 0:  # LiteRT leaves the output unwritten; edgelite gives a real 0
        return np.full(sums.shape, out_zero, x.dtype)
    scale = in_scale / out_scale
    bias = np.float32(np.float32(-in_zero) * scale) * np.float32(count)
    scaled = (sums.astype(np.float32) * scale + bias).astype(np.float32)
    result = round_half_away(scaled).astype(np.int64) + out_zero
    return np.clip(result, *dtype_range(x.dtype)).astype(x.dtype)


TYPES = frozenset({TensorType.FLOAT32, TensorType.INT32, TensorType.INT64}) | QUANTIZED
OP = reduce_op("SUM", total, TYPES, quantized=total_quantized)
