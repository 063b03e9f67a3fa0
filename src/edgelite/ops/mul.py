"""MUL: x * y with broadcasting and a fused activation (float32, int32, int64)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops._binary import FLOAT_INT, binary_op
from edgelite.ops._common import Activation


@dataclass
class MulOptions:
    table: ClassVar[str] = "MulOptions"
    fused_activation_function: Activation = Activation.NONE


OP = binary_op("MUL", np.multiply, FLOAT_INT, options=MulOptions, fused=True)
