"""RESIZE_BILINEAR: NHWC bilinear resize to the size input, with TFLite's float32 coordinate and
weight formulas (align_corners, half_pixel_centers).

8/16-bit inputs are resized as raw integers and keep their quantization (TFLite never
requantizes here): int8 and int16 with TFLite's integer kernel (10-bit fixed-point coordinates,
20-bit products, rounded half away from zero), uint8 with its optimized float kernel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops import _resize
from edgelite.ops.base import FLOAT, Node, OpDef

_ONE = 1 << 10  # 1.0 in the integer kernel's 10-bit fixed-point coordinates


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


def _c_divide(a: np.ndarray, b: int) -> np.ndarray:
    """C's integer division (truncates toward zero)."""
    return np.where(a >= 0, a // b, -((-a) // b))


def integer_interpolation(in_size: int, out_size: int, align_corners: bool, half_pixel: bool):
    """ComputeInterpolationValuesInteger: (lower, upper, upper's weight in 1/1024ths); the step
    is in_size/out_size rounded to 10 fractional bits. The lower index is also kept inside the
    input, where TFLite would read past it for some extreme upsamplings."""
    if align_corners and out_size > 1:
        step = (_ONE * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    else:
        step = (_ONE * in_size + out_size // 2) // out_size
    coord = np.arange(out_size, dtype=np.int64) * step
    if half_pixel:
        coord += step // 2 - _ONE // 2
    lower = np.clip(_c_divide(coord, _ONE), 0, in_size - 1)
    upper = np.minimum(_c_divide(coord + _ONE - 1, _ONE), in_size - 1)
    return lower, upper, coord - _ONE * lower


def check(node: Node) -> None:
    _resize.check(node)
    if node.options.align_corners and node.options.half_pixel_centers:
        raise ModelError(f"{node.describe()}: align_corners and half_pixel_centers cannot both be set")


def run(node: Node) -> None:
    x, o, out = node.inputs[0], node.options, node.outputs[0]
    if x.dtype in (np.int8, np.int16):
        out[...] = _resize_integer(x, out.shape, o.align_corners, o.half_pixel_centers)
        return
    y0, y1, dy = interpolation(x.shape[1], out.shape[1], o.align_corners, o.half_pixel_centers)
    x0, x1, dx = interpolation(x.shape[2], out.shape[2], o.align_corners, o.half_pixel_centers)
    dy, dx = dy[None, :, None, None], dx[None, None, :, None]
    one = np.float32(1)
    top, bottom = x[:, y0], x[:, y1]
    if x.dtype == np.uint8:  # optimized kernel: weights per corner, summed in this order, + 0.5
        weighted = (top[:, :, x0] * ((one - dy) * (one - dx)) + top[:, :, x1] * ((one - dy) * dx)
                    + bottom[:, :, x0] * (dy * (one - dx)) + bottom[:, :, x1] * (dy * dx))
        out[...] = (weighted + np.float32(0.5)).astype(np.uint8)
        return
    out[...] = (top[:, :, x0] * (one - dy) * (one - dx) + bottom[:, :, x0] * dy * (one - dx)
                + top[:, :, x1] * (one - dy) * dx + bottom[:, :, x1] * dy * dx)


def _resize_integer(x: np.ndarray, out_shape: tuple, align_corners: bool, half_pixel: bool) -> np.ndarray:
    """reference_ops::ResizeBilinearInteger: int64 sum of value * weight_y * weight_x (20
    fractional bits), divided by 2**20 rounding half away from zero."""
    y0, y1, wy = integer_interpolation(x.shape[1], out_shape[1], align_corners, half_pixel)
    x0, x1, wx = integer_interpolation(x.shape[2], out_shape[2], align_corners, half_pixel)
    wy, wx = wy[None, :, None, None], wx[None, None, :, None]
    values = x.astype(np.int64)
    top, bottom = values[:, y0], values[:, y1]
    total = (top[:, :, x0] * (_ONE - wy) * (_ONE - wx) + bottom[:, :, x0] * wy * (_ONE - wx)
             + top[:, :, x1] * (_ONE - wy) * wx + bottom[:, :, x1] * wy * wx)
    half = 1 << 19
    return _c_divide(total + np.where(total > 0, half, -half), 1 << 20).astype(x.dtype)


OP = OpDef("RESIZE_BILINEAR", run, shape=_resize.shape, check=check,
           types=FLOAT | {TensorType.INT8, TensorType.UINT8, TensorType.INT16},
           options=ResizeBilinearOptions)
