"""SHAPE: the dimensions of input 0 as a 1-D int32 or int64 tensor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from edgelite.model.ir import TensorType
from edgelite.ops._shape import INDEX
from edgelite.ops.base import Node, OpDef


@dataclass
class ShapeOptions:
    table: ClassVar[str] = "ShapeOptions"
    out_type: TensorType = TensorType.INT32


def shape(node: Node) -> list:
    return [(len(node.input_shapes[0]),)]


def check(node: Node) -> None:
    if node.output_tensors[0].type not in INDEX:
        raise node.unsupported(f"output type {node.output_tensors[0].type.name} must be int32 or int64")


def run(node: Node) -> None:
    node.outputs[0][...] = node.inputs[0].shape


OP = OpDef("SHAPE", run, shape=shape, check=check, options=ShapeOptions)
