"""SOFTMAX: exp(beta * (x - max)) normalized over the last axis (float32, float16)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops._common import same_as_input
from edgelite.ops._unary import FLOAT_HALF, check_has_last_axis
from edgelite.ops.base import Node, OpDef


@dataclass
class SoftmaxOptions:
    table: ClassVar[str] = "SoftmaxOptions"
    beta: float = 0.0


def run(node: Node) -> None:
    x, out = node.inputs[0], node.outputs[0]
    if x.size == 0:
        return
    beta = np.float32(node.options.beta if node.options is not None else 0.0)
    x = x.astype(np.float32, copy=False)
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp((x - x.max(axis=-1, keepdims=True)) * beta)
        out[...] = e * (1 / e.sum(axis=-1, keepdims=True))


OP = OpDef("SOFTMAX", run, shape=same_as_input, check=check_has_last_axis, types=FLOAT_HALF,
           options=SoftmaxOptions)
