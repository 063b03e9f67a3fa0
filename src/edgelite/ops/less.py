"""LESS: x < y with broadcasting; bool output (float32, int32, int64 inputs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._binary import FLOAT_INT, binary_op


@dataclass
class LessOptions:
    table: ClassVar[str] = "LessOptions"


OP = binary_op("LESS", np.less, FLOAT_INT, options=LessOptions,
               output=TensorType.BOOL)
