"""NOT_EQUAL: x != y with broadcasting; bool output (float32, int32, int64, bool; quantized int8, uint8
and int16 compared on one scale, as TFLite rescales them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._binary import BOOL, FLOAT_INT, binary_op
from edgelite.ops._qbinary import comparison


@dataclass
class NotEqualOptions:
    table: ClassVar[str] = "NotEqualOptions"


OP = binary_op("NOT_EQUAL", np.not_equal, FLOAT_INT | BOOL, options=NotEqualOptions, output=TensorType.BOOL,
               quantized=comparison(np.not_equal, rescales_int16=True))
