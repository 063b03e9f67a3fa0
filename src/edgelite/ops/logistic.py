"""LOGISTIC: the sigmoid 1 / (1 + exp(-x)) (float32, float16).

int8/uint8: a 256-entry table built from float math (LUTPopulate), output scale 1/256.
int16: symmetric, output scale 1/32768; an input scale of 2**-12 runs gemmlowp's fixed-point
logistic, any other scale the interpolated sigmoid table of reference_integer_ops::Logistic."""

from __future__ import annotations

import numpy as np

from edgelite.ops import _lut
from edgelite.ops._activation import (
    EIGHT_BIT,
    INT16,
    Quantized,
    activation_op,
    lut_quantized,
    require_output,
    sigmoid_like,
)
from edgelite.ops._unary import FLOAT_HALF


def logistic(x: np.ndarray) -> np.ndarray:
    if x.dtype == np.float16:  # Eigen's half kernel: exp(x) / (1 + exp(x)), 1 once exp overflows
        e = np.exp(x)
        return np.where(np.isinf(e), 1, e / (1 + e)).astype(x.dtype)
    e = np.exp(-np.abs(x))  # never overflows; both branches are the same function
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


_table = lut_quantized(lambda node: _lut.logistic, EIGHT_BIT,
                       check=lambda node: require_output(node, 1 / 256, None, label="1/256"))


check, run = sigmoid_like(_table, is_tanh=False)


OP = activation_op("LOGISTIC", logistic, Quantized(EIGHT_BIT | {INT16}, run, check),
                   float_types=FLOAT_HALF)
