"""RELU_N1_TO_1: x clamped to [-1, 1]; NaN and -0.0 pass through as in TFLite (float32).
int8/uint8: requantized to the output scale, clamped to the quantized [-1, 1] (QuantizedReluX);
TFLite has no int16 kernel."""

from __future__ import annotations

import numpy as np

from edgelite.ops._activation import EIGHT_BIT, relu_op
from edgelite.ops._unary import clamp


def relu_n1_to_1(x: np.ndarray) -> np.ndarray:
    return clamp(x, -1, 1)


OP = relu_op("RELU_N1_TO_1", relu_n1_to_1, -1.0, 1.0, EIGHT_BIT)
