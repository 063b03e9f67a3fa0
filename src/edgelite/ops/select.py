"""SELECT: condition ? x : y where x and y have one shape and the condition has it too, is a
scalar, or is a vector choosing whole rows (x's first dimension)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.ops._binary import BOOL, check_select
from edgelite.ops.base import Node, OpDef


@dataclass
class SelectOptions:
    table: ClassVar[str] = "SelectOptions"


def shape(node: Node) -> list:
    condition, x, y = node.input_shapes
    if condition is None or x is None or y is None:
        return [None]
    rows = len(condition) == 1 and len(x) >= 1 and condition[0] == x[0]
    if tuple(x) != tuple(y) or not (tuple(condition) == tuple(x) or not condition or rows):
        raise ModelError(f"{node.describe()}: condition {tuple(condition)}, x {tuple(x)} and "
                         f"y {tuple(y)} do not fit SELECT; x and y must have one shape and the "
                         "condition that shape, a scalar or x's first dimension (or use SELECT_V2)")
    return [tuple(x)]


def run(node: Node) -> None:
    condition, x, y = node.inputs
    if condition.ndim == 1 and x.ndim > 1:
        condition = condition.reshape(condition.shape + (1,) * (x.ndim - 1))
    node.outputs[0][...] = np.where(condition, x, y)


OP = OpDef("SELECT", run, shape=shape, check=check_select, types=BOOL, options=SelectOptions)
