"""EXPAND_DIMS: insert a size-1 dimension at the axis given by input 1 (negative from the end)."""

from __future__ import annotations

from edgelite.ops._shape import check_index_type, check_movement, model_error, scalar
from edgelite.ops.base import Node, OpDef


def shape(node: Node) -> list:
    axis = scalar(node, 1)
    if axis is None:
        return [None]
    dims = list(node.input_shapes[0])
    position = axis + len(dims) + 1 if axis < 0 else axis
    if not 0 <= position <= len(dims):
        raise model_error(node, f"axis {axis} is out of range for rank {len(dims)}")
    return [tuple(dims[:position] + [1] + dims[position:])]


def check(node: Node) -> None:
    check_index_type(node, 1)
    check_movement(node)


def run(node: Node) -> None:
    out = node.outputs[0]
    out[...] = node.inputs[0].reshape(out.shape)


OP = OpDef("EXPAND_DIMS", run, shape=shape, check=check)
