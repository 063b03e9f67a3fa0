"""RELU: max(x, 0); NaN and -0.0 pass through as in TFLite (float32)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._unary import unary_op


def relu(x: np.ndarray) -> np.ndarray:
    return np.where(x < 0, 0, x).astype(x.dtype, copy=False)


OP = unary_op("RELU", relu)
