"""MAX_POOL_2D: the largest input element under each window (float32, NHWC)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._pool import Pool2DOptions, pool_op, pool_windows
from edgelite.ops.base import Node

__all__ = ["OP", "Pool2DOptions"]


def max_pool(node: Node, x: np.ndarray) -> np.ndarray:
    return pool_windows(node, x, -np.inf).max(axis=(3, 4))


OP = pool_op("MAX_POOL_2D", max_pool)
