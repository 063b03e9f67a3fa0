"""GATHER_ND: gather slices of input 0 addressed by the last dimension of the indices (input 1)."""

from __future__ import annotations

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._shape import INDEX, MOVEMENT, check_index_type, check_movement, input_error, model_error
from edgelite.ops.base import Node, OpDef


def shape(node: Node) -> list:
    params, indices = tuple(node.input_shapes[0]), tuple(node.input_shapes[1])
    if not indices or indices[-1] > len(params):
        raise model_error(node, f"indices of shape {indices} cannot address input 0 of shape {params}")
    return [indices[:-1] + params[indices[-1]:]]


def check(node: Node) -> None:
    check_index_type(node, 1, INDEX | {TensorType.INT16})
    check_movement(node)


def run(node: Node) -> None:
    params, indices, out = node.inputs[0], node.inputs[1], node.outputs[0]
    depth = indices.shape[-1]
    flat = indices.reshape(-1, depth).astype(np.int64)
    bad = (flat < 0) | (flat >= np.array(params.shape[:depth], dtype=np.int64))
    if bad.any():
        where = tuple(int(v) for v in flat[np.argmax(bad.any(axis=1))])
        raise input_error(node, f"index {where} is out of range for input 0 of shape {params.shape}")
    slice_size = int(np.prod(params.shape[depth:], dtype=np.int64))
    strides = np.array([int(np.prod(params.shape[j + 1:depth], dtype=np.int64)) * slice_size
                        for j in range(depth)], dtype=np.int64)
    starts = flat @ strides
    gathered = params.reshape(-1)[starts[:, None] + np.arange(slice_size)]
    out[...] = gathered.reshape(out.shape)


OP = OpDef("GATHER_ND", run, shape=shape, check=check, types=MOVEMENT)
