"""MAX_POOL_2D: the largest input element under each window (NHWC; float32, and int8/uint8/int16
compared as raw integers, then clamped to the fused activation's quantized range)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._pool import Pool2DOptions, pool_op, pool_windows
from edgelite.ops.base import Node

__all__ = ["OP", "Pool2DOptions"]


def max_pool(node: Node, x: np.ndarray) -> np.ndarray:
    lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min  # padding never wins
    return pool_windows(node, x, lowest).max(axis=(3, 4))


OP = pool_op("MAX_POOL_2D", max_pool, quantized=max_pool)
