"""Maths and checks shared by the convolution family (conv, depthwise, transposed conv)."""

from __future__ import annotations

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops._common import Padding, conv_output_size
from edgelite.ops._window import pad_spatial, windows
from edgelite.ops.base import Node


def patches(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
            dilation: tuple[int, int], out_hw: tuple[int, int], padding: int) -> np.ndarray:
    """The [n, out_h, out_w, kh, kw, c] windows of an NHWC input, padded as TFLite pads it."""
    x = pad_spatial(x, kernel, stride, dilation, out_hw, padding)
    return windows(x, kernel, stride, dilation, out_hw)


def transpose_conv(x: np.ndarray, weights: np.ndarray, stride: tuple[int, int],
                   pad: tuple[int, int], out_hw: tuple[int, int]) -> np.ndarray:
    """Transposed convolution of NHWC `x` by OHWI `weights` (float32 result, no bias).

    Input pixel (y, x) adds weights * value at output (y*stride - pad + ky, x*stride - pad + kx);
    contributions falling outside [0, out_hw) are dropped, as in TFLite's reference kernel.
    """
    n, in_h, in_w, _ = x.shape
    out_c, k_h, k_w, _ = weights.shape
    # Accumulate into an unpadded canvas big enough for every contribution and the output window.
    full_h = max((in_h - 1) * stride[0] + k_h, pad[0] + out_hw[0])
    full_w = max((in_w - 1) * stride[1] + k_w, pad[1] + out_hw[1])
    canvas = np.zeros((n, full_h, full_w, out_c), dtype=np.float32)
    # products[n, y, x, ky, kx, o] = sum_c x[n, y, x, c] * weights[o, ky, kx, c]
    products = np.einsum("nyxc,oijc->nyxijo", x, weights, optimize=True)
    span_h, span_w = (in_h - 1) * stride[0] + 1, (in_w - 1) * stride[1] + 1
    for ky in range(k_h):
        for kx in range(k_w):
            canvas[:, ky:ky + span_h:stride[0], kx:kx + span_w:stride[1]] += products[:, :, :, ky, kx]
    return canvas[:, pad[0]:pad[0] + out_hw[0], pad[1]:pad[1] + out_hw[1]]


def optional_input(node: Node, index: int) -> np.ndarray | None:
    """Input `index`, or None when it is omitted (index -1) or the op has fewer inputs."""
    return node.inputs[index] if index < len(node.inputs) else None


def forward_conv_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """TFLite's ComputeOutSize (dilation 1): C integer division, truncating toward zero."""
    if padding == Padding.SAME:
        return (size + stride - 1) // stride
    span = size - kernel + stride
    return span // stride if span >= 0 else -(-span // stride)


def transpose_conv_padding(in_size: int, out_size: int, kernel: int, stride: int) -> int:
    """Leading padding of a transposed conv: half (rounded down) of the overhang of the full
    scatter, (in_size - 1) * stride + kernel, past the output extent."""
    return max((in_size - 1) * stride + kernel - out_size, 0) // 2


def check_rank(node: Node, index: int, rank: int, what: str) -> None:
    shape = node.input_shapes[index]
    if shape is not None and len(shape) != rank:
        raise ModelError(f"{node.describe()}: {what} (input {index}) must have rank {rank}, "
                         f"got shape {tuple(shape)}")


def check_positive(node: Node, **values: int) -> None:
    """Strides and dilations must be at least 1 (TFLite divides by them)."""
    for name, value in values.items():
        if value < 1:
            raise ModelError(f"{node.describe()}: {name} is {value}; it must be at least 1")


def check_bias(node: Node, index: int, channels: int) -> None:
    """An optional bias must hold one value per output channel."""
    if index >= len(node.input_shapes) or node.input_tensors[index] is None:
        return
    shape = node.input_shapes[index]
    size = int(np.prod(shape)) if shape is not None else channels
    if size != channels:
        raise ModelError(f"{node.describe()}: bias (input {index}) has {size} values but there "
                         f"are {channels} output channels; give one bias value per output channel")


def check_float(node: Node, *indices: int) -> None:
    """The float kernel needs float32 operands; quantized and hybrid variants are not done yet."""
    for i in indices:
        tensor = node.input_tensors[i] if i < len(node.input_tensors) else None
        if tensor is not None and tensor.type != TensorType.FLOAT32:
            raise node.unsupported(f"input {i} is {tensor.type.name}; only float32 is supported "
                                   "(quantized and hybrid kernels are not implemented yet)")


def window_output_hw(node: Node, in_hw: tuple[int, int], kernel: tuple[int, int],
                     stride: tuple[int, int], dilation: tuple[int, int], padding: int) -> tuple[int, int]:
    """Output height and width of a windowed op; a VALID window larger than the input is an error."""
    check_positive(node, stride_h=stride[0], stride_w=stride[1], dilation_h_factor=dilation[0],
                   dilation_w_factor=dilation[1])
    out = tuple(conv_output_size(in_hw[a], kernel[a], stride[a], dilation[a], padding) for a in range(2))
    if min(out) < 0:
        raise ModelError(f"{node.describe()}: the {kernel[0]}x{kernel[1]} filter (dilation {dilation}) "
                         f"does not fit the {in_hw[0]}x{in_hw[1]} input with VALID padding")
    return out
