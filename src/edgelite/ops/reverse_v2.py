"""REVERSE_V2: reverse input 0 along the axes listed in input 1 (negative from the end)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._common import same_as_input
from edgelite.ops._shape import MOVEMENT, check_index_type, check_movement, int_values, normalize_axis
from edgelite.ops.base import Node, OpDef


def _axes(node: Node) -> list[int] | None:
    axes, rank = int_values(node, 1), len(node.input_shapes[0])
    return None if axes is None else [normalize_axis(node, a, rank) for a in axes]


def check(node: Node) -> None:
    check_index_type(node, 1)
    check_movement(node)
    _axes(node)


def run(node: Node) -> None:
    node.outputs[0][...] = np.flip(node.inputs[0], axis=tuple(_axes(node)))


OP = OpDef("REVERSE_V2", run, shape=same_as_input, check=check, types=MOVEMENT)
