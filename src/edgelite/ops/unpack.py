"""UNPACK: split input 0 along an axis into `num` outputs without that axis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from edgelite.ops._shape import MOVEMENT, check_movement, check_output_count, normalize_axis, options_of
from edgelite.ops.base import Node, OpDef


@dataclass
class UnpackOptions:
    table: ClassVar[str] = "UnpackOptions"
    num: int = 0
    axis: int = 0


def shape(node: Node) -> list:
    dims = tuple(node.input_shapes[0])
    axis = normalize_axis(node, options_of(node, UnpackOptions).axis, len(dims))
    return [dims[:axis] + dims[axis + 1:]] * dims[axis]


def check(node: Node) -> None:
    dims = node.input_shapes[0]
    check_output_count(node, dims[normalize_axis(node, options_of(node, UnpackOptions).axis, len(dims))],
                       "the size of the unpacked dimension")
    check_movement(node)


def run(node: Node) -> None:
    x = node.inputs[0]
    axis = normalize_axis(node, options_of(node, UnpackOptions).axis, x.ndim)
    for k, out in enumerate(node.outputs):
        out[...] = x.take(k, axis=axis)


OP = OpDef("UNPACK", run, shape=shape, check=check, types=MOVEMENT, options=UnpackOptions)
