"""DENSIFY: expands a sparse constant (TFLite SparsityParameters) to its dense tensor
(float32, float16, int8). The input arrives as the raw bytes of the stored values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops._common import same_as_input
from edgelite.ops._sparsity import decode
from edgelite.ops._unary import check_same_type
from edgelite.ops.base import Node, OpDef


@dataclass
class DensifyOptions:
    table: ClassVar[str] = "DensifyOptions"


TYPES = frozenset({TensorType.FLOAT32, TensorType.FLOAT16, TensorType.INT8})


def densify(node: Node) -> np.ndarray:
    tensor, raw = node.input_tensors[0], node.inputs[0]
    if tensor.sparsity is None or raw is None:
        raise ModelError(f"{node.describe()}: input {tensor.name!r} must be a constant with sparsity "
                         "parameters; DENSIFY only expands sparse weights")
    raw = np.ascontiguousarray(raw).reshape(-1).view(np.uint8)
    if raw.size % tensor.dtype.itemsize:
        raise ModelError(f"{node.describe()}: sparse buffer of {raw.size} bytes is not a whole number "
                         f"of {tensor.type.name} values")
    try:
        return decode(raw.view(tensor.dtype), node.input_shapes[0], tensor.sparsity)
    except ModelError as error:
        raise ModelError(f"{node.describe()}: input {tensor.name!r}: {error}") from None


def check(node: Node) -> None:
    check_same_type(node)
    densify(node)  # validates the sparse metadata once, at prepare time


def run(node: Node) -> None:
    node.outputs[0][...] = densify(node)


OP = OpDef("DENSIFY", run, shape=same_as_input, check=check, types=TYPES, options=DensifyOptions)
