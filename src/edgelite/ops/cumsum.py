"""CUMSUM: running sum along the axis input, optionally exclusive and/or reversed
(float32 accumulated in order, as TFLite does; int32/int64 wrap like C)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops._common import same_as_input
from edgelite.ops.base import Node, OpDef


@dataclass
class CumsumOptions:
    table: ClassVar[str] = "CumsumOptions"
    exclusive: bool = False
    reverse: bool = False


def axis(node: Node) -> int:
    values = np.asarray(node.inputs[1]).reshape(-1)
    rank = len(node.input_shapes[0])
    if values.size != 1 or not -rank <= int(values[0]) < rank:
        raise ModelError(f"{node.describe()}: the axis input must hold one axis in "
                         f"[{-rank}, {rank}), got {values.tolist()}")
    return int(values[0]) % rank


def check(node: Node) -> None:
    if node.input_type(1) != TensorType.INT32:
        raise ModelError(f"{node.describe()}: the axis input must be int32")
    if len(node.input_shapes[0]) < 1:
        raise ModelError(f"{node.describe()}: input must have at least one dimension")
    if node.inputs[1] is not None:
        axis(node)


def run(node: Node) -> None:
    x, o, out = node.inputs[0], node.options, node.outputs[0]
    dim = axis(node)
    if o.reverse:
        x = np.flip(x, dim)
    sums = np.cumsum(x, axis=dim, dtype=x.dtype)
    if o.exclusive:  # each position holds the sum of the elements before it
        sums = np.concatenate([np.zeros_like(np.take(sums, [0], dim)),
                               np.take(sums, np.arange(x.shape[dim] - 1), dim)], axis=dim)
    out[...] = np.flip(sums, dim) if o.reverse else sums


OP = OpDef("CUMSUM", run, shape=same_as_input, check=check,
           types=frozenset({TensorType.FLOAT32, TensorType.INT32, TensorType.INT64}),
           options=CumsumOptions)
