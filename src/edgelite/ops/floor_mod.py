"""FLOOR_MOD: x mod y with the sign of y, with broadcasting (float32, int32, int64); an
integer divisor of 0 is rejected at invoke."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops._binary import FLOAT_INT, binary_op, nonzero_divisor


@dataclass
class FloorModOptions:
    table: ClassVar[str] = "FloorModOptions"


def floor_mod(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if x.dtype.kind != "f":
        return np.mod(x, y)
    # TFLite: r = fmod(x, y); r + y where r is nonzero and its sign differs from y's.
    remainder = np.fmod(x, y)
    return np.where((remainder != 0) & ((remainder < 0) != (y < 0)), remainder + y, remainder)


OP = binary_op("FLOOR_MOD", floor_mod, FLOAT_INT, options=FloorModOptions, guard=nonzero_divisor)
