"""MAXIMUM: elementwise max with broadcasting; TFLite's `x > y ? x : y`. Quantized inputs are
compared raw, whatever their scales, exactly as LiteRT does."""

from __future__ import annotations

import numpy as np

from edgelite.ops._binary import FLOAT_INT, RAW_QUANTIZED, MaximumMinimumOptions, binary_op


def maximum(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.where(x > y, x, y)


OP = binary_op("MAXIMUM", maximum, FLOAT_INT | RAW_QUANTIZED, options=MaximumMinimumOptions)
