"""SQRT: square root; NaN for negative inputs (float32)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._unary import unary_op

OP = unary_op("SQRT", np.sqrt)
