"""SOFTMAX: exp(beta * (x - max)) normalized over the last axis (float32, float16).

Quantized, as LiteRT's optimized (builtin) kernel: int8/uint8 input through a float table of
exp(-input_scale * beta * d) for the 256 distances d below the row's maximum (output int8 with
scale 1/256 and zero point -128, uint8 or int16); int16 input (symmetric, output 1/32768)
through the int16 exp and 1/(1+x) tables of reference_ops::SoftmaxInt16."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.ops import _lut
from edgelite.ops._activation import (
    EIGHT_BIT,
    INT8,
    INT16,
    UINT8,
    require_output,
    require_zero_points,
    scale_and_zero_point,
)
from edgelite.ops._common import same_as_input
from edgelite.ops._quant import multiply_by_quantized_multiplier, quantize_multiplier, wrap_int32
from edgelite.ops._unary import FLOAT_HALF, check_has_last_axis, check_not_quantized
from edgelite.ops.base import Node, OpDef

F32 = np.float32
OUTPUTS = {INT8: {INT8, INT16}, UINT8: {UINT8, INT16}, INT16: {INT16}}


@dataclass
class SoftmaxOptions:
    table: ClassVar[str] = "SoftmaxOptions"
    beta: float = 0.0


def beta_of(node: Node) -> float:
    return node.options.beta if node.options is not None else 0.0


def run_float(node: Node) -> None:
    x, out = node.inputs[0], node.outputs[0]
    beta = np.float32(beta_of(node))
    x = x.astype(np.float32, copy=False)
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp((x - x.max(axis=-1, keepdims=True)) * beta)
        out[...] = e * (1 / e.sum(axis=-1, keepdims=True))


def run_8bit(node: Node) -> None:
    """optimized_ops::Softmax: float sums of table entries, float normalization and rounding."""
    x = node.inputs[0].astype(np.int64)
    out_scale, out_zero_point = scale_and_zero_point(node, "output")
    table = _lut.softmax_exp_table(scale_and_zero_point(node)[0], beta_of(node))
    exps = table[255 - (x.max(axis=-1, keepdims=True) - x)]
    total = np.zeros(x.shape[:-1] + (1,), dtype=F32)
    for j in range(x.shape[-1]):  # sequential float sum, as the C loop
        total += exps[..., j:j + 1]
    with np.errstate(all="ignore"):  # a negative or huge beta overflows the table, as in C
        probability = exps * (F32(1) / (total * F32(out_scale)))
    if node.output_tensors[0].type == UINT8:  # QuantizeSoftmaxOutput<uint8_t> off aarch64
        quantized = _lut.float_to_int32(probability + F32(0.5))
    else:
        quantized = wrap_int32(_lut.float_to_int32(_lut.round_half_away(probability)) + out_zero_point)
    node.outputs[0][...] = np.clip(quantized, *_limits(node))


@lru_cache(maxsize=1)
def _int16_tables() -> tuple[np.ndarray, np.ndarray]:
    """The exp table over [-10, 0] and the 1 / (1 + x) table over [0, 1] (double math)."""
    span = 65535
    exp_table = _lut.table_int16(_lut.exp, 10.0 / span, 32767, 2.0 / span, 0, double=True)
    reciprocal = _lut.table_int16(_lut.one_over_one_plus, 1.0 / span, -32768, 2.0 / span, 0,
                                  double=True)
    return exp_table, reciprocal


def run_int16(node: Node) -> None:
    """reference_ops::SoftmaxInt16: int16 exps in Q0.15, a reciprocal of their sum from a table."""
    x = node.inputs[0].astype(np.int64)
    exp_table, reciprocal_table = _int16_tables()
    product = F32(scale_and_zero_point(node)[0]) * F32(beta_of(node))
    multiplier, shift = quantize_multiplier(float(product) / (10.0 / 65535.0))
    diff = x - x.max(axis=-1, keepdims=True)
    scaled = multiply_by_quantized_multiplier(diff, multiplier, shift) + 32767
    exps = _lut.lookup_int16(np.clip(scaled, -32768, 32767), exp_table)
    total = exps.sum(axis=-1, keepdims=True)
    headroom_plus_one = 32 - np.floor(np.log2(total)).astype(np.int64) - 1  # CountLeadingZeros
    shifted = ((total << (headroom_plus_one - 1)) + (1 << 13)) >> 14
    centered = np.clip(shifted - ((1 << 15) + (1 << 16)), -32768, 32767)
    reciprocal = _lut.lookup_int16(centered, reciprocal_table)
    right_shift = 31 - headroom_plus_one
    result = (exps * reciprocal + (np.int64(1) << (right_shift - 1))) >> right_shift
    node.outputs[0][...] = np.clip(result, 0, 32767)


def _limits(node: Node) -> tuple[int, int]:
    info = np.iinfo(node.output_tensors[0].dtype)
    return int(info.min), int(info.max)


def check(node: Node) -> None:
    if len(node.input_shapes[0]) < 1:
        raise node.unsupported("input is a scalar; the op needs at least one dimension")
    in_type, out_type = node.input_type(0), node.output_tensors[0].type
    if in_type not in OUTPUTS:
        check_has_last_axis(node)
        check_not_quantized(node)
        return
    if out_type not in OUTPUTS[in_type]:
        allowed = " or ".join(sorted(t.name for t in OUTPUTS[in_type]))
        raise ModelError(f"{node.describe()}: a {in_type.name} input needs a {allowed} output, "
                         f"got {out_type.name}")
    scale_and_zero_point(node, "input")
    if in_type == INT8 and out_type == INT8:
        require_output(node, 1 / 256, -128, tolerance=0.001 / 256, label="1/256")
    elif in_type == INT16:
        require_zero_points(node)
        require_output(node, 1 / 32768, 0, tolerance=0.001 / 32768, label="1/32768")
    else:
        scale_and_zero_point(node, "output")


def run(node: Node) -> None:
    if node.inputs[0].size == 0:
        return
    in_type = node.input_type(0)
    if in_type == INT16:
        run_int16(node)
    elif in_type in EIGHT_BIT:
        run_8bit(node)
    else:
        run_float(node)


OP = OpDef("SOFTMAX", run, shape=same_as_input, check=check,
           types=FLOAT_HALF | EIGHT_BIT | {INT16}, options=SoftmaxOptions)
