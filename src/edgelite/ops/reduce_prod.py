"""REDUCE_PROD: product over the axes input (float32, int32, int64; integers wrap like C)."""

from __future__ import annotations

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._reduce import ReducerOptions, reduce_op

__all__ = ["OP", "ReducerOptions"]


def product(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    return np.prod(x, axis=axes, dtype=x.dtype)


OP = reduce_op("REDUCE_PROD", product,
               frozenset({TensorType.FLOAT32, TensorType.INT32, TensorType.INT64}))
