"""RANGE: start, start + delta, ... up to (excluding) limit; int32, int64 or float32 scalars."""

from __future__ import annotations

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._shape import input_error, model_error
from edgelite.ops.base import Node, OpDef

TYPES = frozenset({TensorType.INT32, TensorType.INT64, TensorType.FLOAT32})


def _size(node: Node, start, limit, delta) -> int:
    if delta == 0 or not ((start >= limit and delta < 0) or (start <= limit and delta > 0)):
        raise input_error(node, f"cannot count from {start} to {limit} in steps of {delta}")
    if np.issubdtype(np.asarray(delta).dtype, np.integer):
        return int((abs(int(limit) - int(start)) + abs(int(delta)) - 1) // abs(int(delta)))
    return int(np.ceil(np.abs((limit - start) / delta)))  # in float32, as TFLite computes it


def _scalars(node: Node) -> list | None:
    if any(v is None for v in node.inputs[:3]):
        return None
    return [np.asarray(v).reshape(-1)[0] for v in node.inputs[:3]]


def shape(node: Node) -> list:
    values = _scalars(node)
    return [None if values is None else (_size(node, *values),)]


def check(node: Node) -> None:
    kinds = {t.type for t in node.input_tensors[:3] if t is not None}
    if len(kinds) != 1 or any(int(np.prod(s)) != 1 for s in node.input_shapes[:3]):
        raise model_error(node, "start, limit and delta must be scalars of one type")


def run(node: Node) -> None:
    start, _, delta = _scalars(node)
    out = node.outputs[0]
    if np.issubdtype(out.dtype, np.integer):
        out[...] = start + np.arange(out.size, dtype=out.dtype) * delta
    else:  # TFLite accumulates value += delta, so rounding compounds the same way
        steps = np.full(out.size, delta, dtype=out.dtype)
        if out.size:
            steps[0] = start
        np.add.accumulate(steps, out=out)


OP = OpDef("RANGE", run, shape=shape, check=check, types=TYPES)
