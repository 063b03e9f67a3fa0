"""Shared machinery of the reductions (MEAN, SUM, REDUCE_MAX/MIN/PROD/ANY/ALL): the
ReducerOptions table, axis resolution (negative, duplicate, constant or dynamic axes), shape
inference with keep_dims, and one builder turning a numpy reduction into an OpDef."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops._shape import check_movement
from edgelite.ops.base import Node, OpDef

ReduceFn = Callable[[np.ndarray, tuple[int, ...]], np.ndarray]
_AXIS_TYPES = frozenset({TensorType.INT32, TensorType.INT64})


@dataclass
class ReducerOptions:
    table: ClassVar[str] = "ReducerOptions"
    keep_dims: bool = False


def reduced_axes(node: Node) -> tuple[int, ...] | None:
    """The axes input as sorted unique non-negative axes; None while its value is unknown."""
    values = node.inputs[1]
    if values is None:
        return None
    rank = len(node.input_shapes[0])
    axes = set()
    for axis in np.asarray(values).reshape(-1).tolist():
        if rank == 0 and axis in (-1, 0):  # TFLite reduces a scalar to itself
            continue
        if not -rank <= axis < rank:
            raise ModelError(f"{node.describe()}: axis {axis} is out of range for an input of "
                             f"rank {rank}; use an axis in [{-rank}, {rank})")
        axes.add(axis + rank if axis < 0 else axis)
    return tuple(sorted(axes))


def shape(node: Node) -> list:
    axes = reduced_axes(node)
    if axes is None:
        return [None]
    dims = node.input_shapes[0]
    if node.options.keep_dims:
        return [tuple(1 if i in axes else d for i, d in enumerate(dims))]
    return [tuple(d for i, d in enumerate(dims) if i not in axes)]


def check(node: Node) -> None:
    axis_type = node.input_type(1)
    if axis_type not in _AXIS_TYPES:
        raise ModelError(f"{node.describe()}: the axes input must be int32 (or int64), "
                         f"got {axis_type.name}")
    if node.output_tensors[0].type != node.input_type(0):
        raise ModelError(f"{node.describe()}: output type {node.output_tensors[0].type.name} "
                         f"differs from the input type {node.input_type(0).name}")
    check_movement(node)  # MAX/MIN of 8/16-bit values: exact only with unchanged quantization


def reduced_count(x: np.ndarray, axes: tuple[int, ...]) -> int:
    """How many input elements fold into each output element."""
    return int(np.prod([x.shape[a] for a in axes], dtype=np.int64))


def reduce_op(name: str, reduce: ReduceFn, types: frozenset[TensorType]) -> OpDef:
    """An OpDef for a reduction; `reduce(x, axes)` may return the result with or without the
    reduced dimensions (it is reshaped to the output)."""

    def run(node: Node) -> None:
        out = node.outputs[0]
        out[...] = np.asarray(reduce(node.inputs[0], reduced_axes(node))).reshape(out.shape)

    return OpDef(name, run, shape=shape, check=check, types=types, options=ReducerOptions)


ORDERED = frozenset({TensorType.FLOAT32, TensorType.INT32, TensorType.INT64, TensorType.INT8,
                     TensorType.UINT8, TensorType.INT16})


def limits(dtype: np.dtype) -> tuple:
    """(lowest, highest) finite value of a dtype: TFLite's start values for MAX and MIN."""
    info = np.finfo(dtype) if np.issubdtype(dtype, np.floating) else np.iinfo(dtype)
    return info.min, info.max
