"""GELU: x * Phi(x), exactly (via erfc) or with the tanh approximation (float32, float16).

Computed in the input's type one operation at a time, as TFLite's Eigen kernel does."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops._unary import FLOAT_HALF, unary_op

_erfc = np.vectorize(math.erfc, otypes=[np.float64])


@dataclass
class GeluOptions:
    table: ClassVar[str] = "GeluOptions"
    approximate: bool = False


def gelu(x: np.ndarray, options: GeluOptions) -> np.ndarray:
    t = x.dtype.type
    if options.approximate:
        inner = t(math.sqrt(2 / math.pi)) * (x + t(0.044715) * (x * x * x))
        return t(0.5) * x * (1 + np.tanh(inner))
    # 0.5 * x * erfc(-x / sqrt(2)) has no cancellation for large negative x, unlike 1 + erf.
    return t(0.5) * x * _erfc(x * t(-math.sqrt(0.5))).astype(x.dtype)


OP = unary_op("GELU", gelu, FLOAT_HALF, GeluOptions, with_options=True)
