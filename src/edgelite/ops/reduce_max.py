"""REDUCE_MAX: maximum over the axes input (an empty reduction gives the lowest finite value)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._reduce import ORDERED, ReducerOptions, limits, reduce_op

__all__ = ["OP", "ReducerOptions"]


def maximum(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    if x.size == 0:
        return np.max(x, axis=axes, initial=limits(x.dtype)[0])
    return np.max(x, axis=axes)


OP = reduce_op("REDUCE_MAX", maximum, ORDERED)
