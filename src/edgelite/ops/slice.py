"""SLICE: the block of input 0 starting at `begin` (input 1) of extent `size` (input 2; -1 = rest)."""

from __future__ import annotations

from edgelite.ops._shape import MOVEMENT, check_index_type, check_movement, int_values, model_error
from edgelite.ops.base import Node, OpDef


def _extents(node: Node) -> list[tuple[int, int]] | None:
    begin, size, dims = int_values(node, 1), int_values(node, 2), node.input_shapes[0]
    if begin is None or size is None:
        return None
    if len(begin) != len(dims) or len(size) != len(dims):
        raise model_error(node, f"begin {begin} and size {size} must have one value per "
                          f"dimension of the rank-{len(dims)} input")
    extents = []
    for b, s, d in zip(begin, size, dims, strict=True):
        s = d - b if s == -1 else s
        if b < 0 or s < 0 or b + s > d:
            raise model_error(node, f"begin {begin} and size {size} exceed the input shape {tuple(dims)}")
        extents.append((b, s))
    return extents


def shape(node: Node) -> list:
    extents = _extents(node)
    return [None if extents is None else tuple(s for _, s in extents)]


def check(node: Node) -> None:
    check_index_type(node, 1)
    check_index_type(node, 2)
    check_movement(node)


def run(node: Node) -> None:
    index = tuple(slice(b, b + s) for b, s in _extents(node))
    node.outputs[0][...] = node.inputs[0][index]


OP = OpDef("SLICE", run, shape=shape, check=check, types=MOVEMENT)
