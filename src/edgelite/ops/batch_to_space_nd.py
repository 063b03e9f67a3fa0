"""BATCH_TO_SPACE_ND: move block_shape tiles out of the batch into space, then crop."""

from __future__ import annotations

import numpy as np

from edgelite.ops._shape import MOVEMENT, block_and_paddings, check_block_op, model_error
from edgelite.ops.base import Node, OpDef


def _params(node: Node) -> tuple[list[int], list] | None:
    params, dims = block_and_paddings(node), node.input_shapes[0]
    if params is None:
        return None
    block, crops = params
    if dims[0] % int(np.prod(block)):
        raise model_error(node, f"block_shape {block} does not fit input shape {tuple(dims)}")
    for axis, (b, (before, after)) in enumerate(zip(block, crops, strict=True), start=1):
        if before + after > dims[axis] * b:
            raise model_error(node, f"crops {crops} exceed dimension {axis} ({dims[axis]} x {b})")
    return block, crops


def shape(node: Node) -> list:
    params = _params(node)
    if params is None:
        return [None]
    block, crops = params
    dims = node.input_shapes[0]
    spatial = [dims[i + 1] * block[i] - a - b for i, (a, b) in enumerate(crops)]
    return [(dims[0] // int(np.prod(block)), *spatial, *dims[len(block) + 1:])]


def run(node: Node) -> None:
    block, crops = _params(node)
    x, out, m = node.inputs[0], node.outputs[0], len(block)
    batch, spatial, rest = x.shape[0] // int(np.prod(block)), x.shape[1:m + 1], x.shape[m + 1:]
    x = x.reshape(*block, batch, *spatial, *rest)
    # [b1, ..., bm, batch, s1, ..., sm, rest] -> [batch, s1, b1, ..., sm, bm, rest]
    order = [m] + [n for i in range(m) for n in (m + 1 + i, i)] + list(range(2 * m + 1, x.ndim))
    x = x.transpose(order).reshape(batch, *(s * b for s, b in zip(spatial, block, strict=True)), *rest)
    index = tuple(slice(a, x.shape[i + 1] - b) for i, (a, b) in enumerate(crops))
    out[...] = x[(slice(None), *index)]


OP = OpDef("BATCH_TO_SPACE_ND", run, shape=shape, check=check_block_op, types=MOVEMENT)
