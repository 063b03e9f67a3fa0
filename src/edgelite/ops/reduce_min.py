"""REDUCE_MIN: minimum over the axes input (an empty reduction gives the highest finite value)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._reduce import ORDERED, ReducerOptions, limits, reduce_op

__all__ = ["OP", "ReducerOptions"]


def minimum(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    if x.size == 0:
        return np.min(x, axis=axes, initial=limits(x.dtype)[1])
    return np.min(x, axis=axes)


OP = reduce_op("REDUCE_MIN", minimum, ORDERED)
