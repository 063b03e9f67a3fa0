"""PACK: stack values_count equally shaped inputs along a new axis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops._shape import MOVEMENT, check_movement, model_error, options_of
from edgelite.ops.base import Node, OpDef


@dataclass
class PackOptions:
    table: ClassVar[str] = "PackOptions"
    values_count: int = 0
    axis: int = 0


def _axis(node: Node, rank: int) -> int:
    axis = options_of(node, PackOptions).axis
    if not -rank - 1 <= axis <= rank:
        raise model_error(node, f"axis {axis} is out of range for packing rank-{rank} inputs")
    return axis + rank + 1 if axis < 0 else axis


def shape(node: Node) -> list:
    first = tuple(node.input_shapes[0])
    for i, dims in enumerate(node.input_shapes):
        if tuple(dims) != first:
            raise model_error(node, f"input {i} has shape {tuple(dims)}, input 0 has {first}")
    axis = _axis(node, len(first))
    return [first[:axis] + (len(node.input_shapes),) + first[axis:]]


def check(node: Node) -> None:
    count = options_of(node, PackOptions).values_count
    if count and count != len(node.input_tensors):
        raise model_error(node, f"values_count is {count} but the op has "
                          f"{len(node.input_tensors)} inputs")
    check_movement(node, range(len(node.input_tensors)))


def run(node: Node) -> None:
    out = node.outputs[0]
    out[...] = np.stack(node.inputs, axis=_axis(node, out.ndim - 1))


OP = OpDef("PACK", run, shape=shape, check=check, types=MOVEMENT, options=PackOptions)
