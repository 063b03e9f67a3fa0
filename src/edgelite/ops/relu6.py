"""RELU6: x clamped to [0, 6]; NaN and -0.0 pass through as in TFLite (float32). int8/uint8/int16:
requantized to the output scale, clamped to the output's quantized [0, 6] (QuantizedReluX)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._activation import EIGHT_BIT, INT16, relu_op
from edgelite.ops._unary import clamp


def relu6(x: np.ndarray) -> np.ndarray:
    return clamp(x, 0, 6)


OP = relu_op("RELU6", relu6, 0.0, 6.0, EIGHT_BIT | {INT16})
