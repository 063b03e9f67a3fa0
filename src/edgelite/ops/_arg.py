"""Shared machinery of ARG_MAX and ARG_MIN: the axis input (constant or dynamic, negative),
output shape and type checks, and one builder. Ties give the first index, as in TFLite."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops.base import Node, OpDef

ArgFn = Callable[..., np.ndarray]  # np.argmax / np.argmin: first index on ties
TYPES = frozenset({TensorType.FLOAT32, TensorType.INT32, TensorType.INT8, TensorType.UINT8,
                   TensorType.BOOL})
_INDEX_TYPES = frozenset({TensorType.INT32, TensorType.INT64})


def axis(node: Node) -> int | None:
    """The axis input as a non-negative axis; None while its value is unknown."""
    value = node.inputs[1]
    if value is None:
        return None
    values = np.asarray(value).reshape(-1)
    rank = len(node.input_shapes[0])
    if values.size != 1 or not -rank <= int(values[0]) < rank:
        raise ModelError(f"{node.describe()}: the axis input must hold one axis in "
                         f"[{-rank}, {rank}), got {values.tolist()}")
    return int(values[0]) % rank


def shape(node: Node) -> list:
    dim = axis(node)
    if dim is None:
        return [None]
    return [tuple(d for i, d in enumerate(node.input_shapes[0]) if i != dim)]


def check(node: Node) -> None:
    output_type = node.options.output_type
    if output_type not in _INDEX_TYPES:
        raise ModelError(f"{node.describe()}: output_type must be INT32 or INT64, got "
                         f"{getattr(output_type, 'name', output_type)}")
    if node.output_tensors[0].type != output_type:
        raise ModelError(f"{node.describe()}: output tensor is {node.output_tensors[0].type.name} "
                         f"but output_type is {output_type.name}")
    if node.input_type(1) not in _INDEX_TYPES:
        raise ModelError(f"{node.describe()}: the axis input must be int32 or int64")
    if len(node.input_shapes[0]) < 1:
        raise ModelError(f"{node.describe()}: input must have at least one dimension")


def arg_op(name: str, arg: ArgFn, options: type) -> OpDef:
    def run(node: Node) -> None:
        out = node.outputs[0]
        out[...] = arg(node.inputs[0], axis=axis(node)).reshape(out.shape)

    return OpDef(name, run, shape=shape, check=check, types=TYPES, options=options)
