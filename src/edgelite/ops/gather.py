"""GATHER: pick slices of input 0 along `axis` at the indices of input 1, per batch_dims batch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._shape import (
    INDEX,
    MOVEMENT,
    check_index_type,
    check_movement,
    input_error,
    model_error,
    normalize_axis,
    options_of,
)
from edgelite.ops.base import Node, OpDef


@dataclass
class GatherOptions:
    table: ClassVar[str] = "GatherOptions"
    axis: int = 0
    batch_dims: int = 0


def _axes(node: Node) -> tuple[int, int]:
    """(axis, batch_dims), both normalized and validated against the operand ranks."""
    o = options_of(node, GatherOptions)
    params, indices = node.input_shapes[0], node.input_shapes[1]
    axis = normalize_axis(node, o.axis, len(params))
    batch_dims = o.batch_dims + len(indices) if o.batch_dims < 0 else o.batch_dims
    if not 0 <= batch_dims <= min(axis, len(indices)):
        raise model_error(node, f"batch_dims {o.batch_dims} must lie in [0, min(axis {axis}, "
                          f"indices rank {len(indices)})]")
    if tuple(params[:batch_dims]) != tuple(indices[:batch_dims]):
        raise model_error(node, f"the first {batch_dims} dimensions of params {tuple(params)} and "
                          f"indices {tuple(indices)} differ")
    return axis, batch_dims


def shape(node: Node) -> list:
    axis, batch_dims = _axes(node)
    params, indices = tuple(node.input_shapes[0]), tuple(node.input_shapes[1])
    return [params[:axis] + indices[batch_dims:] + params[axis + 1:]]


def check(node: Node) -> None:
    check_index_type(node, 1, INDEX | {TensorType.INT16})
    check_movement(node)


def run(node: Node) -> None:
    params, indices, out = node.inputs[0], node.inputs[1], node.outputs[0]
    axis, batch_dims = _axes(node)
    bad = (indices < 0) | (indices >= params.shape[axis])
    if bad.any():
        raise input_error(node, f"index {int(indices[bad][0])} is out of range [0, "
                          f"{params.shape[axis]}) for axis {axis} of input 0")
    if batch_dims == 0:
        out[...] = np.take(params, indices, axis=axis)
        return
    batches = int(np.prod(params.shape[:batch_dims], dtype=np.int64))
    params = params.reshape((batches,) + params.shape[batch_dims:])
    indices = indices.reshape((batches,) + indices.shape[batch_dims:])
    pieces = [np.take(params[b], indices[b], axis=axis - batch_dims) for b in range(batches)]
    out[...] = np.stack(pieces).reshape(out.shape) if pieces else 0


OP = OpDef("GATHER", run, shape=shape, check=check, types=MOVEMENT, options=GatherOptions)
