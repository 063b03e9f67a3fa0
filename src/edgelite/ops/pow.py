"""POW: x ** y with broadcasting (float32, int32; int32 rejects negative exponents at invoke)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import EdgeliteError
from edgelite.model.ir import TensorType
from edgelite.ops._binary import binary_op
from edgelite.ops.base import Node


@dataclass
class PowOptions:
    table: ClassVar[str] = "PowOptions"


def nonnegative_int_exponent(node: Node, base: np.ndarray, exponent: np.ndarray) -> None:
    if exponent.dtype.kind == "i" and np.any(exponent < 0):
        raise EdgeliteError(f"{node.describe()}: int32 POW does not support negative exponents "
                            f"(input {node.input_tensors[1].name!r}); use float32")


OP = binary_op("POW", np.power, frozenset({TensorType.FLOAT32, TensorType.INT32}),
               options=PowOptions, guard=nonnegative_int_exponent)
