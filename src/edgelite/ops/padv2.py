"""PADV2: PAD with the fill value given by input 2 (a scalar of input 0's type)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._shape import MOVEMENT, check_movement, model_error, padded_shape, paddings, zero_point
from edgelite.ops.base import Node, OpDef
from edgelite.ops.pad import check as pad_check


def check(node: Node) -> None:
    pad_check(node)
    value = node.input_tensors[2] if len(node.input_tensors) > 2 else None
    if value is not None:
        if value.type != node.input_type(0) or int(np.prod(node.input_shapes[2])) != 1:
            raise model_error(node, "the pad value (input 2) must be one value of input 0's type")
        check_movement(node, (0, 2))


def run(node: Node) -> None:
    x = node.inputs[0]
    value = node.inputs[2] if len(node.inputs) > 2 else None
    fill = zero_point(node) if value is None else value.reshape(-1)[0]
    node.outputs[0][...] = np.pad(x, paddings(node, 1, x.ndim), constant_values=fill)


OP = OpDef("PADV2", run, shape=padded_shape, check=check, types=MOVEMENT)
