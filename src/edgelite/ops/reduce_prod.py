"""REDUCE_PROD: product over the axes input (float32, int32, int64; integers wrap like C).

Quantized int8/int16 (LiteRT has no uint8 kernel) multiply the zero-point-shifted values one at
a time in input order, rescaling every step by in_scale / out_scale**(1/count) so that the
running product stays in range, and once more at the end."""

from __future__ import annotations

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._quant import dtype_range, quantize_multiplier, wrap_int32
from edgelite.ops._reduce import ReducerOptions, quantized_params, reduce_op
from edgelite.ops.base import Node

__all__ = ["OP", "ReducerOptions"]


def product(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    return np.prod(x, axis=axes, dtype=x.dtype)


def product_quantized(node: Node, x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    if x.size == 0:  # LiteRT writes nothing
        return np.zeros(np.sum(x, axis=axes).shape, x.dtype)
    if all(x.shape[a] == 1 for a in axes):  # LiteRT copies the raw values, unscaled
        return x.copy()
    in_scale, in_zero, out_scale, out_zero = quantized_params(node)
    terms = np.moveaxis(x.astype(np.int64), axes, range(x.ndim - len(axes), x.ndim))
    terms = terms.reshape(*terms.shape[:x.ndim - len(axes)], -1) - in_zero
    count = terms.shape[-1]
    scaling = np.float64(in_scale) / np.power(np.float64(out_scale), 1.0 / count)
    multiplier, shift = (int(v) for v in quantize_multiplier(scaling))

    def rescale(value: np.ndarray) -> np.ndarray:
        return wrap_int32(_multiply_reduced(value, multiplier, shift))

    running = terms[..., 0]
    for k in range(1, count):
        running = rescale(running * terms[..., k])
    return np.clip(rescale(running) + out_zero, *dtype_range(x.dtype)).astype(x.dtype)


def _multiply_reduced(x: np.ndarray, multiplier: int, shift: int) -> np.ndarray:
    """The int64 MultiplyByQuantizedMultiplier REDUCE_PROD runs in LiteRT: the multiplier first
    rounded to 16 bits, then (x * m16 + 2**(14 - shift)) >> (15 - shift) (measured: LiteRT 2.3's
    quantized REDUCE_PROD matches this, not the full 31-bit multiply)."""
    reduced = (multiplier + (1 << 15)) >> 16 if multiplier < 0x7FFF0000 else 0x7FFF
    total_shift = 15 - shift
    return (x * reduced + (1 << (total_shift - 1))) >> total_shift


TYPES = frozenset({TensorType.FLOAT32, TensorType.INT32, TensorType.INT64, TensorType.INT8, TensorType.INT16})
OP = reduce_op("REDUCE_PROD", product, TYPES, quantized=product_quantized)
