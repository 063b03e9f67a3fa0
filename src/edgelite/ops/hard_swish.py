"""HARD_SWISH: x * relu6(x + 3) / 6 (float32).

TFLite's kernel runs 4-lane vectors, computing x * (1/6) * relu6(x + 3), and finishes the last
size % 4 values as x * relu6(x + 3) * (1/6); the two round (and overflow) differently, so both are
kept for bit-equal results.

int8/uint8: TFLite's 16-bit fixed-point algorithm (reference_ops::HardSwish, which the optimized
kernel falls back to off ARM): the input on a 2**7 finer scale, a "reluish" factor in [0, 1]
from the input rescaled so that 3.0 is 2**15, and their product shifted to the output scale."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.ops import _gemmlowp
from edgelite.ops._activation import EIGHT_BIT, Quantized, activation_op, scale_and_zero_point
from edgelite.ops._lut import wrap16
from edgelite.ops._quant import quantize_multiplier
from edgelite.ops.base import Node

_LANES = 4
F32 = np.float32


@dataclass
class HardSwishOptions:
    table: ClassVar[str] = "HardSwishOptions"


def hard_swish(x: np.ndarray) -> np.ndarray:
    flat = x.reshape(-1)
    relu6 = np.minimum(np.maximum(flat + 3, 0), 6)
    result = flat * np.float32(1 / 6) * relu6
    tail = flat.size - flat.size % _LANES
    result[tail:] = flat[tail:] * relu6[tail:] * np.float32(1 / 6)
    return result.reshape(x.shape)


def _int16_multiplier(real: F32) -> tuple[int, int]:
    """QuantizeMultiplier, then DownScaleInt32ToInt16Multiplier (rounding to the top 16 bits)."""
    multiplier, exponent = (int(v) for v in quantize_multiplier(float(real)))
    if multiplier >= 2**31 - 1 - 2**15:
        return 32767, exponent
    return (multiplier + 2**15) >> 16, exponent


@lru_cache(maxsize=256)
def params(in_scale: float, out_scale: float) -> tuple[int, int, int, int]:
    """HardSwishPrepare: (output multiplier, exponent, reluish multiplier, exponent), float math."""
    hires_input_scale = F32(1 / 128) * F32(in_scale)
    output = _int16_multiplier(hires_input_scale / F32(out_scale))
    reluish = _int16_multiplier(hires_input_scale / F32(3 / 32768))
    return (*output, *reluish)


def check(node: Node) -> None:
    in_scale, _ = scale_and_zero_point(node, "input")
    out_scale, _ = scale_and_zero_point(node, "output")
    if params(in_scale, out_scale)[1] > 0:
        raise ModelError(f"{node.describe()}: output scale {out_scale!r} must be above input scale "
                         f"/ 128 ({in_scale / 128!r}) for TFLite's quantized HARD_SWISH")


def _saturating_left_shift(x: np.ndarray, amount: int) -> np.ndarray:
    return np.clip(x * (1 << amount), -32768, 32767)


def run_quantized(node: Node) -> None:
    in_scale, in_zero_point = scale_and_zero_point(node, "input")
    out_scale, out_zero_point = scale_and_zero_point(node, "output")
    out_multiplier, out_exponent, reluish_multiplier, reluish_exponent = params(in_scale, out_scale)
    hires = wrap16((node.inputs[0].astype(np.int64) - in_zero_point) * 128)
    preshift_output = _gemmlowp.srdhm(hires, out_multiplier, 16)
    reluish = hires
    if reluish_exponent > 0:
        reluish = _saturating_left_shift(reluish, reluish_exponent - 1)
    reluish = _gemmlowp.srdhm(reluish, reluish_multiplier, 16)
    if reluish_exponent > 0:
        reluish = _saturating_left_shift(reluish, 1)
    if reluish_exponent < 0:
        reluish = _gemmlowp.rounding_divide_by_pot(reluish, -reluish_exponent, 16)
    reluish = (reluish + (1 << 15)) >> 1  # [-1, 1] to [0, 1]
    product = reluish * preshift_output  # SaturatingDoublingHighMul: truncating, not rounding
    doubled = np.where(product >= 0, product >> 15, -((-product) >> 15))
    saturated = (reluish == -32768) & (preshift_output == -32768)
    preshift = wrap16(np.where(saturated, 32767, doubled))
    output = _gemmlowp.rounding_divide_by_pot(preshift, -out_exponent, 16)
    info = np.iinfo(node.output_tensors[0].dtype)
    node.outputs[0][...] = np.clip(wrap16(output + out_zero_point), info.min, info.max)


OP = activation_op("HARD_SWISH", hard_swish, Quantized(EIGHT_BIT, run_quantized, check),
                   options=HardSwishOptions)
