"""RSQRT: 1 / sqrt(x) (float32)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._unary import unary_op


def rsqrt(x: np.ndarray) -> np.ndarray:
    return 1 / np.sqrt(x)


OP = unary_op("RSQRT", rsqrt)
