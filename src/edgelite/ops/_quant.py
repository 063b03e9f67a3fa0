"""Fixed-point arithmetic shared by the quantized kernels, as TFLite defines it.

Everything is vectorized numpy on int64 holding int32 values, so per-channel multipliers and
shifts broadcast. The definitions follow tensorflow/lite/kernels/internal/common.h and gemmlowp's
fixedpoint.h (double rounding: a rounding doubling high multiply, then a rounding right shift).
"""

from __future__ import annotations

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import Quantization, Tensor

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def quantize_multiplier(real: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TFLite's QuantizeMultiplier: real = multiplier * 2**(shift - 31), multiplier in [2**30, 2**31)."""
    real = np.asarray(real, dtype=np.float64)
    fraction, shift = np.frexp(real)
    multiplier = np.sign(fraction) * np.floor(np.abs(fraction) * 2.0**31 + 0.5)  # round half away
    overflow = multiplier == 2.0**31
    multiplier = np.where(overflow, multiplier / 2, multiplier).astype(np.int64)
    shift = np.where(overflow, shift + 1, shift).astype(np.int64)
    tiny = shift < -31
    return np.where(tiny, 0, multiplier), np.where(tiny, 0, shift)


def wrap_int32(x: np.ndarray) -> np.ndarray:
    """Two's-complement wrap of int64 values to the int32 range (C's overflow behaviour)."""
    return ((np.asarray(x, dtype=np.int64) + 2**31) & 0xFFFFFFFF) - 2**31


def saturating_rounding_doubling_high_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """gemmlowp's SaturatingRoundingDoublingHighMul on int32 values (held in int64)."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    product = a * b
    nudged = product + np.where(product >= 0, 1 << 30, 1 - (1 << 30))
    high = np.where(nudged >= 0, nudged >> 31, -((-nudged) >> 31))  # C division truncates
    return np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, high)


def rounding_divide_by_pot(x: np.ndarray, exponent: np.ndarray | int) -> np.ndarray:
    """gemmlowp's RoundingDivideByPOT: x / 2**exponent rounded half away from zero."""
    x, exponent = np.asarray(x, dtype=np.int64), np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(x: np.ndarray, multiplier: np.ndarray,
                                     shift: np.ndarray) -> np.ndarray:
    """TFLite's MultiplyByQuantizedMultiplier for int32 accumulators (int8 and most int16 kernels)."""
    shift = np.asarray(shift, dtype=np.int64)
    left, right = np.maximum(shift, 0), np.maximum(-shift, 0)
    scaled = wrap_int32(np.asarray(x, dtype=np.int64) << left)
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(scaled, multiplier), right)


def multiply_by_quantized_multiplier_int64(x: np.ndarray, multiplier: np.ndarray,
                                           shift: np.ndarray) -> np.ndarray:
    """TFLite's MultiplyByQuantizedMultiplier for int64 accumulators (int16x8 conv/FC with int64 bias)."""
    multiplier = np.asarray(multiplier, dtype=np.int64)
    reduced = np.where(multiplier < 0x7FFF0000, (multiplier + (1 << 15)) >> 16, 0x7FFF)
    total_shift = 15 - np.asarray(shift, dtype=np.int64)
    rounding = np.int64(1) << (total_shift - 1)
    return (np.asarray(x, dtype=np.int64) * reduced + rounding) >> total_shift


def round_half_away(x: np.ndarray) -> np.ndarray:
    """C's std::round (ties away from zero), exact for float32 input via float64."""
    x = np.asarray(x, dtype=np.float64)
    return np.copysign(np.floor(np.abs(x) + 0.5), x)


def dtype_range(dtype: np.dtype | type) -> tuple[int, int]:
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def quantization_of(tensor: Tensor | None, what: str = "tensor") -> Quantization:
    """The tensor's quantization, or a ModelError saying that a quantized kernel needs it."""
    if tensor is None or tensor.quantization is None or tensor.quantization.scale.size == 0:
        name = "an absent tensor" if tensor is None else repr(tensor.name)
        raise ModelError(f"{what} {name} has no quantization parameters; a quantized kernel needs "
                         "scale and zero point")
    return tensor.quantization


def quantize_values(real: np.ndarray, scale: np.ndarray | float, zero_point: np.ndarray | int,
                    dtype: np.dtype | type) -> np.ndarray:
    """Affine-quantize floats as TFLite's reference does: round(x / scale) + zp, half away from 0."""
    low, high = dtype_range(dtype)
    scaled = np.asarray(real, dtype=np.float32) / np.asarray(scale, dtype=np.float32)
    rounded = round_half_away(scaled)
    return np.clip(rounded.astype(np.int64) + np.asarray(zero_point, dtype=np.int64), low, high).astype(dtype)


def quantize_input_rows(x: np.ndarray, asymmetric: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How LiteRT's hybrid kernels quantize a float input at run time, one row at a time.

    x is [rows, depth] float32; returns (int8 [rows, depth], float32 scale [rows], int32 zero
    point [rows]). Symmetric (tensor_utils::SymmetricQuantizeFloats): range = max|x| in float,
    scale = range / 127, q = round(x * (127 / range)) clamped to +-127, zero point 0.
    Asymmetric (AsymmetricQuantizeFloats): [min(x, 0), max(x, 0)] mapped onto [-128, 127] with
    the scale computed in double and stored as float, the zero point nudged into int8, and
    q = round(zp + x * float(1 / scale)). An all-zero row has scale 1 and quantizes to zeros.
    """
    x = np.asarray(x, dtype=np.float32)
    rows = x.shape[0]
    if x.size == 0:
        return (np.zeros(x.shape, np.int8), np.ones(rows, np.float32), np.zeros(rows, np.int32))
    if not asymmetric:
        low, high = x.min(axis=1), x.max(axis=1)
        value_range = np.maximum(np.abs(low), np.abs(high))
        empty = value_range == 0
        safe = np.where(empty, np.float32(1), value_range)
        scale = np.where(empty, np.float32(1), safe / np.float32(127)).astype(np.float32)
        inverse = (np.float32(127) / safe).astype(np.float32)
        q = np.clip(round_half_away(x * inverse[:, None]), -127, 127)
        q[empty] = 0
        return q.astype(np.int8), scale, np.zeros(rows, np.int32)
    low = np.minimum(x.min(axis=1), np.float32(0))
    high = np.maximum(x.max(axis=1), np.float32(0))
    empty = low == high
    scale64 = (high - low).astype(np.float64) / 255.0
    scale64 = np.where(empty, 1.0, scale64)
    from_min = -128.0 - low.astype(np.float64) / scale64
    from_max = 127.0 - high.astype(np.float64) / scale64
    min_error = 128.0 + np.abs(low.astype(np.float64) / scale64)
    max_error = 127.0 + np.abs(high.astype(np.float64) / scale64)
    zero_double = np.where(min_error < max_error, from_min, from_max)
    zero_point = np.clip(round_half_away(zero_double), -128, 127).astype(np.int32)
    zero_point = np.where(empty, 0, zero_point).astype(np.int32)
    scale = scale64.astype(np.float32)
    inverse = (1.0 / scale.astype(np.float64)).astype(np.float32)
    scaled = (x * inverse[:, None]).astype(np.float32) + zero_point[:, None].astype(np.float32)
    q = np.clip(round_half_away(scaled), -128, 127)
    q[empty] = 0
    return q.astype(np.int8), scale, zero_point
