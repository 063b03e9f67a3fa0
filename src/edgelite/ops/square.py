"""SQUARE: x * x (float32)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from edgelite.model._record import record
from edgelite.ops._unary import unary_op


@record
class SquareOptions:
    table: ClassVar[str] = "SquareOptions"


OP = unary_op("SQUARE", np.square, options=SquareOptions)
