"""Shared machinery of RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR: the size input, output
shape, checks, and TFLite's source-coordinate scale (computed in float32, as TFLite does)."""

from __future__ import annotations

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops.base import Node


def output_size(node: Node) -> tuple[int, int] | None:
    """The (height, width) size input; None while its value is unknown."""
    size = node.inputs[1]
    if size is None:
        return None
    values = [int(v) for v in np.asarray(size).reshape(-1)]
    if len(values) != 2 or min(values) < 1:
        raise ModelError(f"{node.describe()}: the size input must hold two positive values "
                         f"(new_height, new_width), got {values}")
    return values[0], values[1]


def shape(node: Node) -> list:
    size = output_size(node)
    if size is None:
        return [None]
    n, _, _, c = node.input_shapes[0]
    return [(n, *size, c)]


def check(node: Node) -> None:
    dims, size_dims = node.input_shapes[0], node.input_shapes[1]
    if len(dims) != 4:
        raise ModelError(f"{node.describe()}: input must be 4-D NHWC, got shape {dims}")
    if node.input_type(1) != TensorType.INT32 or tuple(size_dims) != (2,):
        raise ModelError(f"{node.describe()}: the size input must be an int32 tensor of shape [2], "
                         f"got {node.input_type(1).name} {size_dims}")
    if node.output_tensors[0].type != node.input_type(0):
        raise ModelError(f"{node.describe()}: output type differs from the input type")


def scale(in_size: int, out_size: int, align_corners: bool) -> np.float32:
    """Input pixels per output pixel: (in-1)/(out-1) with align_corners, else in/out."""
    if align_corners and out_size > 1:
        return np.float32(in_size - 1) / np.float32(out_size - 1)
    return np.float32(in_size) / np.float32(out_size)
