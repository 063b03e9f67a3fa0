"""ELU: x where x >= 0, else exp(x) - 1 (float32). int8: a 256-entry table built from float math
(LUTPopulate with expm1); TFLite has no uint8 or int16 kernel."""

from __future__ import annotations

import numpy as np

from edgelite.ops import _lut
from edgelite.ops._activation import INT8, activation_op, lut_quantized


def elu(x: np.ndarray) -> np.ndarray:
    return np.where(x < 0, np.expm1(np.minimum(x, 0)), x)


OP = activation_op("ELU", elu, lut_quantized(lambda node: _lut.elu, frozenset({INT8})))
