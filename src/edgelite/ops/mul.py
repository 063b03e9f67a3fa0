"""MUL: x * y with broadcasting and a fused activation (float32, int32, int64; quantized int8,
uint8, int16, and int16 inputs with an 8-bit output, see `_qbinary.MUL`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops._binary import FLOAT_INT, binary_op
from edgelite.ops._common import Activation
from edgelite.ops._qbinary import MUL


@dataclass
class MulOptions:
    table: ClassVar[str] = "MulOptions"
    fused_activation_function: Activation = Activation.NONE


OP = binary_op("MUL", np.multiply, FLOAT_INT, options=MulOptions, fused=True, quantized=MUL)
