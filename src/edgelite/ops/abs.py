"""ABS: |x|; the most negative integer stays itself (float32, int32, non-quantized int16)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._unary import unary_op


@dataclass
class AbsOptions:
    table: ClassVar[str] = "AbsOptions"


TYPES = frozenset({TensorType.FLOAT32, TensorType.INT32, TensorType.INT16})

OP = unary_op("ABS", np.abs, TYPES, AbsOptions)
