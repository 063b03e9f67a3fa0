"""CEIL: smallest integer not below x (float32)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._unary import unary_op

OP = unary_op("CEIL", np.ceil)
