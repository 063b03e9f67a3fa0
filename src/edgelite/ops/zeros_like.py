"""ZEROS_LIKE: zeros of input 0's shape and type."""

from __future__ import annotations

from edgelite.model.ir import TensorType
from edgelite.ops._common import same_as_input
from edgelite.ops.base import Node, OpDef


def run(node: Node) -> None:
    node.outputs[0][...] = 0


OP = OpDef("ZEROS_LIKE", run, shape=same_as_input,
           types=frozenset({TensorType.FLOAT32, TensorType.INT32, TensorType.INT64}))
