"""MEAN: average over the axes input (float32; int32/int64 truncate toward zero like TFLite)."""

from __future__ import annotations

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._reduce import ReducerOptions, reduce_op, reduced_count

__all__ = ["OP", "ReducerOptions"]


def mean(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    count = reduced_count(x, axes)
    if np.issubdtype(x.dtype, np.floating):
        # TFLite sums in float32 and divides once; a float64 sum is that result without its
        # rounding error (an empty reduction gives NaN, as in TFLite).
        total = np.sum(x, axis=axes, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            return (total / count if count else np.full(total.shape, np.nan)).astype(x.dtype)
    total = np.sum(x, axis=axes, dtype=np.int64)
    if count == 0:  # TFLite writes quiet_NaN<int>, i.e. 0
        return np.zeros_like(total)
    return (np.sign(total) * (np.abs(total) // count)).astype(x.dtype)


OP = reduce_op("MEAN", mean, frozenset({TensorType.FLOAT32, TensorType.INT32, TensorType.INT64}))
