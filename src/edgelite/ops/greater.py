"""GREATER: x > y with broadcasting; bool output (float32, int32, int64; quantized int8 and
uint8 compared on one scale as TFLite rescales them, int16 raw as LiteRT does)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._binary import FLOAT_INT, binary_op
from edgelite.ops._qbinary import comparison


@dataclass
class GreaterOptions:
    table: ClassVar[str] = "GreaterOptions"


OP = binary_op("GREATER", np.greater, FLOAT_INT, options=GreaterOptions, output=TensorType.BOOL,
               quantized=comparison(np.greater, rescales_int16=False))
