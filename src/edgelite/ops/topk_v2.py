"""TOPK_V2: the k largest values along the last axis and their indices, sorted by descending
value; equal values keep ascending index order, as in TFLite."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops.base import Node, OpDef

_INDEX_TYPES = frozenset({TensorType.INT32, TensorType.INT64, TensorType.INT16})


@dataclass
class TopKV2Options:
    table: ClassVar[str] = "TopKV2Options"


def k_value(node: Node) -> int | None:
    values = node.inputs[1]
    if values is None:
        return None
    values = np.asarray(values).reshape(-1)
    depth = node.input_shapes[0][-1]
    if values.size != 1 or not 0 <= int(values[0]) <= depth:
        raise ModelError(f"{node.describe()}: k must be one value in [0, {depth}] (the last "
                         f"dimension), got {values.tolist()}")
    return int(values[0])


def shape(node: Node) -> list:
    k = k_value(node)
    if k is None:
        return [None, None]
    dims = tuple(node.input_shapes[0][:-1]) + (k,)
    return [dims, dims]


def check(node: Node) -> None:
    if len(node.input_shapes[0]) < 1:
        raise ModelError(f"{node.describe()}: input must have at least one dimension")
    if node.input_type(1) not in (TensorType.INT32, TensorType.INT16):
        raise ModelError(f"{node.describe()}: k must be int32, got {node.input_type(1).name}")
    values, indices = node.output_tensors
    if values.type != node.input_type(0) or indices.type not in _INDEX_TYPES:
        raise ModelError(f"{node.describe()}: outputs must be (values of the input type, "
                         f"int32 indices), got ({values.type.name}, {indices.type.name})")
    if _quantization(node.input_tensors[0]) != _quantization(values):
        raise node.unsupported("values output quantized differently from the input; "
                               "give both the same scale and zero point")


def _quantization(tensor) -> tuple | None:
    q = tensor.quantization
    return None if q is None or q.scale.size == 0 else (q.scale.tolist(), q.zero_point.tolist())


def run(node: Node) -> None:
    x = node.inputs[0]
    values, indices = node.outputs
    k = values.shape[-1]
    # A stable ascending sort of the reversed row, read backwards: descending values, and
    # among equal values the lower index first.
    ascending = np.argsort(x[..., ::-1], axis=-1, kind="stable")
    order = (x.shape[-1] - 1 - ascending)[..., ::-1][..., :k]
    indices[...] = order
    values[...] = np.take_along_axis(x, order, axis=-1)


OP = OpDef("TOPK_V2", run, shape=shape, check=check,
           types=frozenset({TensorType.FLOAT32, TensorType.INT32, TensorType.INT64,
                            TensorType.INT8, TensorType.UINT8, TensorType.INT16}),
           options=TopKV2Options)
