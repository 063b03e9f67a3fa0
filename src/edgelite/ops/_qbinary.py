"""Quantized elementwise binary kernels (int8, uint8, int16) as LiteRT's builtin kernels compute
them: the multipliers their Prepare derives from the scales (add.cc, sub.cc, mul.cc,
squared_difference.cc, comparisons.cc, PRELU in activations.cc) and the fixed-point steps of
their Eval. TFLite applies one per-element formula in every broadcast path, so numpy
broadcasting reproduces it; LiteRT's optimized ADD and MUL also run vector loops that round and
narrow differently, reproduced element by element with `_qneon`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import _DTYPES, TensorType
from edgelite.ops._binary import check_types
from edgelite.ops._common import Activation
from edgelite.ops._qneon import (
    ROWS,
    SCALAR_ROWS,
    add_inputs,
    add_output,
    lane_paths,
    mul_output,
)
from edgelite.ops._quant import (
    activation_range_quantized,
    dtype_range,
    multiply_by_quantized_multiplier,
    quantize_multiplier_int,
    rounding_divide_by_pot,
    wrap_int32,
)
from edgelite.ops.base import Node

INT8, UINT8, INT16 = TensorType.INT8, TensorType.UINT8, TensorType.INT16
EIGHT_BIT = frozenset({INT8, UINT8})
QUANTIZED = EIGHT_BIT | {INT16}
F32 = np.float32


@dataclass(frozen=True)
class QuantizedKernel:
    """The quantized variant of a binary op: `prepare` validates the node and returns TFLite's
    Prepare-time parameters; `compute(params, x, y)` returns the output integers."""

    types: frozenset[TensorType]
    prepare: Callable[[Node], Any]
    compute: Callable[[Any, np.ndarray, np.ndarray], np.ndarray]


_NO_ACTIVATION = Activation.NONE
_CLAMPING = (Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1)


class Affine(NamedTuple):
    """A tensor's per-tensor scale (float32, as the kernels use it) and zero point."""

    scale: np.float32
    zero_point: int


_new_affine = tuple.__new__


def affine(node: Node, i: int | None) -> Affine:
    """Per-tensor scale and zero point of input i (output 0 when i is None)."""
    tensor = node.output_tensors[0] if i is None else node.input_tensors[i]
    quant = tensor.quantization
    if quant is None or quant.scale.size == 0:
        raise ModelError(f"{node.describe()}: {tensor.type.name} tensor {tensor.name!r} has no "
                         "quantization parameters; a quantized kernel needs its scale and zero point")
    if quant.scale.size > 1:
        raise node.unsupported(f"tensor {tensor.name!r} is quantized per channel; TFLite's kernel "
                               "takes one scale and zero point per tensor")
    scale, zero_point = F32(quant.scale.item(0)), int(quant.zero_point.item(0))
    if not scale > 0:
        raise ModelError(f"{node.describe()}: tensor {tensor.name!r} has scale {scale}; "
                         "scales must be positive")
    low, high = dtype_range(_DTYPES[tensor.type])
    if not low <= zero_point <= high:
        raise ModelError(f"{node.describe()}: tensor {tensor.name!r} has zero point {zero_point}, "
                         f"outside the {tensor.type.name} range")
    return _new_affine(Affine, (scale, zero_point))  # tuple.__new__: no Python-level __new__


def multiplier_below_one(node: Node, real: float, what: str,
                         fix: str = "give the output a larger scale") -> tuple[int, int]:
    """QuantizeMultiplierSmallerThanOneExp; LiteRT aborts (or is undefined) outside (0, 1)."""
    if not 0 < real < 1:
        raise node.unsupported(f"the {what} multiplier is {real:.6g}; TFLite's kernel needs it in "
                               f"(0, 1) and aborts or computes garbage otherwise ({fix})")
    return quantize_multiplier_int(real)


def multiplier_any(real: float) -> tuple[int, int]:
    return quantize_multiplier_int(real)


