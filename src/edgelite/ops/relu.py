"""RELU: max(x, 0); NaN and -0.0 pass through as in TFLite (float32). int8/uint8/int16: the input
requantized to the output scale, then clamped at the output's zero point (QuantizedReluX)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._activation import EIGHT_BIT, INT16, relu_op


def relu(x: np.ndarray) -> np.ndarray:
    return np.where(x < 0, 0, x).astype(x.dtype, copy=False)


OP = relu_op("RELU", relu, 0.0, None, EIGHT_BIT | {INT16})
