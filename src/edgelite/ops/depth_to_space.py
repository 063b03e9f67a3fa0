"""DEPTH_TO_SPACE: NHWC, moves blocks of block_size x block_size channels into space
(TensorFlow's DCR order: output[b, h*bs+i, w*bs+j, c] = input[b, h, w, (i*bs+j)*C_out + c])."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops._shape import MOVEMENT, check_movement
from edgelite.ops.base import Node, OpDef


@dataclass
class DepthToSpaceOptions:
    table: ClassVar[str] = "DepthToSpaceOptions"
    block_size: int = 0


def shape(node: Node) -> list:
    n, h, w, c = node.input_shapes[0]
    bs = node.options.block_size
    return [(n, h * bs, w * bs, c // (bs * bs))]


def check(node: Node) -> None:
    dims, bs = node.input_shapes[0], node.options.block_size
    if len(dims) != 4:
        raise ModelError(f"{node.describe()}: input must be 4-D NHWC, got shape {dims}")
    if bs < 1 or dims[3] % (bs * bs):
        raise ModelError(f"{node.describe()}: block_size {bs} must be >= 1 and its square must "
                         f"divide the input depth {dims[3]}")
    check_movement(node)


def run(node: Node) -> None:
    x, bs, out = node.inputs[0], node.options.block_size, node.outputs[0]
    n, h, w, c = x.shape
    blocks = x.reshape(n, h, w, bs, bs, c // (bs * bs)).transpose(0, 1, 3, 2, 4, 5)
    out[...] = blocks.reshape(out.shape)


_TYPES = MOVEMENT - {TensorType.INT16}  # LiteRT has no int16 DEPTH_TO_SPACE kernel
OP = OpDef("DEPTH_TO_SPACE", run, shape=shape, check=check, types=_TYPES, options=DepthToSpaceOptions)
