"""LOG_SOFTMAX: x - max - log(sum(exp(x - max))) over the last axis (float32)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops._common import same_as_input
from edgelite.ops._unary import check_has_last_axis
from edgelite.ops.base import FLOAT, Node, OpDef


@dataclass
class LogSoftmaxOptions:
    table: ClassVar[str] = "LogSoftmaxOptions"


def run(node: Node) -> None:
    x, out = node.inputs[0], node.outputs[0]
    if x.size == 0:
        return
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        shifted = x - x.max(axis=-1, keepdims=True)
        out[...] = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


OP = OpDef("LOG_SOFTMAX", run, shape=same_as_input, check=check_has_last_axis, types=FLOAT,
           options=LogSoftmaxOptions)
