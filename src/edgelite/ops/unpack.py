"""UNPACK: split input 0 along an axis into `num` outputs without that axis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from edgelite.ops._shape import MOVEMENT, check_movement, model_error, normalize_axis, options_of
from edgelite.ops.base import Node, OpDef


@dataclass
class UnpackOptions:
    table: ClassVar[str] = "UnpackOptions"
    num: int = 0
    axis: int = 0


def shape(node: Node) -> list:
    dims = tuple(node.input_shapes[0])
    axis = normalize_axis(node, options_of(node, UnpackOptions).axis, len(dims))
    if dims[axis] != len(node.output_tensors):
        raise model_error(node, f"dimension {axis} has size {dims[axis]} but the op has "
                          f"{len(node.output_tensors)} outputs")
    return [dims[:axis] + dims[axis + 1:]] * dims[axis]


def check(node: Node) -> None:
    num = options_of(node, UnpackOptions).num
    if num and num != len(node.output_tensors):
        raise model_error(node, f"num is {num} but the op has {len(node.output_tensors)} outputs")
    check_movement(node)


def run(node: Node) -> None:
    x = node.inputs[0]
    axis = normalize_axis(node, options_of(node, UnpackOptions).axis, x.ndim)
    for k, out in enumerate(node.outputs):
        out[...] = x.take(k, axis=axis)


OP = OpDef("UNPACK", run, shape=shape, check=check, types=MOVEMENT, options=UnpackOptions)
