"""GELU: x * Phi(x), exactly (via erfc) or with the tanh approximation (float32, float16).

Computed in the input's type one operation at a time, as TFLite's Eigen kernel does.
int8/uint8: a 256-entry table, int16: a 513-entry interpolated one, both built from TFLite's
float GeluTransform(Approximate) (LUTPopulate)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops import _lut
from edgelite.ops._activation import EIGHT_BIT, INT16, activation_op, lut_quantized
from edgelite.ops._unary import FLOAT_HALF
from edgelite.ops.base import Node

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


def transform(node: Node) -> _lut.Transform:
    approximate = node.options is not None and node.options.approximate
    return _lut.gelu_approximate if approximate else _lut.gelu


OP = activation_op("GELU", gelu, lut_quantized(transform, EIGHT_BIT | {INT16}),
                   float_types=FLOAT_HALF, options=GeluOptions, with_options=True)
