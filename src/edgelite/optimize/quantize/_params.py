"""Quantization arithmetic of TFLite's post-training quantizer: ranges to scales, weights, biases.

Weights are symmetric (zero point 0, values in [-127, 127]) per channel or per tensor; activations
asymmetric for int8 (the range nudged to include 0) and symmetric for int16; biases are int32 (int64
for int16 activations) with scale input_scale * weight_scale, as in tensorflow/lite/tools/optimize.
"""

from __future__ import annotations

import numpy as np

from edgelite.model.ir import Quantization
from edgelite.ops._quant import round_half_away

WEIGHT_MAX = 127  # int8 weights use [-127, 127] so that -w is representable (TFLite's convention)
NEAR_ZERO = 1.0e-6  # narrower ranges widen to [-1e-6, 1e-6] (TensorFlow's kNearZeroTolerance)
MIN_SCALE = 3.0e-9  # LiteRT quantizes a fused RELU6's 6.0 to int32 at prepare: 6 / scale must fit


def activation_params(low: float, high: float, dtype: np.dtype | type) -> Quantization:
    """Per-tensor parameters of an activation: asymmetric for int8/uint8, symmetric for int16."""
    info = np.iinfo(dtype)
    low, high = min(float(low), 0.0), max(float(high), 0.0)
    if high - low <= NEAR_ZERO:
        low, high = min(low, -NEAR_ZERO), max(high, NEAR_ZERO)
    if np.dtype(dtype) == np.int16:
        return Quantization.of(max(max(-low, high) / info.max, MIN_SCALE), 0)
    scale = max(np.float32(high - low) / np.float32(info.max - info.min), np.float32(MIN_SCALE))
    zero_point_from_min = info.min - np.float32(low) / scale
    zero_point = int(np.clip(round_half_away(zero_point_from_min), info.min, info.max))
    return Quantization.of(scale, zero_point)


def requantized(quant: Quantization, dtype: np.dtype | type, from_dtype: np.dtype | type) -> Quantization:
    """The same real grid in another 8-bit type: uint8 zero point = int8 zero point + 128."""
    shift = int(np.iinfo(dtype).min) - int(np.iinfo(from_dtype).min)
    return Quantization.of(quant.scale, quant.zero_point + shift)


def channel_max_abs(values: np.ndarray, axis: int | None) -> np.ndarray:
    """max |w| per slice along `axis` (or of the whole tensor when axis is None), as float64."""
    magnitude = np.abs(values.astype(np.float64))
    if axis is None or values.ndim == 0:
        return np.atleast_1d(magnitude.max(initial=0.0))
    return np.moveaxis(magnitude, axis, 0).reshape(values.shape[axis], -1).max(axis=1, initial=0.0)


def weight_scales(values: np.ndarray, axis: int | None) -> np.ndarray:
    """Symmetric int8 scales: max |w| / 127 per channel (1.0 for an all-zero channel)."""
    scales = (channel_max_abs(values, axis) / WEIGHT_MAX).astype(np.float32)
    return np.where(scales > 0, scales, np.float32(1.0))


def quantize_weights(values: np.ndarray, scales: np.ndarray, axis: int | None) -> np.ndarray:
    """round(w / scale) clipped to [-127, 127], per channel along `axis`."""
    if axis is not None and scales.size > 1:
        shape = [1] * values.ndim
        shape[axis] = scales.size
        scales = scales.reshape(shape)
    else:
        scales = scales.reshape(())
    inverse = (np.float32(1.0) / scales.astype(np.float32))
    rounded = round_half_away(values.astype(np.float32) * inverse)
    return np.clip(rounded, -WEIGHT_MAX, WEIGHT_MAX).astype(np.int8)


def widen_scales_for_bias(scales: np.ndarray, bias: np.ndarray | None, input_scale: float,
                          bias_dtype: np.dtype | type) -> np.ndarray:
    """Weight scales raised where a bias would overflow its integer type (TFLite's adjustment)."""
    if bias is None:
        return scales
    limit = float(np.iinfo(bias_dtype).max)
    needed = np.abs(bias.astype(np.float64)).reshape(-1) / (float(input_scale) * limit)
    if scales.size == 1:
        needed = needed.max(initial=0.0, keepdims=True)
    return np.maximum(scales, needed.astype(np.float32) * np.float32(1.0 + 1e-6)).astype(np.float32)


def quantize_bias(bias: np.ndarray, input_scale: float, weight_scales: np.ndarray,
                  dtype: np.dtype | type) -> tuple[np.ndarray, Quantization]:
    """Bias as integers of scale input_scale * weight_scale (per channel or not), zero point 0."""
    scales = (np.float32(input_scale) * weight_scales.astype(np.float32)).astype(np.float32)
    limit = np.iinfo(dtype).max
    values = round_half_away(bias.astype(np.float64) / scales.astype(np.float64))
    quantized = np.clip(values, -limit, limit).astype(dtype)
    return quantized, Quantization.of(scales, 0)


def quantize_constant(values: np.ndarray, quant: Quantization, dtype: np.dtype | type) -> np.ndarray:
    """Affine-quantize a constant with per-tensor parameters."""
    info = np.iinfo(dtype)
    scaled = round_half_away(values.astype(np.float32) / np.float32(quant.scale[0]))
    return np.clip(scaled + int(quant.zero_point[0]), info.min, info.max).astype(dtype)
