"""PRELU: x where x >= 0, else x * alpha; alpha broadcasts into x's shape (float32; quantized
int8/uint8 with two multipliers, identity and alpha, see `_qbinary.PRELU`)."""

from __future__ import annotations

import numpy as np

from edgelite.errors import ModelError
from edgelite.ops._binary import binary_op, broadcast_shape
from edgelite.ops._qbinary import PRELU
from edgelite.ops.base import FLOAT, Node


def prelu(x: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return np.where(x >= 0, x, x * alpha)


def shape(node: Node) -> list:
    x, alpha = node.input_shapes
    out = broadcast_shape(node, [x, alpha])
    if out is not None and out != tuple(x):
        raise ModelError(f"{node.describe()}: alpha {tuple(alpha)} does not broadcast into input "
                         f"{tuple(x)}; PRELU's output keeps the input's shape")
    return [out]


OP = binary_op("PRELU", prelu, FLOAT, shape=shape, quantized=PRELU)
