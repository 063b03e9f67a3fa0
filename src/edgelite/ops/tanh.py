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
    lut_quantized,
    sigmoid_like,
)
from edgelite.ops._unary import FLOAT_HALF

_table = lut_quantized(lambda node: _lut.tanh, EIGHT_BIT)


check, run = sigmoid_like(_table, is_tanh=True)


OP = activation_op("TANH", np.tanh, Quantized(EIGHT_BIT | {INT16}, run, check),
                   float_types=FLOAT_HALF)
