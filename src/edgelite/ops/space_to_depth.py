"""SPACE_TO_DEPTH: NHWC, moves block_size x block_size spatial blocks into channels
(output[b, h, w, (i*bs+j)*C + c] = input[b, h*bs+i, w*bs+j, c]); inverse of DEPTH_TO_SPACE."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops._shape import MOVEMENT, check_movement
from edgelite.ops.base import Node, OpDef


@dataclass
class SpaceToDepthOptions:
    table: ClassVar[str] = "SpaceToDepthOptions"
    block_size: int = 0


def shape(node: Node) -> list:
    n, h, w, c = node.input_shapes[0]
    bs = node.options.block_size
    return [(n, h // bs, w // bs, c * bs * bs)]


def check(node: Node) -> None:
    dims, bs = node.input_shapes[0], node.options.block_size
    if len(dims) != 4:
        raise ModelError(f"{node.describe()}: input must be 4-D NHWC, got shape {dims}")
    if bs < 1 or dims[1] % bs or dims[2] % bs:
        raise ModelError(f"{node.describe()}: block_size {bs} must be >= 1 and divide the input "
                         f"height {dims[1]} and width {dims[2]}")
    check_movement(node)


def run(node: Node) -> None:
    x, bs, out = node.inputs[0], node.options.block_size, node.outputs[0]
    n, h, w, c = x.shape
    blocks = x.reshape(n, h // bs, bs, w // bs, bs, c).transpose(0, 1, 3, 2, 4, 5)
    out[...] = blocks.reshape(out.shape)


_TYPES = MOVEMENT - {TensorType.INT16}  # LiteRT has no int16 SPACE_TO_DEPTH kernel
OP = OpDef("SPACE_TO_DEPTH", run, shape=shape, check=check, types=_TYPES, options=SpaceToDepthOptions)
