"""SQUARE: x * x (float32)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops._unary import unary_op


@dataclass
class SquareOptions:
    table: ClassVar[str] = "SquareOptions"


OP = unary_op("SQUARE", np.square, options=SquareOptions)
