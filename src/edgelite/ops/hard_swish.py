"""HARD_SWISH: x * relu6(x + 3) / 6 (float32).

TFLite's kernel runs 4-lane vectors, computing x * (1/6) * relu6(x + 3), and finishes the last
size % 4 values as x * relu6(x + 3) * (1/6); the two round (and overflow) differently, so both are
kept for bit-equal results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops._unary import unary_op

_LANES = 4


@dataclass
class HardSwishOptions:
    table: ClassVar[str] = "HardSwishOptions"


def hard_swish(x: np.ndarray) -> np.ndarray:
    flat = x.reshape(-1)
    relu6 = np.minimum(np.maximum(flat + 3, 0), 6)
    result = flat * np.float32(1 / 6) * relu6
    tail = flat.size - flat.size % _LANES
    result[tail:] = flat[tail:] * relu6[tail:] * np.float32(1 / 6)
    return result.reshape(x.shape)


OP = unary_op("HARD_SWISH", hard_swish, options=HardSwishOptions)
