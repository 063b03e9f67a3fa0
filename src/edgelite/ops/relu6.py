"""RELU6: min(max(x, 0), 6) (float32)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._unary import unary_op


def relu6(x: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(x, 0), 6)


OP = unary_op("RELU6", relu6)
