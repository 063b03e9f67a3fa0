"""REDUCE_ANY: logical OR over the axes input (bool)."""

from __future__ import annotations

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._reduce import ReducerOptions, reduce_op

__all__ = ["OP", "ReducerOptions"]


def any_of(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    return np.any(x, axis=axes)


OP = reduce_op("REDUCE_ANY", any_of, frozenset({TensorType.BOOL}))
