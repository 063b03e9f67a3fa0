"""ConvTranspose (1-D and 2-D, group 1): TRANSPOSE to NHWC -> TRANSPOSE_CONV (bias as its 4th
input, version 3) [-> SLICE] -> TRANSPOSE back.

ONNX weights are (C_in, C_out, kH, kW); TRANSPOSE_CONV takes OHWI (C_out, kH, kW, C_in). TFLite
derives its leading crop from the output size (VALID: none; SAME: half the overhang), so pads
and output_padding map to VALID or SAME when that gives ONNX's crop, else to a VALID transposed
conv of the uncropped size followed by a SLICE. Dilations become a zero-dilated constant kernel.
"""

from __future__ import annotations

import numpy as np
import onnx

from edgelite.frontends.onnx.context import Context, Unsupported, Value
from edgelite.model.ir import TensorType
from edgelite.ops._common import Padding
from edgelite.ops._conv import forward_conv_size, transpose_conv_padding


def _int32(ctx: Context, values, hint: str) -> Value:
    return ctx.constant(np.asarray(values, dtype=np.int32), hint)


def onnx_crop(node: onnx.NodeProto, ctx: Context, sizes: list[int], kernel: list[int],
              strides: list[int]) -> list[tuple[int, int]]:
    """(leading crop, output size) per spatial dim, as onnxruntime computes them."""
    spatial = len(sizes)
    output_padding = list(ctx.attr(node, "output_padding", [0] * spatial))
    output_shape = ctx.attr(node, "output_shape", None)
    auto_pad = ctx.attr(node, "auto_pad", "NOTSET")
    pads = list(ctx.attr(node, "pads", [0] * 2 * spatial))
    result = []
    for i, (n, k, s) in enumerate(zip(sizes, kernel, strides, strict=True)):
        full = (n - 1) * s + k + output_padding[i]
        if output_shape is not None or auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            out = int(output_shape[len(output_shape) - spatial + i]) if output_shape is not None else n * s
            total = max(full - out, 0)  # a larger output is zeros (plus bias) at the end
            begin = total // 2 if auto_pad == "SAME_UPPER" else total - total // 2
        elif auto_pad == "VALID":
            begin, out = 0, full
        else:
            begin, out = pads[i], full - pads[i] - pads[spatial + i]
        if begin < 0 or out < 1:
            raise Unsupported(f"output size {out} with a crop of {begin} (negative pads)")
        result.append((begin, out))
    return result


def _padding(sizes: list[int], kernel: list[int], strides: list[int],
             crops: list[tuple[int, int]]) -> Padding | None:
    """VALID or SAME when TFLite's own crop of that output size is ONNX's, else None."""
    for padding in (Padding.VALID, Padding.SAME):
        if all(forward_conv_size(out, k, s, padding) == n and
               begin == (0 if padding == Padding.VALID else transpose_conv_padding(n, out, k, s))
               for n, k, s, (begin, out) in zip(sizes, kernel, strides, crops, strict=True)):
            return padding
    return None


def _dilate(weights: np.ndarray, dilations: list[int]) -> np.ndarray:
    """A kernel with (d - 1) zeros between taps: the same transposed conv without dilation."""
    kernel = [(k - 1) * d + 1 for k, d in zip(weights.shape[2:], dilations, strict=True)]
    dilated = np.zeros((*weights.shape[:2], *kernel), dtype=weights.dtype)
    dilated[(..., *(slice(None, None, d) for d in dilations))] = weights
    return dilated


