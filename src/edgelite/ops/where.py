"""WHERE: the int64 coordinates [num_true, rank] of the true (non-zero) elements of input 0."""

from __future__ import annotations

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._shape import MOVEMENT, model_error
from edgelite.ops.base import Node, OpDef


def shape(node: Node) -> list:
    condition = node.inputs[0]
    if condition is None:
        return [None]
    return [(int(np.count_nonzero(condition)), len(node.input_shapes[0]))]


def check(node: Node) -> None:
    if not node.input_shapes[0]:
        raise model_error(node, "the condition must have rank 1 or more (TFLite rejects scalars)")
    if node.output_tensors[0].type != TensorType.INT64:
        raise model_error(node, f"the output must be int64, not {node.output_tensors[0].type.name}")


def run(node: Node) -> None:
    node.outputs[0][...] = np.argwhere(node.inputs[0])


OP = OpDef("WHERE", run, shape=shape, check=check, types=MOVEMENT)
