"""SELECT_V2: condition ? x : y, broadcasting all three inputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops._binary import BOOL, broadcast_all, check_select
from edgelite.ops.base import Node, OpDef


@dataclass
class SelectV2Options:
    table: ClassVar[str] = "SelectV2Options"


def run(node: Node) -> None:
    condition, x, y = node.inputs
    node.outputs[0][...] = np.where(condition, x, y)


OP = OpDef("SELECT_V2", run, shape=broadcast_all, check=check_select, types=BOOL,
           options=SelectV2Options)
