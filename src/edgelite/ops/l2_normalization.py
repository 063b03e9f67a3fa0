"""L2_NORMALIZATION: x / max(||x||_2, 1e-6) along the last axis (float32, rank <= 4).

TFLite clamps the norm (not the squared norm) with a fixed epsilon of 1e-6 and rejects fused
activations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.ops._common import Activation, same_as_input
from edgelite.ops.base import FLOAT, Node, OpDef

EPSILON = np.float32(1e-6)


@dataclass
class L2NormOptions:
    table: ClassVar[str] = "L2NormOptions"
    fused_activation_function: Activation = Activation.NONE


def check(node: Node) -> None:
    if not 1 <= len(node.input_shapes[0]) <= 4:
        raise ModelError(f"{node.describe()}: input rank must be 1 to 4, got {node.input_shapes[0]}")
    if node.options.fused_activation_function != Activation.NONE:
        raise ModelError(f"{node.describe()}: TFLite's L2_NORMALIZATION takes no fused activation, "
                         f"got {node.options.fused_activation_function!r}")


def run(node: Node) -> None:
    x = node.inputs[0]
    norm = np.sqrt(np.sum(np.square(x), axis=-1, keepdims=True, dtype=np.float32))
    np.divide(x, np.maximum(norm, EPSILON), out=node.outputs[0])


OP = OpDef("L2_NORMALIZATION", run, shape=same_as_input, check=check, types=FLOAT,
           options=L2NormOptions)
