"""SUB: x - y with broadcasting and a fused activation (float32, int32, int64; quantized int8,
uint8 and int16 as TFLite rescales them, see `_qbinary.add_sub`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops._binary import FLOAT_INT, binary_op
from edgelite.ops._common import Activation
from edgelite.ops._qbinary import add_sub


@dataclass
class SubOptions:
    table: ClassVar[str] = "SubOptions"
    fused_activation_function: Activation = Activation.NONE
    pot_scale_int16: bool = True


OP = binary_op("SUB", np.subtract, FLOAT_INT, options=SubOptions, fused=True,
               quantized=add_sub(-1))
