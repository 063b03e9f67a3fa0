"""GELU: x * Phi(x), exactly (via erfc) or with the tanh approximation (float32, float16)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops._unary import FLOAT_HALF, unary_op

_SQRT_2_OVER_PI = np.float32(math.sqrt(2 / math.pi))
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


@dataclass
class GeluOptions:
    table: ClassVar[str] = "GeluOptions"
    approximate: bool = False


def gelu(x: np.ndarray, options: GeluOptions) -> np.ndarray:
    half = np.float32(0.5)
    if options.approximate:
        inner = _SQRT_2_OVER_PI * (x + np.float32(0.044715) * x * x * x)
        return half * x * (1 + np.tanh(inner))
    # 0.5 * x * erfc(-x / sqrt(2)) has no cancellation for large negative x, unlike 1 + erf.
    scaled = x * np.float32(-math.sqrt(0.5))
    return half * x * _erfc(scaled).astype(x.dtype)


OP = unary_op("GELU", gelu, FLOAT_HALF, GeluOptions, with_options=True)
