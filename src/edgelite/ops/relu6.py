"""RELU6: x clamped to [0, 6]; NaN and -0.0 pass through as in TFLite (float32)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._unary import clamp, unary_op


def relu6(x: np.ndarray) -> np.ndarray:
    return clamp(x, 0, 6)


OP = unary_op("RELU6", relu6)
