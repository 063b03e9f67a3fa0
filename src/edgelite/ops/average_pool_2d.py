"""AVERAGE_POOL_2D: mean of the input elements under each window; SAME padding is excluded from
the count, as in TFLite (float32, NHWC)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._pool import Pool2DOptions, pool_op, pool_windows, window_counts
from edgelite.ops.base import Node

__all__ = ["OP", "Pool2DOptions"]


def average_pool(node: Node, x: np.ndarray) -> np.ndarray:
    return pool_windows(node, x, 0.0).sum(axis=(3, 4)) / window_counts(node)


OP = pool_op("AVERAGE_POOL_2D", average_pool)
