"""NOT_EQUAL: x != y with broadcasting; bool output (float32, int32, int64, bool inputs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._binary import BOOL, FLOAT_INT, binary_op


@dataclass
class NotEqualOptions:
    table: ClassVar[str] = "NotEqualOptions"


OP = binary_op("NOT_EQUAL", np.not_equal, FLOAT_INT | BOOL, options=NotEqualOptions,
               output=TensorType.BOOL)