def _conv_transpose(node: onnx.NodeProto, ctx: Context) -> None:
    x, weights, bias = ctx.input(node, 0), ctx.input(node, 1), ctx.input(node, 2)
    if x.rank not in (3, 4) or weights.shape is None:
        raise Unsupported(f"{x.rank - 2}-D transposed convolution (TFLite's is 2-D; 1-D runs as 2-D)")
    if x.dtype != np.float32:
        raise Unsupported(f"input type {x.dtype} (float32 only)")
    group = ctx.attr(node, "group", 1)
    if group != 1:
        raise Unsupported(f"group={group} (TRANSPOSE_CONV has no groups)")
    spatial = x.rank - 2
    dilations = list(ctx.attr(node, "dilations", [1] * spatial))
    if any(d != 1 for d in dilations):
        dilated = _dilate(ctx.const_input(node, 1, "weights, dilated"), dilations)
        weights = ctx.constant(dilated, f"{node.output[0]}/dilated")
    if x.signature is not None and -1 in x.signature[2:]:
        raise Unsupported("dynamic spatial dims (the output size is baked into TRANSPOSE_CONV)")
    sizes, kernel = list(x.shape[2:]), list(weights.shape[2:])
    strides = list(ctx.attr(node, "strides", [1] * spatial))
    crops = onnx_crop(node, ctx, sizes, kernel, strides)
    x_nhwc = ctx.nchw_to_nhwc(x)
    if spatial == 1:  # (N, W, C) -> (N, 1, W, C); weights (C, M, k) -> (C, M, 1, k)
        x_nhwc = ctx.emit("EXPAND_DIMS", [x_nhwc, _int32(ctx, 1, "axis")], outputs=1)[0]
        weights = ctx.emit("RESHAPE", [weights, _int32(ctx, [*weights.shape[:2], 1, kernel[0]], "shape")],
                           outputs=1)[0]
        sizes, kernel, strides, crops = [1, *sizes], [1, *kernel], [1, *strides], [(0, 1), *crops]
    filters = ctx.transpose(weights, [1, 2, 3, 0])  # (C, M, kH, kW) -> (M, kH, kW, C)
    out_channels = weights.shape[1]
    padding = _padding(sizes, kernel, strides, crops)
    if padding is None:  # the uncropped extent (VALID), then a SLICE
        geometry = list(zip(sizes, kernel, strides, crops, strict=True))
        extent = [max((n - 1) * s + k, begin + out) for n, k, s, (begin, out) in geometry]
        if any(forward_conv_size(e, k, s, Padding.VALID) != n
               for e, (n, k, s, _) in zip(extent, geometry, strict=True)):
            raise Unsupported(f"an output of {[o for _, o in crops]} reaches past the transposed conv's "
                              f"extent by a stride {strides} or more")
    else:
        extent = [out for _, out in crops]
    options = {"padding": Padding.VALID if padding is None else padding,
               "stride_h": strides[0], "stride_w": strides[1]}
    y = ctx.emit("TRANSPOSE_CONV", [_output_shape(ctx, x_nhwc, extent, out_channels), filters, x_nhwc, bias],
                 options, outputs=1, shapes=[(x_nhwc.shape[0], *extent, out_channels)], dtypes=[x.dtype])[0]
    if x_nhwc.signature is not None:  # the batch, read at run time
        mark_signature(ctx, y, (x_nhwc.signature[0], *y.shape[1:]))
    if padding is None:
        begin = _int32(ctx, [0, crops[0][0], crops[1][0], 0], "begin")
        size = _int32(ctx, [-1, crops[0][1], crops[1][1], -1], "size")
        y = ctx.emit("SLICE", [y, begin, size], outputs=1)[0]
    if spatial == 1:
        y = ctx.emit("SQUEEZE", [y], {"squeeze_dims": (1,)}, outputs=1)[0]
    ctx.nhwc_to_nchw(y)


def _output_shape(ctx: Context, x_nhwc: Value, extent: list[int], channels: int) -> Value:
    """TRANSPOSE_CONV's int32 output shape: constant, or the batch read at run time."""
    if x_nhwc.static:
        return _int32(ctx, [x_nhwc.shape[0], *extent, channels], "output_shape")
    shape = ctx.emit("SHAPE", [x_nhwc], {"out_type": TensorType.INT32}, outputs=1, dtypes=[np.int32])[0]
    batch = ctx.emit("SLICE", [shape, _int32(ctx, [0], "begin"), _int32(ctx, [1], "size")], outputs=1)[0]
    return ctx.emit("CONCATENATION", [batch, _int32(ctx, [*extent, channels], "spatial")], {"axis": 0},
                    outputs=1)[0]


def mark_signature(ctx: Context, y: Value, signature: tuple[int, ...]) -> Value:
    """Record dynamic dims (-1) that shape inference could not see (an op whose output shape is a
    run-time tensor) on the Value and its tensor. Local stand-in for a Context helper."""
    if -1 in signature:
        y.signature = tuple(signature)
        ctx.graph.tensors[y.index].shape_signature = y.signature
    return y


CONVERTERS = {"ConvTranspose": _conv_transpose}
