"""SUM: sum over the axes input (float32 summed exactly then rounded; integers wrap like C)."""

from __future__ import annotations

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._reduce import ReducerOptions, reduce_op

__all__ = ["OP", "ReducerOptions"]


def total(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    accumulator = np.float64 if np.issubdtype(x.dtype, np.floating) else x.dtype
    return np.sum(x, axis=axes, dtype=accumulator).astype(x.dtype)


OP = reduce_op("SUM", total, frozenset({TensorType.FLOAT32, TensorType.INT32, TensorType.INT64}))
