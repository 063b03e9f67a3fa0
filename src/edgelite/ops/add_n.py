"""ADD_N: the elementwise sum of N inputs of one shape and type (float32, int32)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops._binary import check_types
from edgelite.ops._common import same_as_input
from edgelite.ops.base import Node, OpDef


@dataclass
class AddNOptions:
    table: ClassVar[str] = "AddNOptions"


def check(node: Node) -> None:
    if len(node.input_tensors) < 2 or None in node.input_tensors:
        raise ModelError(f"{node.describe()}: needs at least 2 inputs, has "
                         f"{sum(t is not None for t in node.input_tensors)}")
    check_types(node, range(len(node.input_tensors)))
    shapes = {tuple(s) for s in node.input_shapes if s is not None}
    if len(shapes) > 1:
        raise ModelError(f"{node.describe()}: inputs have different shapes {sorted(shapes)}; "
                         "ADD_N does not broadcast")


def run(node: Node) -> None:
    out = node.outputs[0]
    out[...] = node.inputs[0]
    for x in node.inputs[1:]:
        out += x


OP = OpDef("ADD_N", run, shape=same_as_input, check=check,
           types=frozenset({TensorType.FLOAT32, TensorType.INT32}), options=AddNOptions)
