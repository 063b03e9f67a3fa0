"""TILE: repeat input 0 `multiples[i]` times along each dimension i."""

from __future__ import annotations

import numpy as np

from edgelite.ops._shape import MOVEMENT, check_index_type, check_movement, int_values, model_error
from edgelite.ops.base import Node, OpDef


def _multiples(node: Node) -> list[int] | None:
    multiples, rank = int_values(node, 1), len(node.input_shapes[0])
    if multiples is not None and (len(multiples) != rank or min(multiples, default=0) < 0):
        raise model_error(node, f"multiples {multiples} must be {rank} non-negative values")
    return multiples


def shape(node: Node) -> list:
    multiples = _multiples(node)
    if multiples is None:
        return [None]
    return [tuple(d * m for d, m in zip(node.input_shapes[0], multiples, strict=True))]


def check(node: Node) -> None:
    check_index_type(node, 1)
    check_movement(node)


def run(node: Node) -> None:
    node.outputs[0][...] = np.tile(node.inputs[0], _multiples(node))


OP = OpDef("TILE", run, shape=shape, check=check, types=MOVEMENT)
