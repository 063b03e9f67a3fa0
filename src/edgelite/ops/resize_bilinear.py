"""RESIZE_BILINEAR: NHWC bilinear resize to the size input, with TFLite's float32 coordinate and
weight formulas (align_corners, half_pixel_centers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.ops import _resize
from edgelite.ops.base import FLOAT, Node, OpDef


@dataclass
class ResizeBilinearOptions:
    table: ClassVar[str] = "ResizeBilinearOptions"
    align_corners: bool = False
    half_pixel_centers: bool = False


def interpolation(in_size: int, out_size: int, align_corners: bool, half_pixel: bool):
    """(lower index, upper index, weight of the upper one) for each output coordinate."""
    step = _resize.scale(in_size, out_size, align_corners)
    coord = np.arange(out_size, dtype=np.float32)
    coord = (coord + np.float32(0.5)) * step - np.float32(0.5) if half_pixel else coord * step
    lower = np.maximum(np.floor(coord), 0).astype(np.int64)
    upper = np.minimum(np.ceil(coord).astype(np.int64), in_size - 1)
    return lower, upper, coord - lower.astype(np.float32)


def check(node: Node) -> None:
    _resize.check(node)
    if node.options.align_corners and node.options.half_pixel_centers:
        raise ModelError(f"{node.describe()}: align_corners and half_pixel_centers cannot both be set")


def run(node: Node) -> None:
    x, o, out = node.inputs[0], node.options, node.outputs[0]
    y0, y1, dy = interpolation(x.shape[1], out.shape[1], o.align_corners, o.half_pixel_centers)
    x0, x1, dx = interpolation(x.shape[2], out.shape[2], o.align_corners, o.half_pixel_centers)
    dy, dx = dy[None, :, None, None], dx[None, None, :, None]
    one = np.float32(1)
    top, bottom = x[:, y0], x[:, y1]
    out[...] = (top[:, :, x0] * (one - dy) * (one - dx) + bottom[:, :, x0] * dy * (one - dx)
                + top[:, :, x1] * (one - dy) * dx + bottom[:, :, x1] * dy * dx)


OP = OpDef("RESIZE_BILINEAR", run, shape=_resize.shape, check=check, types=FLOAT,
           options=ResizeBilinearOptions)