def fused_range(node: Node, out: Affine) -> tuple[int, int]:
    """CalculateActivationRangeQuantized; TANH and SIGN_BIT clamp nothing, as in LiteRT."""
    activation = getattr(node.options, "fused_activation_function", _NO_ACTIVATION)
    dtype = _DTYPES[node.output_tensors[0].type]
    if activation in _CLAMPING:
        return activation_range_quantized(activation, out.scale, out.zero_point, dtype)
    return dtype_range(dtype)


Rescaled = tuple[int, int, int]  # an input's zero point, multiplier and shift


def rescaled(node: Node, a: Affine, real: float,
             fix: str = "the input scales are out of range") -> Rescaled:
    return (a.zero_point, *multiplier_below_one(node, real, "input", fix))


def rescale(q: np.ndarray, params: Rescaled, left_shift: int) -> np.ndarray:
    """(q - zero_point) << left_shift, times a multiplier below one: every input's first step."""
    zero_point, multiplier, shift = params
    shifted = wrap_int32((q.astype(np.int64) - zero_point) << left_shift)
    return multiply_by_quantized_multiplier(shifted, multiplier, shift)


def checked_log2(scale: np.float32) -> int | None:
    """TFLite's CheckedLog2 in float32: log2(scale) if it is within 1e-3 of an integer."""
    log2 = F32(np.log(F32(scale))) * (F32(1) / F32(np.log(F32(2))))
    rounded = F32(np.copysign(np.floor(np.abs(log2) + F32(0.5)), log2))
    return int(rounded) if abs(F32(log2 - rounded)) < F32(1e-3) else None


# --- ADD, SUB ----------------------------------------------------------------------------------

