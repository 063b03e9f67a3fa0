"""LEAKY_RELU: x where x > 0, else alpha * x; alpha may be above 1 or negative (float32).

int8/uint8/int16: two requantizations, input_scale / output_scale for x >= zero point and
input_scale * alpha / output_scale below it (activations.cc LeakyReluPrepare)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops._activation import (
    EIGHT_BIT,
    INT16,
    Quantized,
    activation_op,
    dtype_limits,
    float_multiplier,
    require_zero_points,
    rescale,
    scale_and_zero_point,
)
from edgelite.ops.base import Node


@dataclass
class LeakyReluOptions:
    table: ClassVar[str] = "LeakyReluOptions"
    alpha: float = 0.0


def leaky_relu(x: np.ndarray, options: LeakyReluOptions) -> np.ndarray:
    return np.where(x > 0, x, x * np.float32(options.alpha))


def check(node: Node) -> None:
    scale_and_zero_point(node, "input")
    scale_and_zero_point(node, "output")
    if node.input_type(0) == INT16:
        require_zero_points(node)


def run_quantized(node: Node) -> None:
    alpha = (node.options or LeakyReluOptions()).alpha
    in_scale, in_zero_point = scale_and_zero_point(node, "input")
    out_scale, out_zero_point = scale_and_zero_point(node, "output")
    identity = float_multiplier(in_scale, out_scale)
    scaled_alpha = float_multiplier(float(np.float32(in_scale) * np.float32(alpha)), out_scale)
    x = node.inputs[0]
    positive = x.astype(np.int64) >= in_zero_point
    y = np.where(positive, rescale(x, in_zero_point, *identity, out_zero_point),
                 rescale(x, in_zero_point, *scaled_alpha, out_zero_point))
    node.outputs[0][...] = np.clip(y, *dtype_limits(node))


OP = activation_op("LEAKY_RELU", leaky_relu, Quantized(EIGHT_BIT | {INT16}, run_quantized, check),
                   options=LeakyReluOptions, with_options=True)
