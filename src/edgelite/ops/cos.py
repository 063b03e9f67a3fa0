"""COS: cosine of x in radians (float32, float16)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops._unary import FLOAT_HALF, unary_op


@dataclass
class CosOptions:
    table: ClassVar[str] = "CosOptions"


OP = unary_op("COS", np.cos, FLOAT_HALF, CosOptions)
