"""EXP: e ** x (float32)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from edgelite.model._record import record
from edgelite.ops._unary import unary_op


@record
class ExpOptions:
    table: ClassVar[str] = "ExpOptions"


OP = unary_op("EXP", np.exp, options=ExpOptions)
