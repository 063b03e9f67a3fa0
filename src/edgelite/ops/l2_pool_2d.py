"""L2_POOL_2D: sqrt of the mean square of the input elements under each window; SAME padding
is excluded from the count, as in TFLite (float32, NHWC)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._pool import Pool2DOptions, pool_op, pool_windows, window_counts
from edgelite.ops.base import Node

__all__ = ["OP", "Pool2DOptions"]


def l2_pool(node: Node, x: np.ndarray) -> np.ndarray:
    squares = pool_windows(node, np.square(x), 0.0).sum(axis=(3, 4))
    return np.sqrt(squares / window_counts(node))


OP = pool_op("L2_POOL_2D", l2_pool)
