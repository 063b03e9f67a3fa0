"""SPACE_TO_BATCH_ND: pad the spatial dimensions, then move block_shape tiles into the batch."""

from __future__ import annotations

import numpy as np

from edgelite.ops._shape import MOVEMENT, block_and_paddings, check_block_op, model_error, zero_point
from edgelite.ops.base import Node, OpDef


def _params(node: Node) -> tuple[list[int], list] | None:
    params, dims = block_and_paddings(node), node.input_shapes[0]
    if params is None:
        return None
    block, pads = params
    for axis, (b, (before, after)) in enumerate(zip(block, pads, strict=True), start=1):
        if (dims[axis] + before + after) % b:
            raise model_error(node, f"padded dimension {axis} ({dims[axis]} + {before} + {after}) "
                              f"is not a multiple of block size {b}")
    return block, pads


def shape(node: Node) -> list:
    params = _params(node)
    if params is None:
        return [None]
    block, pads = params
    dims = node.input_shapes[0]
    spatial = [(dims[i + 1] + a + b) // block[i] for i, (a, b) in enumerate(pads)]
    return [(dims[0] * int(np.prod(block)), *spatial, *dims[len(block) + 1:])]


def run(node: Node) -> None:
    block, pads = _params(node)
    x, out, m = node.inputs[0], node.outputs[0], len(block)
    rest = x.shape[m + 1:]
    x = np.pad(x, [(0, 0), *pads] + [(0, 0)] * len(rest), constant_values=zero_point(node))
    tiled = [n for i in range(m) for n in (x.shape[i + 1] // block[i], block[i])]
    x = x.reshape(x.shape[0], *tiled, *rest)
    # [batch, s1, b1, s2, b2, ..., rest] -> [b1, b2, ..., batch, s1, s2, ..., rest]
    order = [2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)]
    order += list(range(1 + 2 * m, x.ndim))
    out[...] = x.transpose(order).reshape(out.shape)


OP = OpDef("SPACE_TO_BATCH_ND", run, shape=shape, check=check_block_op, types=MOVEMENT)
