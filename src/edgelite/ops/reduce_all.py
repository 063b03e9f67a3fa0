"""REDUCE_ALL: logical AND over the axes input (bool)."""

from __future__ import annotations

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._reduce import ReducerOptions, reduce_op

__all__ = ["OP", "ReducerOptions"]


def all_of(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    return np.all(x, axis=axes)


OP = reduce_op("REDUCE_ALL", all_of, frozenset({TensorType.BOOL}))
