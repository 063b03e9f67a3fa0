"""EQUAL: x == y with broadcasting; bool output (float32, int32, int64, bool inputs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._binary import BOOL, FLOAT_INT, binary_op


@dataclass
class EqualOptions:
    table: ClassVar[str] = "EqualOptions"


OP = binary_op("EQUAL", np.equal, FLOAT_INT | BOOL, options=EqualOptions,
               output=TensorType.BOOL)
