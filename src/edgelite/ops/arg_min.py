"""ARG_MIN: index of the smallest element along the axis input (first index on ties)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._arg import arg_op


@dataclass
class ArgMinOptions:
    table: ClassVar[str] = "ArgMinOptions"
    output_type: TensorType = TensorType.FLOAT32  # schema default; the kernel needs INT32/INT64


OP = arg_op("ARG_MIN", np.argmin, ArgMinOptions)
