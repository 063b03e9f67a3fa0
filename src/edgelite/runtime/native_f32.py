"""Lowerers of the float32 ops: convolutions and FULLY_CONNECTED as GEMM / DWCONV nodes over packed
panels, elementwise ops (PRELU among the BINARY ones), pooling, MEAN, PAD, CONCATENATION, reshapes
as copies, SOFTMAX, RESIZE_BILINEAR and the transposed convolutions (TRANSPOSE_CONV, MediaPipe's
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

from edgelite.ops._common import Activation, axis_list
from edgelite.ops._conv import transpose_conv_padding
from edgelite.ops.convolution2d_transpose_bias import TransposeConvParams
from edgelite.runtime.native import (
    DW_MAX_TAPS,
    IM2COL_ROWS,
    MAX_INPUTS,
    Lowering,
    Unsupported,
    _clamp,
    _Record,
    _skip_pad,
    _window,
    collapse_broadcast,
    f32_bits,
    fuse_pad_input,
    offer_pad,
    pack_gemm,
)

_BINARY = {"ADD": 0, "SUB": 1, "MUL": 2, "PRELU": 3, "DIV": 4, "MAXIMUM": 5, "MINIMUM": 6}
_UNARY_CLAMP = {"RELU": (0.0, np.inf), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}
_UNARY = {"HARD_SWISH": 1, "LOGISTIC": 2, "TANH": 3, "GELU": 4, "LEAKY_RELU": 6}
_GELU_TANH = 5  # GELU with options.approximate
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


def lower_conv(lw: Lowering, node) -> _Record:
    x_id, w_id, out_id = node.op.inputs[0], node.op.inputs[1], node.op.outputs[0]
    weights = lw.constant(w_id)
    bias = lw.constant(node.op.inputs[2]) if len(node.op.inputs) > 2 else None
    (_, h, w, c), (o, kh, kw, ic) = lw.plan.shapes[x_id], weights.shape
    groups = c // ic  # grouped: group g reads channels [g*ic, (g+1)*ic) and writes o/groups outputs
    if groups * ic != c or o % groups:
        raise Unsupported("input channels not a multiple of the weights' depth")
    out_shape, opt = lw.plan.shapes[out_id], node.options
    stride, dilation = (opt.stride_h, opt.stride_w), (opt.dilation_h_factor, opt.dilation_w_factor)
    pads = _window((h, w), (kh, kw), stride, dilation, out_shape[1:3], opt.padding)
    x_id, pads, fused = fuse_pad_input(lw, x_id, out_id, pads)
    k, n = kh * kw * ic, o // groups
    packed = lw.extra(pack_gemm(weights.reshape(o, k), bias, groups, lw.heap))
    direct = (kh, kw, *stride, *pads) == (1, 1, 1, 1, 0, 0) and not fused
    geometry = [kh, kw, *stride, *dilation, *pads]
    inputs = [lw.tensor(x_id), packed] + ([] if direct else [lw.scratch(IM2COL_ROWS * k)])
    record = lw.node("GEMM", inputs, out_id, [0 if direct else 1, *geometry, *_clamp(node), k, n, groups])
    if fused:
        _skip_pad(lw, node.op.inputs[0])
    return record


def lower_fully_connected(lw: Lowering, node) -> _Record:
    x_id, w_id, out_id = node.op.inputs[0], node.op.inputs[1], node.op.outputs[0]
    weights = lw.constant(w_id)
    bias = lw.constant(node.op.inputs[2]) if len(node.op.inputs) > 2 else None
    if getattr(node.options, "weights_format", 0) != 0 or weights.ndim != 2:
        raise Unsupported("weights format")
    units, k = weights.shape
    packed = lw.extra(pack_gemm(weights, bias, 1, lw.heap))
    return lw.node("GEMM", [lw.tensor(x_id), packed], out_id, [0, *[0] * 8, *_clamp(node), k, units])


def lower_depthwise(lw: Lowering, node) -> _Record:
    x_id, w_id, out_id = node.op.inputs[0], node.op.inputs[1], node.op.outputs[0]
    weights = lw.constant(w_id)
    bias = lw.constant(node.op.inputs[2]) if len(node.op.inputs) > 2 else None
    (_, h, w, c), (_, kh, kw, oc) = lw.plan.shapes[x_id], weights.shape
    multiplier = oc // c  # output channel c * multiplier + m reads input channel c
    if multiplier * c != oc or kh * kw > DW_MAX_TAPS:
        raise Unsupported("output channels not a multiple of the input's, or window too large")
    out_shape, opt = lw.plan.shapes[out_id], node.options
    stride, dilation = (opt.stride_h, opt.stride_w), (opt.dilation_h_factor, opt.dilation_w_factor)
    pads = _window((h, w), (kh, kw), stride, dilation, out_shape[1:3], opt.padding)
    x_id, pads, fused = fuse_pad_input(lw, x_id, out_id, pads)
    w = lw.plan.shapes[x_id][2]
    packed = np.concatenate([np.zeros((1, oc), np.float32) if bias is None else bias.reshape(1, oc),
                             weights.reshape(kh * kw, oc)])
    inputs = [lw.tensor(x_id), lw.extra(packed), lw.zeros(oc)]
    if multiplier > 1:
        inputs.append(lw.scratch(kh * w * oc))  # the rows a tile reads, channels repeated
    record = lw.node("DWCONV", inputs, out_id, [kh, kw, *stride, *dilation, *pads, *_clamp(node), multiplier])
    if fused:
        _skip_pad(lw, node.op.inputs[0])
    return record


def lower_binary(lw: Lowering, node) -> _Record:
    a_id, b_id, out_id = node.op.inputs[0], node.op.inputs[1], node.op.outputs[0]
    shapes = lw.plan.shapes
    collapsed = collapse_broadcast(tuple(shapes[out_id]), tuple(shapes[a_id]), tuple(shapes[b_id]))
    if collapsed is None:
        raise Unsupported("broadcast needs more than 6 dims")
    dims, sa, sb = collapsed
    no_activation = node.op.name in ("PRELU", "MAXIMUM", "MINIMUM")
    clamp = [f32_bits(-np.inf), f32_bits(np.inf)] if no_activation else _clamp(node)
    params = [_BINARY[node.op.name], *clamp, *dims, *sa, *sb]
    return lw.node("BINARY", [lw.tensor(a_id), lw.tensor(b_id)], out_id, params)


def lower_unary(lw: Lowering, node) -> _Record:
    name = node.op.name
    if name in _UNARY_CLAMP:
        op, (low, high) = 0, _UNARY_CLAMP[name]
    else:
        op, low, high = _UNARY[name], 0.0, 0.0
    if name == "GELU" and node.options is not None and node.options.approximate:
        op = _GELU_TANH
    if name == "LEAKY_RELU":
        low = node.options.alpha if node.options is not None else 0.0  # the kernel's alpha
    return lw.node("UNARY", [lw.tensor(node.op.inputs[0])], node.op.outputs[0],
                   [op, f32_bits(low), f32_bits(high)])


def lower_pool(lw: Lowering, node) -> _Record:
    x_id, out_id, opt = node.op.inputs[0], node.op.outputs[0], node.options
    (_, h, w, _), out_shape = lw.plan.shapes[x_id], lw.plan.shapes[out_id]
    kernel, stride = (opt.filter_height, opt.filter_width), (opt.stride_h, opt.stride_w)
    pads = _window((h, w), kernel, stride, (1, 1), out_shape[1:3], opt.padding)
    op = "MAXPOOL" if node.op.name == "MAX_POOL_2D" else "AVGPOOL"
    return lw.node(op, [lw.tensor(x_id)], out_id, [*kernel, *stride, *pads, *_clamp(node)])


def lower_mean(lw: Lowering, node) -> _Record:
    x_id = node.op.inputs[0]
    shape = lw.plan.shapes[x_id]
    axes = lw.plan.constants.get(node.op.inputs[1])
    if len(shape) != 4 or axes is None or axis_list(axes, 4) != [1, 2]:
        raise Unsupported("MEAN other than over H and W of an NHWC tensor")
    return lw.node("MEAN_HW", [lw.tensor(x_id)], node.op.outputs[0], [])


def lower_pad(lw: Lowering, node) -> _Record:
    x_id = node.op.inputs[0]
    shape = lw.plan.shapes[x_id]
    pads = lw.plan.constants.get(node.op.inputs[1])
    if pads is None or len(shape) > 4 or np.asarray(pads).size != 2 * len(shape):
        raise Unsupported("PAD needs constant paddings and rank <= 4")
    pairs = np.asarray(pads).reshape(-1, 2)
    before = [0] * (4 - len(shape)) + [int(v) for v in pairs[:, 0]]
    record = lw.node("PAD", [lw.tensor(x_id)], node.op.outputs[0], before)
    offer_pad(lw, node, pairs, record)
    return record


def lower_concat(lw: Lowering, node) -> _Record:
    out_id = node.op.outputs[0]
    rank = len(lw.plan.shapes[out_id])
    if len(node.op.inputs) > MAX_INPUTS or node.options.fused_activation_function != Activation.NONE:
        raise Unsupported("too many inputs or a fused activation")
    axis = node.options.axis + rank if node.options.axis < 0 else node.options.axis
    return lw.node("CONCAT", [lw.tensor(i) for i in node.op.inputs], out_id, [axis])


def lower_copy(lw: Lowering, node) -> _Record:
    return lw.node("COPY", [lw.tensor(node.op.inputs[0])], node.op.outputs[0], [])


def lower_softmax(lw: Lowering, node) -> _Record:
    beta = node.options.beta if node.options is not None else 0.0
    return lw.node("SOFTMAX", [lw.tensor(node.op.inputs[0])], node.op.outputs[0], [f32_bits(beta)])


LOWERERS: dict[str, Callable[[Lowering, object], _Record]] = {
    "CONV_2D": lower_conv, "FULLY_CONNECTED": lower_fully_connected, "DEPTHWISE_CONV_2D": lower_depthwise,
    "ADD": lower_binary, "SUB": lower_binary, "MUL": lower_binary, "PRELU": lower_binary,
    "DIV": lower_binary, "MAXIMUM": lower_binary, "MINIMUM": lower_binary,
    "RELU": lower_unary, "RELU6": lower_unary, "RELU_N1_TO_1": lower_unary, "HARD_SWISH": lower_unary,
    "LOGISTIC": lower_unary, "TANH": lower_unary, "GELU": lower_unary, "LEAKY_RELU": lower_unary,
    "MAX_POOL_2D": lower_pool, "AVERAGE_POOL_2D": lower_pool, "MEAN": lower_mean,
    "PAD": lower_pad, "CONCATENATION": lower_concat, "RESHAPE": lower_copy, "SQUEEZE": lower_copy,
    "EXPAND_DIMS": lower_copy, "SOFTMAX": lower_softmax,
    "RESIZE_BILINEAR": lower_resize_bilinear, "TRANSPOSE_CONV": lower_transpose_conv,
    "Convolution2DTransposeBias": lower_transpose_conv_bias,
}
