"""ELU: x where x >= 0, else exp(x) - 1 (float32)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._unary import unary_op


def elu(x: np.ndarray) -> np.ndarray:
    return np.where(x < 0, np.expm1(np.minimum(x, 0)), x)


OP = unary_op("ELU", elu)