def add_sub(sign: int) -> QuantizedKernel:
    """ADD (sign +1) or SUB (-1): the general path (both inputs rescaled to twice the larger
    input scale, left shift 20 for 8-bit and 15 for int16) or int16's power-of-two path."""

    def prepare(node: Node) -> tuple:
        check_types(node, (0, 1))
        ins, out = [affine(node, 0), affine(node, 1)], affine(node, None)
        low, high = fused_range(node, out)
        if node.input_type(0) == INT16:
            if any(a.zero_point for a in (*ins, out)):
                raise node.unsupported("int16 inputs and output need zero point 0 (symmetric)")
            if getattr(node.options, "pot_scale_int16", True):
                logs = [checked_log2(a.scale) for a in (*ins, out)]
                if None not in logs:
                    return _pot_params(node, sign, logs, low, high)
        left_shift = 15 if node.input_type(0) == INT16 else 20
        twice_max = 2 * float(max(ins[0].scale, ins[1].scale))
        first, second = (rescaled(node, a, float(a.scale) / twice_max) for a in ins)
        output = multiplier_below_one(node, twice_max / ((1 << left_shift) * float(out.scale)),
                                      "output")
        return ("general", left_shift, first, second, output, out.zero_point, low, high,
                node.output_tensors[0].dtype)

    def compute(params: tuple, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if params[0] == "pot":
            _, (shift_x, shift_y), low, high = params
            a = rounding_divide_by_pot(x.astype(np.int64), -shift_x)
            b = rounding_divide_by_pot(y.astype(np.int64), -shift_y)
            return np.clip(np.clip(a + sign * b, -32768, 32767), low, high)
        _, left_shift, first, second, output, zero_point, low, high, dtype = params
        raw = wrap_int32(rescale(x, first, left_shift) + sign * rescale(y, second, left_shift))
        result = np.clip(multiply_by_quantized_multiplier(raw, *output) + zero_point, low, high)
        if sign < 0:  # LiteRT's SUB runs TFLite's scalar reference loops
            return result
        rows, scalar_rows = ADD_LANES[dtype.type]
        for path, chosen, (vx, vy) in _vector_elements(x, y, first, second, result.shape, rows,
                                                       scalar_rows):
            combined = path == ROWS and dtype != np.uint8
            raw = wrap_int32(add_inputs(vx, left_shift, *first[1:], combined)
                             + add_inputs(vy, left_shift, *second[1:], combined))
            result[chosen] = add_output(raw, *output, zero_point, low, high, dtype)
        return result

    return QuantizedKernel(QUANTIZED, prepare, compute)


# Lanes of LiteRT's vector loops (elementwise rows, scalar-broadcast rows; None: none).
ADD_LANES = {np.int8: (16, 8), np.uint8: (8, 8), np.int16: (16, None)}
MUL_LANES = {np.int8: (16, 16), np.uint8: (8, 8)}


def _vector_elements(x: np.ndarray, y: np.ndarray, first: Rescaled | int, second: Rescaled | int,
                     shape: tuple, rows: int, scalar_rows: int | None):
    """(path, mask, (x - zp, y - zp) at the mask) for each vector path LiteRT takes somewhere."""
    paths = lane_paths(x.shape, y.shape, rows, scalar_rows).reshape(shape)
    for path in (ROWS, SCALAR_ROWS):
        chosen = paths == path
        if chosen.any():
            zps = [p[0] if isinstance(p, tuple) else p for p in (first, second)]
            yield path, chosen, [np.broadcast_to(v, shape)[chosen].astype(np.int64) - zp
                                 for v, zp in zip((x, y), zps, strict=True)]


def _pot_params(node: Node, sign: int, logs: list[int], low: int, high: int) -> tuple:
    """int16 with power-of-two scales: shift one input right onto the output's scale."""
    shifts = (logs[0] - logs[2], logs[1] - logs[2])
    if 0 not in shifts or max(shifts) > 0:
        raise node.unsupported(f"int16 power-of-two scales need one input on the output's scale "
                               f"and the other finer (input shifts {shifts}); set "
                               "pot_scale_int16=False for general scales")
    if sign > 0:
        _same_sizes(node, "int16 ADD with power-of-two scales (set pot_scale_int16=False)")
    return "pot", shifts, low, high


def _same_sizes(node: Node, what: str) -> None:
    """Kernels without broadcasting: TFLite aborts when the inputs' sizes differ."""
    sizes = [int(np.prod(s, dtype=np.int64)) for s in node.input_shapes[:2]]
    if sizes[0] != sizes[1]:
        raise node.unsupported(f"{what} cannot broadcast in TFLite (it aborts); give both inputs "
                               "the same shape")


# --- MUL ---------------------------------------------------------------------------------------

def _mul_prepare(node: Node) -> tuple:
    in_type, out_type = node.input_type(0), node.output_tensors[0].type
    int16_to_8bit = in_type == INT16 and out_type in EIGHT_BIT
    check_types(node, (0, 1), out_type if int16_to_8bit else None)
    ins, out = [affine(node, 0), affine(node, 1)], affine(node, None)
    low, high = fused_range(node, out)
    if int16_to_8bit:  # LSTM helper: Q0.15 x Q0.15 -> Q0.7, ignoring the scales
        _same_sizes(node, "MUL of int16 inputs into an 8-bit output")
        return "int16_to_8bit", out.zero_point, low, high
    if in_type == INT16 and any(a.zero_point for a in (*ins, out)):
        raise node.unsupported("int16 inputs and output need zero point 0 (symmetric)")
    real = F32(F32(ins[0].scale * ins[1].scale) / out.scale)  # float32, as mul.cc computes it
    return ("general", [a.zero_point for a in ins], multiplier_any(float(real)), out.zero_point,
            low, high, node.output_tensors[0].dtype)


def _mul_compute(params: tuple, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if params[0] == "int16_to_8bit":
        _, zero_point, low, high = params
        product = rounding_divide_by_pot(_doubling_high_mul_int16(x, y), 8)
        return np.clip(product, low - zero_point, high - zero_point) + zero_point
    _, (zp1, zp2), (multiplier, shift), zero_point, low, high, dtype = params
    product = (x.astype(np.int64) - zp1) * (y.astype(np.int64) - zp2)
    result = np.clip(multiply_by_quantized_multiplier(product, multiplier, shift) + zero_point,
                     low, high)
    if dtype.type not in MUL_LANES:  # int16: TFLite's reference loops
        return result
    for path, chosen, (vx, vy) in _vector_elements(x, y, zp1, zp2, result.shape,
                                                   *MUL_LANES[dtype.type]):
        saturate = path == ROWS or dtype == np.int8  # uint8's broadcast loop narrows wrapping
        result[chosen] = mul_output(vx * vy, multiplier, shift, zero_point, low, high, dtype,
                                    saturate)
    return result


def _doubling_high_mul_int16(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """gemmlowp's SaturatingRoundingDoublingHighMul on int16 (a Q0.15 fixed-point product)."""
    product = a.astype(np.int64) * b.astype(np.int64)
    nudged = product + np.where(product >= 0, 1 << 14, 1 - (1 << 14))
    high = np.where(nudged >= 0, nudged >> 15, -((-nudged) >> 15))  # C division truncates
    return np.where((a == -32768) & (b == -32768), 32767, high)


MUL = QuantizedKernel(QUANTIZED, _mul_prepare, _mul_compute)


# --- SQUARED_DIFFERENCE ------------------------------------------------------------------------

def _squared_difference_prepare(node: Node) -> tuple:
    check_types(node, (0, 1))
    ins, out = [affine(node, 0), affine(node, 1)], affine(node, None)
    twice_max = 2 * float(max(ins[0].scale, ins[1].scale))
    first, second = (rescaled(node, a, float(a.scale) / twice_max) for a in ins)
    output = multiplier_below_one(node, twice_max * twice_max / ((1 << 14) * float(out.scale)),
                                  "output")
    return first, second, output, out.zero_point


def _squared_difference_compute(params: tuple, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    first, second, (multiplier, shift), zero_point = params
    difference = rescale(x, first, 7) - rescale(y, second, 7)
    squared = wrap_int32(difference * difference)
    return np.clip(multiply_by_quantized_multiplier(squared, multiplier, shift) + zero_point,
                   -128, 127)


SQUARED_DIFFERENCE = QuantizedKernel(frozenset({INT8}), _squared_difference_prepare,
                                     _squared_difference_compute)


# --- Comparisons -------------------------------------------------------------------------------

def comparison(fn: Callable[[np.ndarray, np.ndarray], np.ndarray], *,
               rescales_int16: bool) -> QuantizedKernel:
    """EQUAL ... GREATER_EQUAL: 8-bit inputs are brought to one scale ((q - zp) << 8 times the
    input's scale as a multiplier) before comparing. LiteRT does the same for quantized int16
    EQUAL/NOT_EQUAL (`rescales_int16`) but compares raw int16 values in the ordering ops."""

    def prepare(node: Node) -> tuple[Rescaled, Rescaled] | None:
        check_types(node, (0, 1), TensorType.BOOL)
        if node.input_type(0) == INT16 and not (rescales_int16 and _quantized(node)):
            return None
        first, second = affine(node, 0), affine(node, 1)
        fix = "comparisons need input scales below 1"
        return (rescaled(node, first, float(first.scale), fix),
                rescaled(node, second, float(second.scale), fix))

    def compute(params: tuple | None, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if params is None:
            return fn(x, y)
        return fn(rescale(x, params[0], 8), rescale(y, params[1], 8))

    return QuantizedKernel(QUANTIZED, prepare, compute)


def _quantized(node: Node) -> bool:
    quant = node.input_tensors[0].quantization
    return quant is not None and quant.scale.size > 0


# --- PRELU -------------------------------------------------------------------------------------

def _prelu_prepare(node: Node) -> tuple:
    check_types(node, (0, 1))
    x, alpha, out = affine(node, 0), affine(node, 1), affine(node, None)
    identity = multiplier_any(float(F32(x.scale / out.scale)))
    negative = multiplier_any(float(F32(F32(x.scale * alpha.scale) / out.scale)))
    return x.zero_point, alpha.zero_point, identity, negative, out.zero_point, \
        dtype_range(node.output_tensors[0].dtype)


def _prelu_compute(params: tuple, x: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    zp_x, zp_alpha, identity, negative, zero_point, (low, high) = params
    value = x.astype(np.int64) - zp_x
    product = value * (alpha.astype(np.int64) - zp_alpha)
    result = np.where(value >= 0, multiply_by_quantized_multiplier(value, *identity),
                      multiply_by_quantized_multiplier(product, *negative))
    return np.clip(result + zero_point, low, high)


PRELU = QuantizedKernel(EIGHT_BIT, _prelu_prepare, _prelu_compute)

