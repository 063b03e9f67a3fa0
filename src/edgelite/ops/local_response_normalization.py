"""LOCAL_RESPONSE_NORMALIZATION: x * (bias + alpha * sum of squares over the channels within
`radius`) ** -beta, along the last axis of a 4-D float32 input (alpha is not divided by the
window size, as in TensorFlow)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.ops._common import same_as_input
from edgelite.ops.base import FLOAT, Node, OpDef


@dataclass
class LocalResponseNormalizationOptions:
    table: ClassVar[str] = "LocalResponseNormalizationOptions"
    radius: int = 0
    bias: float = 0.0
    alpha: float = 0.0
    beta: float = 0.0


def check(node: Node) -> None:
    if len(node.input_shapes[0]) != 4:
        raise ModelError(f"{node.describe()}: input must be 4-D, got shape {node.input_shapes[0]}")
    if node.options.radius < 0:
        raise ModelError(f"{node.describe()}: radius must be >= 0, got {node.options.radius}")


def run(node: Node) -> None:
    x, o = node.inputs[0], node.options
    squares = np.pad(np.square(x), [(0, 0)] * 3 + [(o.radius, o.radius)])
    window = np.lib.stride_tricks.sliding_window_view(squares, 2 * o.radius + 1, axis=-1)
    accum = window.sum(axis=-1, dtype=np.float32)
    base = np.float32(o.bias) + np.float32(o.alpha) * accum
    node.outputs[0][...] = x * np.power(base, np.float32(-o.beta))


OP = OpDef("LOCAL_RESPONSE_NORMALIZATION", run, shape=same_as_input, check=check, types=FLOAT,
           options=LocalResponseNormalizationOptions)
