"""LOGICAL_AND: x and y with broadcasting (bool)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops._binary import BOOL, binary_op


@dataclass
class LogicalAndOptions:
    table: ClassVar[str] = "LogicalAndOptions"


OP = binary_op("LOGICAL_AND", np.logical_and, BOOL, options=LogicalAndOptions)
