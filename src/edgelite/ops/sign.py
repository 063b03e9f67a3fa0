"""SIGN: -1, 0 or 1 by the sign of x; NaN stays NaN and -0.0 gives 0.0 (float32, float64, int32)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._unary import unary_op


@dataclass
class SignOptions:
    table: ClassVar[str] = "SignOptions"


TYPES = frozenset({TensorType.FLOAT32, TensorType.FLOAT64, TensorType.INT32})

OP = unary_op("SIGN", np.sign, TYPES, SignOptions)
