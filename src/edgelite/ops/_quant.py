"""Fixed-point arithmetic shared by the quantized kernels, as TFLite defines it.

Everything is vectorized numpy on int64 holding int32 values, so per-channel multipliers and
shifts broadcast. The definitions follow tensorflow/lite/kernels/internal/common.h and gemmlowp's
fixedpoint.h (double rounding: a rounding doubling high multiply, then a rounding right shift).

What LiteRT (x86 wheel) actually runs, measured: its build defines USE_NEON through NEON_2_SSE,
so the NEON loops of optimized_ops.h run, in blocks of 4/8/16 values, with NEON's rounding
(vqrdmulh + vrshl: both roundings half UP = multiply_by_quantized_multiplier_ruy; float to int
conversions round half to EVEN), and only the size % lanes tail takes the scalar code
(gemmlowp's half-away-from-zero roundings, std::round). Its int8 GEMMs (ruy) use the half-up
form too. Kernels must pick the variant per path; the helpers below name which is which.
"""

from __future__ import annotations

import math

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import Quantization, Tensor

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def quantize_multiplier(real: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TFLite's QuantizeMultiplier: real = multiplier * 2**(shift - 31), multiplier in [2**30, 2**31).

    A finite scalar takes the same steps in Python floats (the same double operations, ~20x faster
    than numpy's on one value) and gives int64 scalars."""
    if type(real) in _SCALARS and math.isfinite(real):
        multiplier, shift = quantize_multiplier_int(real)
        return np.int64(multiplier), np.int64(shift)
    real = np.asarray(real, dtype=np.float64)
    fraction, shift = np.frexp(real)
    multiplier = np.sign(fraction) * np.floor(np.abs(fraction) * 2.0**31 + 0.5)  # round half away
    overflow = multiplier == 2.0**31
    multiplier = np.where(overflow, multiplier / 2, multiplier).astype(np.int64)
    shift = np.where(overflow, shift + 1, shift).astype(np.int64)
    tiny = shift < -31
    return np.where(tiny, 0, multiplier), np.where(tiny, 0, shift)


_SCALARS = (float, int, np.float64, np.float32)


def quantize_multiplier_int(real: float) -> tuple[int, int]:
    """quantize_multiplier of one value as Python ints: the same float64 steps without numpy."""
    real = float(real)
    if not math.isfinite(real):
        multiplier, shift = quantize_multiplier(real)
        return int(multiplier), int(shift)
    fraction, shift = math.frexp(real)
    multiplier = math.floor(abs(fraction) * 2.0**31 + 0.5)  # round half away
    multiplier = -multiplier if fraction < 0 else multiplier
    if multiplier == 2**31:
        multiplier, shift = 2**30, shift + 1
    return (0, 0) if shift < -31 else (multiplier, shift)


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
    """TFLite's MultiplyByQuantizedMultiplier for int32 accumulators (int8 and most int16 kernels).

    A left shift of 32 or more (scale ratios >= 2**31) counts modulo 32, as x86 executes C's
    `1 << shift`."""
    shift = np.asarray(shift, dtype=np.int64)
    left, right = np.maximum(shift, 0) & 31, np.maximum(-shift, 0)
    scaled = wrap_int32(np.asarray(x, dtype=np.int64) << left)
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(scaled, multiplier), right)


def multiply_by_quantized_multiplier_int64(x: np.ndarray, multiplier: np.ndarray,
                                           shift: np.ndarray) -> np.ndarray:
    """Single-rounding MultiplyByQuantizedMultiplier for int64 accumulators (TFLITE_SINGLE_ROUNDING):
    (x * multiplier + 2**(30 - shift)) >> (31 - shift), in wrapping int64 as C computes it.

    Measured in LiteRT 2.3: int16x8 BATCH_MATMUL uses the 16-bit reduced multiplier
    (multiply_by_quantized_multiplier_int64_reduced) and int16x8 FULLY_CONNECTED with int64 bias
    scales in double (scale_in_double); this form agrees with the latter except near .5 ties.
    """
    total_shift = 31 - np.asarray(shift, dtype=np.int64)
    rounding = np.int64(1) << (total_shift - 1)
    product = np.asarray(x, dtype=np.int64) * np.asarray(multiplier, dtype=np.int64)
    return (product + rounding) >> total_shift


def multiply_by_quantized_multiplier_int64_reduced(x: np.ndarray, multiplier: np.ndarray,
                                                   shift: np.ndarray) -> np.ndarray:
    """TFLite's older int64 MultiplyByQuantizedMultiplier, which LiteRT's int16 BATCH_MATMUL still
    uses: the multiplier rounded to 16 bits, then (x * m16 + 2**(14 - shift)) >> (15 - shift)."""
    multiplier = np.asarray(multiplier, dtype=np.int64)
    reduced = np.where(multiplier < 0x7FFF0000, (multiplier + (1 << 15)) >> 16, 0x7FFF)
    total_shift = 15 - np.asarray(shift, dtype=np.int64)
    rounding = np.int64(1) << (total_shift - 1)
    return (np.asarray(x, dtype=np.int64) * reduced + rounding) >> total_shift


def scale_in_double(x: np.ndarray, real: np.ndarray | float) -> np.ndarray:
    """x * real rounded half away from zero in double precision, as LiteRT 2.3 requantizes int16x8
    FULLY_CONNECTED with int64 bias (measured: exact on near-ties where any 31-bit fixed-point
    multiplier is not). Results outside int32 become INT32_MIN, as x86's conversion makes them."""
    value = round_half_away(np.asarray(x, dtype=np.float64) * np.asarray(real, dtype=np.float64))
    inside = (value >= INT32_MIN) & (value <= INT32_MAX)
    return np.where(inside, np.where(inside, value, 0).astype(np.int64), INT32_MIN)


def multiply_by_quantized_multiplier_ruy(x: np.ndarray, multiplier: np.ndarray,
                                         shift: np.ndarray) -> np.ndarray:
    """The multiplier as LiteRT's int8 GEMM (ruy: FULLY_CONNECTED, CONV_2D...) and its NEON
    loops (vqrdmulh + vrshl, e.g. QUANTIZE's int8 requantize) apply it: x << max(shift, 0)
    wrapped to int32 (0 for shifts of 32 or more), a rounding high multiply
    (x * m + 2**30) >> 31, then a rounding right shift by max(-shift, 0) -- both roundings
    half UP (toward +inf), unlike gemmlowp's half-away-from-zero in the reference kernels.
    """
    shift = np.asarray(shift, dtype=np.int64)
    left, right = np.maximum(shift, 0), np.maximum(-shift, 0)
    # A vector left shift by 32 or more gives 0 (NEON vshl, SSE psll).
    scaled = np.where(left < 32, wrap_int32(np.asarray(x, dtype=np.int64) << np.minimum(left, 32)), 0)
    high = (scaled * np.asarray(multiplier, dtype=np.int64) + (1 << 30)) >> 31
    nudge = np.where(right > 0, np.int64(1) << np.maximum(right - 1, 0), 0)
    return (high + nudge) >> right


def round_half_away(x: np.ndarray) -> np.ndarray:
    """C's std::round (ties away from zero), exact for float32 input via float64."""
    x = np.asarray(x, dtype=np.float64)
    return np.copysign(np.floor(np.abs(x) + 0.5), x)


def dtype_range(dtype: np.dtype | type) -> tuple[int, int]:
    found = _RANGES.get(dtype)
    if found is None:
        info = np.iinfo(dtype)
        found = _RANGES[dtype] = (int(info.min), int(info.max))
    return found


_RANGES: dict = {}  # dtype -> (min, max): np.iinfo costs microseconds a call


def quantization_of(tensor: Tensor | None, what: str = "tensor") -> Quantization:
    """The tensor's quantization, or a ModelError saying that a quantized kernel needs it."""
    if tensor is None or tensor.quantization is None or tensor.quantization.scale.size == 0:
        name = "an absent tensor" if tensor is None else repr(tensor.name)
        raise ModelError(f"{what} {name} has no quantization parameters; a quantized kernel needs "
                         "scale and zero point")
    return tensor.quantization


def quantize_values(real: np.ndarray, scale: np.ndarray | float, zero_point: np.ndarray | int,
                    dtype: np.dtype | type) -> np.ndarray:
    """Affine-quantize floats as TFLite's reference does: round(x / scale) + zp, half away from 0.

    For weights and calibration; LiteRT's QUANTIZE op rounds differently (see affine_quantize)."""
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
    q = round(x * float(1 / scale)) + zp. An all-zero row has scale 1 and quantizes to zeros.
    Roundings are half away from zero.
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
    # LiteRT rounds x / scale first and then adds the zero point as an integer (measured; the
    # portable code's round(zero_point + x / scale) differs on ties).
    q = np.clip(round_half_away((x * inverse[:, None]).astype(np.float32)) + zero_point[:, None], -128, 127)
    q[empty] = 0
    return q.astype(np.int8), scale, zero_point


def activation_range_quantized(activation: int, scale: float, zero_point: int,
                               dtype: np.dtype | type) -> tuple[int, int]:
    """TFLite's CalculateActivationRangeQuantized: the fused activation's clamp in the output's
    integer domain, zero_point + round(limit / scale) with the division in float32.

    Only NONE, RELU, RELU6 and RELU_N1_TO_1 have one; the caller rejects others (ValueError).
    """
    low, high = dtype_range(dtype)
    scale32, zero = np.float32(scale), int(zero_point)

    def quantize(limit: float) -> int:
        return zero + int(round_half_away(np.float32(limit) / scale32))

    if activation == 0:  # NONE
        return low, high
    if activation == 1:  # RELU
        return max(low, quantize(0.0)), high
    if activation == 3:  # RELU6
        return max(low, quantize(0.0)), min(high, quantize(6.0))
    if activation == 2:  # RELU_N1_TO_1
        return max(low, quantize(-1.0)), min(high, quantize(1.0))
    raise ValueError(f"fused activation {activation} has no quantized clamp; TFLite accepts only "
                     "NONE, RELU, RELU6 and RELU_N1_TO_1 on quantized kernels")


def _saturate(values: np.ndarray, zero_point: np.ndarray | int, dtype: np.dtype | type) -> np.ndarray:
    """round(...) as C converts it to int32 (out of range or NaN -> INT32_MIN), plus the zero
    point with int32 wrap-around, clamped to dtype."""
    inside = (values >= INT32_MIN) & (values <= INT32_MAX)
    as_int = np.where(inside, np.where(inside, values, 0).astype(np.int64), INT32_MIN)
    low, high = dtype_range(dtype)
    return np.clip(wrap_int32(as_int + np.asarray(zero_point, dtype=np.int64)), low, high).astype(dtype)


_LANES = 8


def affine_quantize(x: np.ndarray, scale: float, zero_point: int, dtype: np.dtype | type) -> np.ndarray:
    """LiteRT's QUANTIZE of float32 to int8/uint8/int16 with one scale (optimized AffineQuantize
    on x86, measured): the flat tensor in 8-lane vectors computes x * float32(1 / scale)
    rounded half to EVEN; the last size % 8 values x / scale in double, rounded half away from
    zero. Out-of-range and NaN values become INT32_MIN before the zero point is added."""
    flat = np.asarray(x, dtype=np.float32).reshape(-1)
    vector = flat.size - flat.size % _LANES
    scale32 = np.float32(scale)
    scaled = np.empty(flat.size, np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        scaled[:vector] = np.rint(flat[:vector] * (np.float32(1) / scale32))
        scaled[vector:] = round_half_away(flat[vector:].astype(np.float64) / np.float64(scale32))
    return _saturate(scaled, zero_point, dtype).reshape(np.shape(x))


def affine_quantize_per_channel(x: np.ndarray, scale: np.ndarray, zero_point: np.ndarray, axis: int,
                                dtype: np.dtype | type) -> np.ndarray:
    """TFLite's PerChannelQuantize (reference): round(x / scale[c]) in float32, half away."""
    shape = [1] * np.ndim(x)
    shape[axis] = -1
    scale = np.asarray(scale, dtype=np.float32).reshape(shape)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        scaled = round_half_away(np.asarray(x, dtype=np.float32) / scale)
    return _saturate(scaled, np.asarray(zero_point, dtype=np.int64).reshape(shape), dtype)


def requantize(q: np.ndarray, in_zero_point: int, out_zero_point: int, multiplier: int, shift: int,
               dtype: np.dtype | type, vector_lanes: int = 0) -> np.ndarray:
    """TFLite's Requantize: (q - in_zp) scaled by the fixed-point multiplier plus out_zp, clamped.

    The flat tensor's first size - size % vector_lanes values take the NEON path
    (multiply_by_quantized_multiplier_ruy: vqrdmulh + vrshl), the rest the scalar gemmlowp one;
    LiteRT's int8/uint8 -> int8/uint8 requantize runs 16 lanes.
    """
    flat = wrap_int32(np.asarray(q, dtype=np.int64).reshape(-1) - in_zero_point)
    vector = flat.size - flat.size % vector_lanes if vector_lanes else 0
    scaled = np.concatenate([multiply_by_quantized_multiplier_ruy(flat[:vector], multiplier, shift),
                             multiply_by_quantized_multiplier(flat[vector:], multiplier, shift)])
    low, high = dtype_range(dtype)
    return np.clip(wrap_int32(scaled + out_zero_point), low, high).astype(dtype).reshape(np.shape(q))
