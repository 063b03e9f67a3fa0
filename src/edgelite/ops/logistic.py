"""LOGISTIC: the sigmoid 1 / (1 + exp(-x)) (float32, float16)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._unary import FLOAT_HALF, unary_op


def logistic(x: np.ndarray) -> np.ndarray:
    # exp(-|x|) never overflows; the two branches are the same function.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


OP = unary_op("LOGISTIC", logistic, FLOAT_HALF)
