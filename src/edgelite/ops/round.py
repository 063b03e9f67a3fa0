"""ROUND: nearest integer, halves to even (banker's rounding) (float32, float16).

Follows TFLite's RoundToNearest: floor(x), plus one when the rest is above a half or is a half
on an odd floor; so -0.5 gives +0.0 where numpy's rint gives -0.0."""

from __future__ import annotations

import numpy as np

from edgelite.ops._unary import FLOAT_HALF, unary_op


def round_half_even(x: np.ndarray) -> np.ndarray:
    low = np.floor(x)
    rest = x - low
    keep = (rest < 0.5) | ((rest == 0.5) & (np.fmod(low, 2) == 0))
    return np.where(keep, low, low + 1)


OP = unary_op("ROUND", round_half_even, FLOAT_HALF)
