"""DIV: x / y with broadcasting and a fused activation; int32 truncates toward zero (as C
does) and rejects a zero divisor at invoke."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._binary import binary_op, nonzero_divisor
from edgelite.ops._common import Activation


@dataclass
class DivOptions:
    table: ClassVar[str] = "DivOptions"
    fused_activation_function: Activation = Activation.NONE


def divide(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if x.dtype.kind == "f":
        return np.divide(x, y)
    # x - fmod(x, y) (C's truncated remainder) is a multiple of y: its quotient is x / y in C.
    return np.floor_divide(x - np.fmod(x, y), y)


OP = binary_op("DIV", divide, frozenset({TensorType.FLOAT32, TensorType.INT32}),
               options=DivOptions, fused=True, guard=nonzero_divisor)
