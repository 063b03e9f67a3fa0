"""Shared machinery of the reductions (MEAN, SUM, REDUCE_MAX/MIN/PROD/ANY/ALL): the
ReducerOptions table, axis resolution (negative, duplicate, constant or dynamic axes), shape
inference with keep_dims, and one builder turning a numpy reduction into an OpDef.

Quantized (int8/uint8/int16) inputs: MAX/MIN compare raw integers and need the output quantized
like the input (TFLite checks it); MEAN and SUM requantize through their own integer kernels.
int16 must be symmetric (zero point 0) for every reduction, as TFLite requires."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops._quant import quantization_of, wrap_int32
from edgelite.ops._shape import check_movement
from edgelite.ops.base import Node, OpDef

ReduceFn = Callable[[np.ndarray, tuple[int, ...]], np.ndarray]
QuantizedReduceFn = Callable[[Node, np.ndarray, tuple[int, ...]], np.ndarray]
_AXIS_TYPES = frozenset({TensorType.INT32, TensorType.INT64})
QUANTIZED = frozenset({TensorType.INT8, TensorType.UINT8, TensorType.INT16})


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
        return [tuple([1 if i in axes else d for i, d in enumerate(dims)])]
    return [tuple([d for i, d in enumerate(dims) if i not in axes])]


def check(node: Node, requantizes: bool = False) -> None:
    axis_type = node.input_type(1)
    if axis_type not in _AXIS_TYPES:
        raise ModelError(f"{node.describe()}: the axes input must be int32 (or int64), "
                         f"got {axis_type.name}")
    if node.output_tensors[0].type != node.input_type(0):
        raise ModelError(f"{node.describe()}: output type {node.output_tensors[0].type.name} "
                         f"differs from the input type {node.input_type(0).name}")
    if node.input_type(0) == TensorType.INT16:
        for tensor in (node.input_tensors[0], node.output_tensors[0]):
            quantization = tensor.quantization
            if quantization is not None and np.any(quantization.zero_point != 0):
                raise ModelError(f"{node.describe()}: int16 tensor {tensor.name!r} has zero point "
                                 f"{quantization.zero_point.tolist()}; int16 reductions need a "
                                 "symmetric quantization (zero point 0)")
    if not requantizes:
        check_movement(node)  # MAX/MIN of 8/16-bit values: exact only with unchanged quantization
    elif node.input_type(0) in QUANTIZED:
        quantization_of(node.input_tensors[0], "input")
        quantization_of(node.output_tensors[0], "output")


def reduced_count(x: np.ndarray, axes: tuple[int, ...]) -> int:
    """How many input elements fold into each output element."""
    return int(np.prod([x.shape[a] for a in axes], dtype=np.int64))


def reduce_op(name: str, reduce: ReduceFn, types: frozenset[TensorType],
              quantized: QuantizedReduceFn | None = None) -> OpDef:
    """An OpDef for a reduction; `reduce(x, axes)` may return the result with or without the
    reduced dimensions (it is reshaped to the output). `quantized(node, x, axes)`, when given,
    computes the 8/16-bit types listed in `types` with requantization to the output's scale
    and zero point."""

    def run(node: Node) -> None:
        out, x, axes = node.outputs[0], node.inputs[0], reduced_axes(node)
        if quantized is not None and node.input_type(0) in QUANTIZED:
            out[...] = np.asarray(quantized(node, x, axes)).reshape(out.shape)
            return
        out[...] = np.asarray(reduce(x, axes)).reshape(out.shape)

    def check_reduction(node: Node) -> None:
        check(node, requantizes=quantized is not None)

    return OpDef(name, run, shape=shape, check=check_reduction, types=types, options=ReducerOptions)


def quantized_params(node: Node) -> tuple[float, int, float, int]:
    """(input scale, input zero point, output scale, output zero point), per tensor."""
    qi = quantization_of(node.input_tensors[0], "input")
    qo = quantization_of(node.output_tensors[0], "output")
    return (np.float32(qi.scale.reshape(-1)[0]), int(qi.zero_point.reshape(-1)[0]),
            np.float32(qo.scale.reshape(-1)[0]), int(qo.zero_point.reshape(-1)[0]))


def int32_sum(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """The sum TFLite's quantized MEAN/SUM accumulate: an int32 that wraps on overflow."""
    return wrap_int32(np.sum(x, axis=axes, dtype=np.int64))


ORDERED = frozenset({TensorType.FLOAT32, TensorType.INT32, TensorType.INT64, TensorType.INT8,
                     TensorType.UINT8, TensorType.INT16})


def limits(dtype: np.dtype) -> tuple:
    """(lowest, highest) finite value of a dtype: TFLite's start values for MAX and MIN."""
    info = np.finfo(dtype) if np.issubdtype(dtype, np.floating) else np.iinfo(dtype)
    return info.min, info.max
