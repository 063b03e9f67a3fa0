"""HARD_SWISH: x * relu6(x + 3) / 6 (float32)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops._unary import unary_op


@dataclass
class HardSwishOptions:
    table: ClassVar[str] = "HardSwishOptions"


def hard_swish(x: np.ndarray) -> np.ndarray:
    return x * np.minimum(np.maximum(x + 3, 0), 6) / 6


OP = unary_op("HARD_SWISH", hard_swish, options=HardSwishOptions)
