"""LOGICAL_NOT: not x (bool)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops._binary import BOOL, check_inputs, check_types
from edgelite.ops._common import same_as_input
from edgelite.ops.base import Node, OpDef


@dataclass
class LogicalNotOptions:
    table: ClassVar[str] = "LogicalNotOptions"


def check(node: Node) -> None:
    check_inputs(node, 1)
    check_types(node, (0,))


def run(node: Node) -> None:
    np.logical_not(node.inputs[0], out=node.outputs[0])


OP = OpDef("LOGICAL_NOT", run, shape=same_as_input, check=check, types=BOOL,
           options=LogicalNotOptions)
