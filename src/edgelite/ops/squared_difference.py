"""SQUARED_DIFFERENCE: (x - y)^2 with broadcasting (float32, int32; quantized int8)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._binary import binary_op
from edgelite.ops._qbinary import SQUARED_DIFFERENCE


@dataclass
class SquaredDifferenceOptions:
    table: ClassVar[str] = "SquaredDifferenceOptions"


def squared_difference(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    difference = x - y
    return difference * difference


OP = binary_op("SQUARED_DIFFERENCE", squared_difference,
               frozenset({TensorType.FLOAT32, TensorType.INT32}),
               options=SquaredDifferenceOptions, quantized=SQUARED_DIFFERENCE)
