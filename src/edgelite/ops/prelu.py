"""PRELU: x where x >= 0, else x * alpha; alpha broadcasts against x (float32)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._binary import binary_op
from edgelite.ops.base import FLOAT


def prelu(x: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return np.where(x >= 0, x, x * alpha)


OP = binary_op("PRELU", prelu, FLOAT)
