"""Sliding-window helpers for convolution and pooling (NHWC)."""

from __future__ import annotations

import numpy as np

from edgelite.ops._common import Padding, padding_before


def pad_spatial(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
                dilation: tuple[int, int], out_hw: tuple[int, int], padding: int,
                value: float = 0.0) -> np.ndarray:
    """Pad H and W of an NHWC array so that VALID windows give the SAME-padded result."""
    if padding != Padding.SAME:
        return x
    pads = [(0, 0)]
    for axis in range(2):
        size = x.shape[1 + axis]
        before = padding_before(size, kernel[axis], stride[axis], dilation[axis], out_hw[axis])
        effective = (kernel[axis] - 1) * dilation[axis] + 1
        after = max((out_hw[axis] - 1) * stride[axis] + effective - size - before, 0)
        pads.append((before, after))
    pads.append((0, 0))
    return np.pad(x, pads, constant_values=value)


def windows(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
            dilation: tuple[int, int], out_hw: tuple[int, int]) -> np.ndarray:
    """A strided view [n, out_h, out_w, kh, kw, c] of the windows of a (padded) NHWC array."""
    n, _, _, c = x.shape
    sn, sh, sw, sc = x.strides
    view_shape = (n, out_hw[0], out_hw[1], kernel[0], kernel[1], c)
    view_strides = (sn, sh * stride[0], sw * stride[1], sh * dilation[0], sw * dilation[1], sc)
    return np.lib.stride_tricks.as_strided(x, view_shape, view_strides, writeable=False)

