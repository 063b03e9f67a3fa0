"""FLOOR: largest integer not above x (float32, float16)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._unary import FLOAT_HALF, unary_op

OP = unary_op("FLOOR", np.floor, FLOAT_HALF)
