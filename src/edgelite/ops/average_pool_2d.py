"""AVERAGE_POOL_2D: mean of the input elements under each window; SAME padding is excluded from
the count, as in TFLite (NHWC; float32 and int8/uint8/int16)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._pool import Pool2DOptions, pool_op, pool_windows, window_counts
from edgelite.ops.base import Node

__all__ = ["OP", "Pool2DOptions"]


def average_pool(node: Node, x: np.ndarray) -> np.ndarray:
    return pool_windows(node, x, 0.0).sum(axis=(3, 4)) / window_counts(node)


def average_pool_quantized(node: Node, x: np.ndarray) -> np.ndarray:
    """TFLite's integer average: the window's sum divided by its count, rounded half away from
    zero as (sum +- count/2) / count with C's truncating division."""
    total = pool_windows(node, x.astype(np.int64), 0).sum(axis=(3, 4))
    count = window_counts(node).astype(np.int64)
    half = count // 2
    return np.where(total > 0, (total + half) // count, -((half - total) // count))


OP = pool_op("AVERAGE_POOL_2D", average_pool, quantized=average_pool_quantized)
