"""EXP: e ** x (float32)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops._unary import unary_op


@dataclass
class ExpOptions:
    table: ClassVar[str] = "ExpOptions"


OP = unary_op("EXP", np.exp, options=ExpOptions)
