"""L2_NORMALIZATION: x / max(||x||_2, 1e-6) along the last axis (float32, rank <= 4).

TFLite clamps the norm (not the squared norm) with a fixed epsilon of 1e-6 and rejects fused
activations. int8/uint8 use TFLite's integer kernels: the inverse square root of the sum of
squares by fixed-point Newton-Raphson, output in a fixed 1/128 scale (zero point 0 for int8,
128 for uint8)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops._common import Activation, same_as_input
from edgelite.ops._quant import (
    INT32_MAX,
    INT32_MIN,
    multiply_by_quantized_multiplier,
    quantization_of,
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
    wrap_int32,
)
from edgelite.ops.base import FLOAT, Node, OpDef

EPSILON = np.float32(1e-6)
_OUTPUT_ZERO_POINT = {TensorType.INT8: 0, TensorType.UINT8: 128}


@dataclass
class L2NormOptions:
    table: ClassVar[str] = "L2NormOptions"
    fused_activation_function: Activation = Activation.NONE


def check(node: Node) -> None:
    if not 1 <= len(node.input_shapes[0]) <= 4:
        raise ModelError(f"{node.describe()}: input rank must be 1 to 4, got {node.input_shapes[0]}")
    if node.options.fused_activation_function != Activation.NONE:
        raise ModelError(f"{node.describe()}: TFLite's L2_NORMALIZATION takes no fused activation, "
                         f"got {node.options.fused_activation_function!r}")
    kind, output = node.input_type(0), node.output_tensors[0]
    if output.type != kind:
        raise ModelError(f"{node.describe()}: output type {output.type.name} differs from the input "
                         f"type {kind.name}")
    if kind in _OUTPUT_ZERO_POINT:
        quantization_of(node.input_tensors[0], "input")
        quant = quantization_of(output, "output")
        scale, zero_point = float(quant.scale.reshape(-1)[0]), int(quant.zero_point.reshape(-1)[0])
        if scale != 1 / 128 or zero_point != _OUTPUT_ZERO_POINT[kind]:
            raise ModelError(f"{node.describe()}: a {kind.name} output must have scale 1/128 and zero "
                             f"point {_OUTPUT_ZERO_POINT[kind]} (TFLite's fixed output quantization), "
                             f"got scale {scale} and zero point {zero_point}")


def run(node: Node) -> None:
    x = node.inputs[0]
    if x.dtype.kind in "iu":
        node.outputs[0][...] = _normalize_quantized(node, x)
        return
    norm = np.sqrt(np.sum(np.square(x), axis=-1, keepdims=True, dtype=np.float32))
    np.divide(x, np.maximum(norm, EPSILON), out=node.outputs[0])


def _normalize_quantized(node: Node, x: np.ndarray) -> np.ndarray:
    zero_point = int(node.input_tensors[0].quantization.zero_point.reshape(-1)[0])
    diff = x.astype(np.int64) - zero_point
    squares = wrap_int32(np.sum(diff * diff, axis=-1, keepdims=True))
    multiplier, shift = inv_sqrt_multiplier(squares)
    if x.dtype == np.int8:  # reference_integer_ops::L2Normalization: result in 1/128 units
        result = multiply_by_quantized_multiplier(diff, multiplier, shift + 7)
        return np.clip(result, -128, 127).astype(np.int8)
    # optimized uint8 kernel: 128 * diff scaled down (MultiplyByQuantizedMultiplierSmallerThanOneExp)
    scaled = rounding_divide_by_pot(saturating_rounding_doubling_high_mul(128 * diff, multiplier), -shift)
    return np.clip(128 + scaled, 0, 255).astype(np.uint8)


def inv_sqrt_multiplier(value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TFLite's GetInvSqrtQuantizedMultiplierExp (reverse_shift -1): 1/sqrt(value) as a
    multiplier and a (non-positive) left shift, by 5 Newton-Raphson steps in gemmlowp fixed
    point with 3 integer bits. Values 0 and 1 give (INT32_MAX, 0)."""
    value = np.asarray(value, dtype=np.int64)
    shift = np.full(value.shape, 11, dtype=np.int64)
    large = value.copy()
    while np.any(large >= 1 << 29):
        big = large >= 1 << 29
        large = np.where(big, large // 4, large)
        shift += big
    safe = np.maximum(large, 2)
    leading_zeros = 32 - np.frexp(safe.astype(np.float64))[1]  # clz of a 32-bit value
    pairs = (leading_zeros - 1) // 2 - 1
    shift -= pairs
    normalized = safe << (2 * pairs)
    half_input = rounding_divide_by_pot(normalized >> 1, 1)  # F3: 28 fractional bits
    half_three = (1 << 28) + (1 << 27)
    estimate = np.full(value.shape, 1 << 28, dtype=np.int64)
    mul = saturating_rounding_doubling_high_mul
    for _ in range(5):
        cube = _saturating_shift_left(mul(mul(estimate, estimate), estimate), 6)
        estimate = _saturating_shift_left(wrap_int32(mul(half_three, estimate) - mul(half_input, cube)), 3)
    multiplier = mul(estimate, 1518500250)  # times sqrt(2)/2
    multiplier = np.where(shift < 0, multiplier << np.maximum(-shift, 0), multiplier)
    shift = np.maximum(shift, 0)
    tiny = value <= 1
    return np.where(tiny, INT32_MAX, multiplier), np.where(tiny, 0, -shift)


def _saturating_shift_left(x: np.ndarray, exponent: int) -> np.ndarray:
    """gemmlowp's SaturatingRoundingMultiplyByPOT for a positive exponent."""
    threshold = (1 << (31 - exponent)) - 1
    return np.where(x > threshold, INT32_MAX, np.where(x < -threshold, INT32_MIN, x << exponent))


OP = OpDef("L2_NORMALIZATION", run, shape=same_as_input, check=check,
           types=FLOAT | frozenset(_OUTPUT_ZERO_POINT), options=L2NormOptions)
