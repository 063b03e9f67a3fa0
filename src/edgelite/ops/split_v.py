"""SPLIT_V: cut input 0 along axis (input 2) into pieces of size_splits (input 1; one may be -1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from edgelite.ops._shape import (
    MOVEMENT,
    check_index_type,
    check_movement,
    check_output_count,
    int_values,
    options_of,
    scalar,
    split_run,
    split_shapes,
)
from edgelite.ops.base import Node, OpDef


@dataclass
class SplitVOptions:
    table: ClassVar[str] = "SplitVOptions"
    num_splits: int = 0


def _count(node: Node) -> int:
    return options_of(node, SplitVOptions).num_splits or len(node.output_tensors)


def shape(node: Node) -> list:
    return split_shapes(node, 0, scalar(node, 2), int_values(node, 1), _count(node))


def check(node: Node) -> None:
    check_index_type(node, 1)
    check_index_type(node, 2)
    check_output_count(node, _count(node), "num_splits")
    check_movement(node)


def run(node: Node) -> None:
    split_run(node, 0, scalar(node, 2))


OP = OpDef("SPLIT_V", run, shape=shape, check=check, types=MOVEMENT, options=SplitVOptions)
