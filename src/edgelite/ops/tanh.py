"""TANH: hyperbolic tangent (float32, float16).

int8/uint8: a 256-entry table built from float math (LUTPopulate); any output quantization.
int16: symmetric, output scale 2**-15; an input scale of 2**-12 or 2**-11 runs gemmlowp's
fixed-point tanh, any other scale the interpolated sigmoid table of reference_integer_ops::Tanh."""

from __future__ import annotations

import numpy as np

from edgelite.ops import _lut
from edgelite.ops._activation import (
    EIGHT_BIT,
    INT16,
    Quantized,
    activation_op,
    check_sigmoid_int16,
    lut_quantized,
    scale_and_zero_point,
    sigmoid_int16_params,
    tanh_int16,
)
from edgelite.ops._unary import FLOAT_HALF
from edgelite.ops.base import Node

_table = lut_quantized(lambda node: _lut.tanh, EIGHT_BIT)


def check(node: Node) -> None:
    if node.input_type(0) == INT16:
        check_sigmoid_int16(node, exact_output=False)
    else:
        _table.check(node)


def run(node: Node) -> None:
    if node.input_type(0) != INT16:
        _table.run(node)
        return
    multiplier, left_shift = sigmoid_int16_params(scale_and_zero_point(node)[0], is_tanh=True)
    node.outputs[0][...] = tanh_int16(node.inputs[0], multiplier, left_shift)


OP = activation_op("TANH", np.tanh, Quantized(EIGHT_BIT | {INT16}, run, check),
                   float_types=FLOAT_HALF)
