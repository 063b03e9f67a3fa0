"""ADD: x + y with broadcasting and a fused activation (float32, int32, int64; quantized int8,
uint8 and int16 as TFLite rescales them, see `_qbinary.add_sub`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops._binary import FLOAT_INT, binary_op
from edgelite.ops._common import Activation
from edgelite.ops._qbinary import add_sub


@dataclass
class AddOptions:
    table: ClassVar[str] = "AddOptions"
    fused_activation_function: Activation = Activation.NONE
    pot_scale_int16: bool = True


OP = binary_op("ADD", np.add, FLOAT_INT, options=AddOptions, fused=True, quantized=add_sub(+1))
