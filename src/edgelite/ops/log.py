"""LOG: natural logarithm; -inf at 0 and NaN below (float32)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._unary import unary_op

OP = unary_op("LOG", np.log)
