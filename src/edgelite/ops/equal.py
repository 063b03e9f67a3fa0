"""EQUAL: x == y with broadcasting; bool output (float32, int32, int64, bool; quantized int8, uint8
and int16 compared on one scale, as TFLite rescales them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._binary import BOOL, FLOAT_INT, binary_op
from edgelite.ops._qbinary import comparison


@dataclass
class EqualOptions:
    table: ClassVar[str] = "EqualOptions"


OP = binary_op("EQUAL", np.equal, FLOAT_INT | BOOL, options=EqualOptions, output=TensorType.BOOL,
               quantized=comparison(np.equal, rescales_int16=True))
