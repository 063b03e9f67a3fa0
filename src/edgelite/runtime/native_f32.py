"""Lowerers of the float32 ops added with the thread pool: PRELU runs as a BINARY node (in
native.py); here RESIZE_BILINEAR and the transposed convolutions (TRANSPOSE_CONV, MediaPipe's
Convolution2DTransposeBias).

A transposed convolution runs as a gather per output phase (see native/ops_tconv.c): the weights
of each phase (ry, rx) = ((oy + pad) % stride per axis) are the taps ky = ry + j * stride_h,
kx = rx + i * stride_w, packed for the gemm kernels one phase after another. When the kernel
equals the stride and nothing is padded (2x upsampling), each output row is one gemm of an input
row by the weights of one ky, whose columns are (kx, output channel).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgelite.ops._conv import transpose_conv_padding
from edgelite.ops.convolution2d_transpose_bias import TransposeConvParams
from edgelite.runtime.native import IM2COL_ROWS, Lowering, Unsupported, _clamp, _Record, pack_gemm

TCONV_MAX_STRIDE = 16  # native/ops_tconv.c: EL_TCONV_MAX_STRIDE


def _joined(parts: list[np.ndarray], heap: object) -> np.ndarray:
    """The float32 parts one after another: in a piece of the lowering's slabs when `heap` is given."""
    if heap is None:
        return np.concatenate(parts)
    total = sum(part.size for part in parts)
    raw, offset = heap.take(total * 4)
    return np.concatenate(parts, out=np.frombuffer(raw, np.float32, total, offset))


def pack_transpose_conv(weights: np.ndarray, bias: np.ndarray | None, stride: tuple[int, int],
                        heap: object = None) -> np.ndarray:
    """OHWI weights -> the gemm panels of every phase, row-major over (ry, rx), concatenated."""
    out_c = weights.shape[0]
    parts = [pack_gemm(weights[:, ry::stride[0], rx::stride[1], :].reshape(out_c, -1), bias).reshape(-1)
             for ry in range(stride[0]) for rx in range(stride[1])]
    return _joined(parts, heap)


def pack_pixel_shuffle(weights: np.ndarray, bias: np.ndarray | None, heap: object = None) -> np.ndarray:
    """Kernel = stride: per ky, the gemm panels of the [kw * out_c, in_c] matrix (columns (kx, n))."""
    out_c, kh, kw, in_c = weights.shape
    tiled_bias = None if bias is None else np.tile(bias, kw)
    return _joined([pack_gemm(weights[:, ky].transpose(1, 0, 2).reshape(kw * out_c, in_c), tiled_bias)
                    .reshape(-1) for ky in range(kh)], heap)


def _transpose_conv(lw: Lowering, x_id: int, w_id: int, bias_id: int, out_id: int, stride: tuple[int, int],
                    clamp: list[int]) -> _Record:
    weights = lw.constant(w_id)
    bias = lw.constant(bias_id)
    x_shape, out_shape = lw.plan.shapes[x_id], lw.plan.shapes[out_id]
    if weights is None or weights.ndim != 4 or len(x_shape) != 4 or max(stride) > TCONV_MAX_STRIDE:
        raise Unsupported("transposed conv needs constant OHWI weights and strides <= 16")
    out_c, kh, kw, in_c = weights.shape
    pads = [transpose_conv_padding(x_shape[1 + a], out_shape[1 + a], weights.shape[1 + a], stride[a])
            for a in range(2)]
    if ((kh, kw) == stride and pads == [0, 0]
            and tuple(out_shape[1:3]) == (x_shape[1] * stride[0], x_shape[2] * stride[1])):
        packed = pack_pixel_shuffle(weights, bias, lw.heap)  # mode 1: one gemm per output row, no im2col
        return lw.node("TCONV", [lw.tensor(x_id), lw.extra(packed), lw.scratch(0)], out_id,
                       [kh, kw, *stride, *pads, *clamp, in_c, out_c, 1])
    largest = max(len(range(ry, kh, stride[0])) * len(range(rx, kw, stride[1])) for ry in range(stride[0])
                  for rx in range(stride[1])) * in_c
    inputs = [lw.tensor(x_id), lw.extra(pack_transpose_conv(weights, bias, stride, lw.heap)),
              lw.scratch(IM2COL_ROWS * max(largest, 1))]
    return lw.node("TCONV", inputs, out_id, [kh, kw, *stride, *pads, *clamp, in_c, out_c, 0])


def lower_transpose_conv(lw: Lowering, node) -> _Record:
    inputs, opt = node.op.inputs, node.options
    bias_id = inputs[3] if len(inputs) > 3 else -1
    stride = (opt.stride_h, opt.stride_w)
    return _transpose_conv(lw, inputs[2], inputs[1], bias_id, node.op.outputs[0], stride, _clamp(node))


def lower_transpose_conv_bias(lw: Lowering, node) -> _Record:
    params = TransposeConvParams.from_bytes(node.op.custom_options, node.describe())
    x_id, w_id, bias_id = node.op.inputs
    return _transpose_conv(lw, x_id, w_id, bias_id, node.op.outputs[0],
                           (params.stride_height, params.stride_width), _clamp(node, 0))


def lower_resize_bilinear(lw: Lowering, node) -> _Record:
    opt = node.options
    if len(lw.plan.shapes[node.op.inputs[0]]) != 4:
        raise Unsupported("RESIZE_BILINEAR needs an NHWC input")
    return lw.node("RESIZE_BILINEAR", [lw.tensor(node.op.inputs[0])], node.op.outputs[0],
                   [int(bool(opt.align_corners)), int(bool(opt.half_pixel_centers))])


LOWERERS: dict[str, Callable[[Lowering, object], _Record]] = {
    "RESIZE_BILINEAR": lower_resize_bilinear, "TRANSPOSE_CONV": lower_transpose_conv,
    "Convolution2DTransposeBias": lower_transpose_conv_bias,
}
