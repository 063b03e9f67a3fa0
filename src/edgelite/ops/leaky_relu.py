"""LEAKY_RELU: x where x > 0, else alpha * x; alpha may be above 1 or negative (float32)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops._unary import unary_op


@dataclass
class LeakyReluOptions:
    table: ClassVar[str] = "LeakyReluOptions"
    alpha: float = 0.0


def leaky_relu(x: np.ndarray, options: LeakyReluOptions) -> np.ndarray:
    return np.where(x > 0, x, x * np.float32(options.alpha))


OP = unary_op("LEAKY_RELU", leaky_relu, options=LeakyReluOptions, with_options=True)
