"""RELU_0_TO_1: x clamped to [0, 1]; NaN and -0.0 pass through as in TFLite (float32)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._unary import clamp, unary_op


def relu_0_to_1(x: np.ndarray) -> np.ndarray:
    return clamp(x, 0, 1)


OP = unary_op("RELU_0_TO_1", relu_0_to_1)
