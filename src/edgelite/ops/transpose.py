"""TRANSPOSE: permute the dimensions by the perm input (values in [0, rank))."""

from __future__ import annotations

import numpy as np

from edgelite.ops._shape import MOVEMENT, check_index_type, check_movement, int_values, model_error
from edgelite.ops.base import Node, OpDef


def _perm(node: Node) -> list[int] | None:
    perm, rank = int_values(node, 1), len(node.input_shapes[0])
    if perm is not None and sorted(perm) != list(range(rank)):
        raise model_error(node, f"perm {perm} is not a permutation of the {rank} input dimensions")
    return perm


def shape(node: Node) -> list:
    perm = _perm(node)
    if perm is None:
        return [None]
    return [tuple(node.input_shapes[0][p] for p in perm)]


def check(node: Node) -> None:
    check_index_type(node, 1)
    check_movement(node)


def run(node: Node) -> None:
    node.outputs[0][...] = np.transpose(node.inputs[0], _perm(node))


OP = OpDef("TRANSPOSE", run, shape=shape, check=check, types=MOVEMENT)
