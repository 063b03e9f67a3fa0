"""RELU: max(x, 0) (float32)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._unary import unary_op


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


OP = unary_op("RELU", relu)
