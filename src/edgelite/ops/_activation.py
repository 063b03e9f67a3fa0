"""Quantized activations as TFLite's activations.cc computes them: the OpDef builder that sends
int8/uint8/int16 inputs to a quantized kernel and float ones to the float kernel, the quantized
clamp of the RELU family (ReluPrepare + QuantizedReluX) and the int16 LOGISTIC/TANH kernels."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops import _gemmlowp, _lut
from edgelite.ops._common import same_as_input
from edgelite.ops._quant import (
    multiply_by_quantized_multiplier,
    quantization_of,
    quantize_multiplier,
    wrap_int32,
)
from edgelite.ops._unary import check_not_quantized, check_same_type, evaluate
from edgelite.ops.base import FLOAT, Node, OpDef

F32 = np.float32
INT8, UINT8, INT16 = TensorType.INT8, TensorType.UINT8, TensorType.INT16
EIGHT_BIT = frozenset({INT8, UINT8})


class Quantized(NamedTuple):
    """The quantized side of an activation: input types it takes, its prepare check, its kernel (a
    NamedTuple: a frozen dataclass costs ~0.75 ms to create, on the first int8 model of a process)."""

    types: frozenset[TensorType]
    run: Callable[[Node], None]
    check: Callable[[Node], None] | None = None


def activation_op(name: str, float_fn: Callable[..., np.ndarray], quantized: Quantized, *,
                  float_types: frozenset[TensorType] = FLOAT, options: type | None = None,
                  with_options: bool = False) -> OpDef:
    """An elementwise activation: float kernel `float_fn(x[, options])`, quantized kernel by type."""

    def check(node: Node) -> None:
        check_same_type(node)
        if node.input_type(0) in quantized.types:
            if quantized.check is not None:
                quantized.check(node)
        else:
            check_not_quantized(node)

    def run(node: Node) -> None:
        if node.input_type(0) in quantized.types:
            quantized.run(node)
            return
        args = (node.options if node.options is not None else options(),) if with_options else ()
        node.outputs[0][...] = evaluate(float_fn, node.inputs[0], *args)

    return OpDef(name, run, shape=same_as_input, check=check, types=float_types | quantized.types,
                 options=options)


# --- quantization parameters -------------------------------------------------------------------

def scale_and_zero_point(node: Node, which: str = "input", index: int = 0) -> tuple[float, int]:
    """A per-tensor (scale, zero point) of input or output `index`: TFLite's tensor params."""
    tensor = (node.input_tensors if which == "input" else node.output_tensors)[index]
    quantization = None if tensor is None else tensor.quantization
    if quantization is None or quantization.scale.size == 0:
        quantization_of(tensor, f"{node.describe()}: {which}")  # raises, naming the tensor
    return float(quantization.scale[0]), int(quantization.zero_point[0])


def require_zero_points(node: Node, value: int = 0) -> None:
    """int16 activations are symmetric: TFLite rejects other zero points at Prepare."""
    for which in ("input", "output"):
        zero_point = scale_and_zero_point(node, which)[1]
        if zero_point != value:
            raise ModelError(f"{node.describe()}: {node.input_type(0).name} {which} zero point is "
                             f"{zero_point}; TFLite requires {value}")


def require_output(node: Node, scale: float, zero_point: int | None, tolerance: float = 0.0,
                   label: str = "") -> None:
    """The output quantization TFLite mandates for the op (e.g. LOGISTIC int8: scale 1/256)."""
    actual_scale, actual_zero_point = scale_and_zero_point(node, "output")
    bad_scale = abs(F32(actual_scale) - F32(scale)) > F32(tolerance)
    if bad_scale or (zero_point is not None and actual_zero_point != zero_point):
        wanted = f"scale {label or scale!r}" + (f" ({scale!r})" if label else "")
        wanted += "" if zero_point is None else f" and zero point {zero_point}"
        raise ModelError(f"{node.describe()}: TFLite requires a {node.output_tensors[0].type.name} "
                         f"output quantized with {wanted}, got scale {actual_scale!r} and zero point "
                         f"{actual_zero_point}; requantize the output tensor")


def dtype_limits(node: Node) -> tuple[int, int]:
    info = np.iinfo(node.output_tensors[0].dtype)
    return int(info.min), int(info.max)


