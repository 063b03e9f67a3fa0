"""GREATER_EQUAL: x >= y with broadcasting; bool output (float32, int32, int64 inputs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._binary import FLOAT_INT, binary_op


@dataclass
class GreaterEqualOptions:
    table: ClassVar[str] = "GreaterEqualOptions"


OP = binary_op("GREATER_EQUAL", np.greater_equal, FLOAT_INT, options=GreaterEqualOptions,
               output=TensorType.BOOL)
