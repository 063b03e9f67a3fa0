"""LESS: x < y with broadcasting; bool output (float32, int32, int64; quantized int8 and
uint8 compared on one scale as TFLite rescales them, int16 raw as LiteRT does)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._binary import FLOAT_INT, binary_op
from edgelite.ops._qbinary import comparison


@dataclass
class LessOptions:
    table: ClassVar[str] = "LessOptions"


OP = binary_op("LESS", np.less, FLOAT_INT, options=LessOptions, output=TensorType.BOOL,
               quantized=comparison(np.less, rescales_int16=False))