def rescale(x: np.ndarray, input_zero_point: int, multiplier: int, shift: int,
            output_zero_point: int) -> np.ndarray:
    """output_zp + MultiplyByQuantizedMultiplier(x - input_zp): int32 accumulator, wrapping."""
    scaled = multiply_by_quantized_multiplier(x.astype(np.int64) - input_zero_point, multiplier,
                                              shift)
    return wrap_int32(scaled + output_zero_point)


def float_multiplier(numerator: float, denominator: float) -> tuple[int, int]:
    """QuantizeMultiplier of a float quotient (activations.cc divides float scales as floats)."""
    multiplier, shift = quantize_multiplier(float(F32(numerator) / F32(denominator)))
    return int(multiplier), int(shift)


# --- RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1 ----------------------------------------------------

def relu_quantized(low: float, high: float | None, types: frozenset[TensorType]) -> Quantized:
    """QuantizedReluX: requantize to the output scale, clamp to [low, high] in the output domain."""

    def check(node: Node) -> None:
        scale_and_zero_point(node, "input")
        scale_and_zero_point(node, "output")
        if node.input_type(0) == INT16:
            require_zero_points(node)

    def run(node: Node) -> None:
        in_scale, in_zero_point = scale_and_zero_point(node, "input")
        out_scale, out_zero_point = scale_and_zero_point(node, "output")
        multiplier, shift = float_multiplier(in_scale, out_scale)
        type_min, type_max = dtype_limits(node)
        quantized_min = max(type_min, out_zero_point + int(_lut.float_to_int32(
            _lut.round_half_away(F32(low) / F32(out_scale)))))
        quantized_max = type_max if high is None else min(type_max, out_zero_point + int(
            _lut.float_to_int32(_lut.round_half_away(F32(high) / F32(out_scale)))))
        y = rescale(node.inputs[0], in_zero_point, multiplier, shift, out_zero_point)
        node.outputs[0][...] = np.minimum(np.maximum(y, quantized_min), quantized_max)

    return Quantized(types, run, check)


def relu_op(name: str, float_fn: Callable[[np.ndarray], np.ndarray], low: float,
            high: float | None, types: frozenset[TensorType]) -> OpDef:
    return activation_op(name, float_fn, relu_quantized(low, high, types))


# --- int16 LOGISTIC and TANH -------------------------------------------------------------------

def checked_log2(x: float) -> tuple[int, bool]:
    """TFLite's CheckedLog2: (rounded log2(x), whether x is a power of two within 1e-3)."""
    x_log2 = _lut.cmath("log", np.asarray([x], dtype=F32))[0] * (F32(1) / F32(np.log(F32(2))))
    rounded = _lut.round_half_away(np.asarray([x_log2], dtype=F32))[0]
    return int(rounded), bool(abs(F32(x_log2 - rounded)) < 1e-3)


def sigmoid_int16_params(scale: float, is_tanh: bool) -> tuple[int, int]:
    """(input_multiplier, input_left_shift) of the int16 LOGISTIC/TANH Prepare; multiplier 0 means
    a power-of-two input scale (2**-12, or 2**-11 for TANH), evaluated with gemmlowp."""
    log2, power_of_two = checked_log2(scale)
    left_shift = 12 + log2
    if power_of_two and left_shift in ((0, 1) if is_tanh else (0,)):
        return 0, left_shift
    multiplier, left_shift = scale * 4096.0 * 3.0, 0  # input scale 1 / (3 * 4096) for the table
    while multiplier <= 32767.0 / 2.0 and left_shift <= 30:
        left_shift += 1
        multiplier *= 2.0
    return int(multiplier), left_shift


def check_sigmoid_int16(node: Node, exact_output: bool) -> None:
    """int16 LOGISTIC/TANH: symmetric, output scale 2**-15 (LOGISTIC: exactly 1/32768)."""
    require_zero_points(node)
    if exact_output:
        require_output(node, 1 / 32768, 0, label="1/32768")
        return
    log2, power_of_two = checked_log2(scale_and_zero_point(node, "output")[0])
    if not power_of_two or log2 != -15:
        require_output(node, 1 / 32768, 0, label="2**-15")


