"""PAD: pad input 0 by the [rank, 2] paddings of input 1 with zeros (the zero point if quantized)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._shape import MOVEMENT, check_index_type, check_movement, padded_shape, paddings, zero_point
from edgelite.ops.base import Node, OpDef


def check(node: Node) -> None:
    check_index_type(node, 1)
    check_movement(node)


def run(node: Node) -> None:
    x = node.inputs[0]
    node.outputs[0][...] = np.pad(x, paddings(node, 1, x.ndim), constant_values=zero_point(node))


OP = OpDef("PAD", run, shape=padded_shape, check=check, types=MOVEMENT)
