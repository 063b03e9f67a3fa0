"""RESIZE_NEAREST_NEIGHBOR: NHWC resize to the size input, copying the nearest source pixel with
TFLite's float32 coordinate rule (round half away from zero with align_corners, else floor)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops import _resize
from edgelite.ops._shape import MOVEMENT, check_movement
from edgelite.ops.base import Node, OpDef


@dataclass
class ResizeNearestNeighborOptions:
    table: ClassVar[str] = "ResizeNearestNeighborOptions"
    align_corners: bool = False
    half_pixel_centers: bool = False


def source_index(in_size: int, out_size: int, align_corners: bool, half_pixel: bool) -> np.ndarray:
    """For each output coordinate, the input coordinate it copies."""
    offset = np.float32(0.5 if half_pixel else 0.0)
    coord = (np.arange(out_size, dtype=np.float32) + offset) * _resize.scale(in_size, out_size, align_corners)
    if align_corners:  # TfLiteRound: half away from zero (coord >= 0; coord - floor is exact)
        index = np.floor(coord) + (coord - np.floor(coord) >= 0.5)
    else:
        index = np.floor(coord)
    return np.clip(index.astype(np.int64), 0, in_size - 1)


def check(node: Node) -> None:
    _resize.check(node)
    check_movement(node)


def run(node: Node) -> None:
    x, o, out = node.inputs[0], node.options, node.outputs[0]
    rows = source_index(x.shape[1], out.shape[1], o.align_corners, o.half_pixel_centers)
    cols = source_index(x.shape[2], out.shape[2], o.align_corners, o.half_pixel_centers)
    out[...] = x[:, rows][:, :, cols]


OP = OpDef("RESIZE_NEAREST_NEIGHBOR", run, shape=_resize.shape, check=check, types=MOVEMENT,
           options=ResizeNearestNeighborOptions)