def _interpolate_sigmoid(abs_input: np.ndarray, fraction_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """sigmoid_table_uint16 interpolated: (entry index abs >> bits, interpolated value)."""
    upper = abs_input >> fraction_bits
    clipped = np.minimum(upper, 254)
    low, high = _lut.SIGMOID_UINT16[clipped], _lut.SIGMOID_UINT16[clipped + 1]
    fraction = abs_input & ((1 << fraction_bits) - 1)
    return upper, (low << fraction_bits) + fraction * (high - low)


def logistic_int16(x: np.ndarray, multiplier: int, left_shift: int) -> np.ndarray:
    x = x.astype(np.int64)
    if multiplier == 0:  # optimized_ops::Logistic: gemmlowp on Q3.12
        return _gemmlowp.logistic(x, 3, 16)
    rounding = 1 << (left_shift - 1) if left_shift > 0 else 0
    scaled = wrap_int32(x * multiplier + rounding) >> left_shift
    upper, result = _interpolate_sigmoid(np.abs(scaled), 9)
    result = np.where(upper >= 255, 0x7FFF << 10, result)
    result = np.where(scaled >= 0, result + (1 << 9), (1 << 25) - result + (1 << 9) - 1)
    return _lut.wrap16(result >> 10)


def tanh_int16(x: np.ndarray, multiplier: int, left_shift: int) -> np.ndarray:
    x = x.astype(np.int64)
    if multiplier == 0:  # optimized_ops::Tanh: gemmlowp on Q3.12 (scale 2**-11 doubled first)
        return _gemmlowp.tanh(_gemmlowp.saturating_multiply_by_pot(x, left_shift, 16), 3, 16)
    rounding = 1 << (left_shift - 1) if left_shift > 0 else 0
    scaled = wrap_int32(x * multiplier + rounding) >> left_shift
    upper, result = _interpolate_sigmoid(np.abs(scaled), 8)
    result = np.where(upper >= 255, 0xFFFF << 8, result)
    result = np.where(scaled >= 0, result - (1 << 23) + (1 << 7), -result + (1 << 23) + (1 << 7) - 1)
    return _lut.wrap16(result >> 8)


def lut_quantized(transform_of: Callable[[Node], _lut.Transform], types: frozenset[TensorType],
                  check: Callable[[Node], None] | None = None) -> Quantized:
    """Activations TFLite evaluates with a LUTPopulate table (8-bit; int16 interpolated)."""

    def run(node: Node) -> None:
        in_scale, in_zero_point = scale_and_zero_point(node, "input")
        out_scale, out_zero_point = scale_and_zero_point(node, "output")
        transform = transform_of(node)
        x = node.inputs[0]
        if x.dtype == np.int16:
            table = _lut.table_int16(transform, in_scale, in_zero_point, out_scale, out_zero_point)
            node.outputs[0][...] = _lut.lookup_int16(x, table)
        else:
            table = _lut.table_8bit(transform, in_scale, in_zero_point, out_scale, out_zero_point,
                                    x.dtype.type)
            node.outputs[0][...] = _lut.lookup_8bit(x, table)

    def check_all(node: Node) -> None:
        scale_and_zero_point(node, "input")
        scale_and_zero_point(node, "output")
        if check is not None:
            check(node)

    return Quantized(types, run, check_all)


def sigmoid_like(table: Quantized, is_tanh: bool) -> tuple[Callable[[Node], None], Callable[[Node], None]]:
    """(check, run) of LOGISTIC/TANH's quantized kernels: int16 fixed point, else the 8-bit table."""
    int16_kernel = tanh_int16 if is_tanh else logistic_int16

    def check(node: Node) -> None:
        if node.input_type(0) == INT16:
            check_sigmoid_int16(node, exact_output=not is_tanh)
        else:
            table.check(node)

    def run(node: Node) -> None:
        if node.input_type(0) != INT16:
            table.run(node)
            return
        multiplier, left_shift = sigmoid_int16_params(scale_and_zero_point(node)[0], is_tanh=is_tanh)
        node.outputs[0][...] = int16_kernel(node.inputs[0], multiplier, left_shift)

    return check, run

