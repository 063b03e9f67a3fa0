"""SPLIT: cut input 1 into num_splits equal pieces along the axis held by input 0."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from edgelite.ops._shape import (
    MOVEMENT,
    check_index_type,
    check_movement,
    check_output_count,
    model_error,
    normalize_axis,
    options_of,
    scalar,
    split_run,
    split_shapes,
)
from edgelite.ops.base import Node, OpDef


@dataclass
class SplitOptions:
    table: ClassVar[str] = "SplitOptions"
    num_splits: int = 0


def _count(node: Node) -> int:
    return options_of(node, SplitOptions).num_splits or len(node.output_tensors)


def shape(node: Node) -> list:
    axis, count = scalar(node, 0), _count(node)
    if axis is None:
        return [None] * count
    size = node.input_shapes[1][normalize_axis(node, axis, len(node.input_shapes[1]))]
    if count <= 0 or size % count:
        raise model_error(node, f"dimension {axis} of size {size} does not split into {count} pieces")
    return split_shapes(node, 1, axis, [size // count] * count, count)


def check(node: Node) -> None:
    check_index_type(node, 0)
    if node.input_type(1) not in MOVEMENT:
        raise node.unsupported(f"input type {node.input_type(1).name} is not supported")
    check_output_count(node, _count(node), "num_splits")
    check_movement(node, (1,))


def run(node: Node) -> None:
    split_run(node, 1, scalar(node, 0))


OP = OpDef("SPLIT", run, shape=shape, check=check, options=SplitOptions)
