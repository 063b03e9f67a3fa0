"""NEG: -x, wrapping for the most negative integer; int8/int16 are negated as raw values
whatever their quantization, as TFLite does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._unary import unary_op


@dataclass
class NegOptions:
    table: ClassVar[str] = "NegOptions"


TYPES = frozenset({TensorType.FLOAT32, TensorType.FLOAT16, TensorType.INT8, TensorType.INT16,
                   TensorType.INT32, TensorType.INT64})

OP = unary_op("NEG", np.negative, TYPES, NegOptions, quantized_ok=True)
