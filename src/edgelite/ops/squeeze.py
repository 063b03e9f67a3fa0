"""SQUEEZE: drop the size-1 dimensions listed in squeeze_dims (all of them when empty)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from edgelite.ops._shape import check_movement, model_error, normalize_axis
from edgelite.ops.base import Node, OpDef


@dataclass
class SqueezeOptions:
    table: ClassVar[str] = "SqueezeOptions"
    squeeze_dims: tuple[int, ...] = ()


def shape(node: Node) -> list:
    dims = node.input_shapes[0]
    wanted = getattr(node.options, "squeeze_dims", None) or ()
    if not wanted:
        return [tuple(d for d in dims if d != 1)]
    axes = {normalize_axis(node, a, len(dims), "squeeze dim") for a in wanted}
    for axis in axes:
        if dims[axis] != 1:
            raise model_error(node, f"cannot squeeze dimension {axis} of size {dims[axis]}")
    return [tuple(d for i, d in enumerate(dims) if i not in axes)]


def run(node: Node) -> None:
    out = node.outputs[0]
    out[...] = node.inputs[0].reshape(out.shape)


OP = OpDef("SQUEEZE", run, shape=shape, check=check_movement, options=SqueezeOptions)
