"""LOGISTIC: the sigmoid 1 / (1 + exp(-x)) (float32, float16)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._unary import FLOAT_HALF, unary_op


def logistic(x: np.ndarray) -> np.ndarray:
    if x.dtype == np.float16:  # Eigen's half kernel: exp(x) / (1 + exp(x)), 1 once exp overflows
        e = np.exp(x)
        return np.where(np.isinf(e), 1, e / (1 + e)).astype(x.dtype)
    e = np.exp(-np.abs(x))  # never overflows; both branches are the same function
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


OP = unary_op("LOGISTIC", logistic, FLOAT_HALF)
