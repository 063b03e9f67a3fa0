"""FLOOR_DIV: floor(x / y) with broadcasting (float32, int32); the quotient is taken in
double precision as TFLite does, and a divisor of 0 (even float) is rejected at invoke."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._binary import binary_op, nonzero_any_divisor


@dataclass
class FloorDivOptions:
    table: ClassVar[str] = "FloorDivOptions"


def floor_div(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if x.dtype.kind == "f":
        # floor(float64(x) / float64(y)), not numpy's divmod-based floor_divide (1 // 0.1 = 9).
        return np.floor(np.divide(x, y, dtype=np.float64)).astype(x.dtype)
    return np.floor_divide(x, y)


OP = binary_op("FLOOR_DIV", floor_div, frozenset({TensorType.FLOAT32, TensorType.INT32}),
               options=FloorDivOptions, guard=nonzero_any_divisor)
