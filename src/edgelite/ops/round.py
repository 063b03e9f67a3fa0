"""ROUND: nearest integer, halves to even (banker's rounding, as TFLite) (float32, float16)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._unary import FLOAT_HALF, unary_op

OP = unary_op("ROUND", np.rint, FLOAT_HALF)
