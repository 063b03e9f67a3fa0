"""BROADCAST_TO: broadcast input 0 to the shape given by input 1 (numpy rules)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._shape import MOVEMENT, check_index_type, check_movement, int_values, model_error
from edgelite.ops.base import Node, OpDef


def shape(node: Node) -> list:
    target, dims = int_values(node, 1), tuple(node.input_shapes[0])
    if target is None:
        return [None]
    target = tuple(target)
    lined_up = (1,) * (len(target) - len(dims)) + dims
    if len(dims) > len(target) or any(d not in (1, t) for d, t in zip(lined_up, target, strict=True)):
        raise model_error(node, f"input shape {dims} cannot be broadcast to {target}")
    return [target]


def check(node: Node) -> None:
    check_index_type(node, 1)
    check_movement(node)


def run(node: Node) -> None:
    out = node.outputs[0]
    out[...] = np.broadcast_to(node.inputs[0], out.shape)


OP = OpDef("BROADCAST_TO", run, shape=shape, check=check, types=MOVEMENT)
