"""FILL: a tensor of the shape given by input 0, every element equal to the scalar input 1."""

from __future__ import annotations

import math

from edgelite.ops._shape import INDEX, MOVEMENT, check_index_type, int_values, model_error
from edgelite.ops.base import Node, OpDef


def shape(node: Node) -> list:
    dims = int_values(node, 0)
    if dims is not None and min(dims, default=0) < 0:
        raise model_error(node, f"dims {dims} must be non-negative")
    return [None if dims is None else tuple(dims)]


def check(node: Node) -> None:
    check_index_type(node, 0, INDEX)
    if node.input_type(1) not in MOVEMENT or math.prod(node.input_shapes[1]) != 1:
        raise model_error(node, "the value (input 1) must be a scalar of a numeric or bool type")


def run(node: Node) -> None:
    node.outputs[0][...] = node.inputs[1].reshape(-1)[0]


OP = OpDef("FILL", run, shape=shape, check=check)
