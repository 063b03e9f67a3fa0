"""LOGICAL_OR: x or y with broadcasting (bool)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops._binary import BOOL, binary_op


@dataclass
class LogicalOrOptions:
    table: ClassVar[str] = "LogicalOrOptions"


OP = binary_op("LOGICAL_OR", np.logical_or, BOOL, options=LogicalOrOptions)
