"""COS: cosine of x in radians (float32, float16)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from edgelite.model._record import record
from edgelite.ops._unary import FLOAT_HALF, unary_op


@record
class CosOptions:
    table: ClassVar[str] = "CosOptions"


OP = unary_op("COS", np.cos, FLOAT_HALF, CosOptions)
