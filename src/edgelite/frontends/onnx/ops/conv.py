"""Conv (1-D and 2-D): TRANSPOSE to NHWC -> CONV_2D / DEPTHWISE_CONV_2D -> TRANSPOSE back.

ONNX weights are OIHW; CONV_2D takes OHWI (grouped when the filter depth is below the input
depth) and DEPTHWISE_CONV_2D takes 1HWO. Padding maps to VALID or SAME when TFLite's SAME gives
the same pads, else to an explicit PAD first. A 1-D conv runs as a 2-D one of height 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx

from edgelite.frontends.onnx.context import Context, Unsupported, Value
from edgelite.ops._common import Padding


def window_padding(ctx: Context, node: onnx.NodeProto, x_nhwc: Value, kernel: Sequence[int],
                   strides: Sequence[int], dilations: Sequence[int], pad_value: float = 0.0,
                   pads: Sequence[int] | None = None) -> tuple[Padding, Value]:
    """TFLite padding for an ONNX windowed op (auto_pad / pads) on an NHWC input.

    Returns (VALID or SAME, input): VALID and SAME when TFLite computes the same pads as ONNX;
    otherwise the input padded explicitly (PAD, or PADV2 when pad_value is not 0) and VALID.
    `pads` overrides the node's pads attribute (ONNX order: all begins, then all ends).
    """
    spatial = len(kernel)
    sizes = x_nhwc.shape[1:1 + spatial]
    dynamic = x_nhwc.signature is not None and -1 in x_nhwc.signature[1:1 + spatial]
    auto_pad = ctx.attr(node, "auto_pad", "NOTSET")
    if auto_pad == "VALID":
        return Padding.VALID, x_nhwc
    if auto_pad == "SAME_UPPER":
        return Padding.SAME, x_nhwc
    if auto_pad == "SAME_LOWER":
        if dynamic:
            raise Unsupported("auto_pad=SAME_LOWER with dynamic spatial dimensions")
        pads = [same_pads(n, k, s, d) for n, k, s, d in zip(sizes, kernel, strides, dilations, strict=True)]
        pads = [(after, before) for before, after in pads]  # the odd pixel goes first
    else:
        flat = list(pads if pads is not None else ctx.attr(node, "pads", [0] * 2 * spatial))
        pads = list(zip(flat[:spatial], flat[spatial:], strict=True))
    if all(before == 0 and after == 0 for before, after in pads):
        return Padding.VALID, x_nhwc
    if not dynamic and pads == [same_pads(n, k, s, d)
                                for n, k, s, d in zip(sizes, kernel, strides, dilations, strict=True)]:
        return Padding.SAME, x_nhwc
    return Padding.VALID, pad_nhwc(ctx, x_nhwc, pads, pad_value)


def same_pads(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """(before, after) pads of TFLite's SAME padding (the odd pixel after, as SAME_UPPER)."""
    effective = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def pad_nhwc(ctx: Context, x_nhwc: Value, spatial_pads: Sequence[tuple[int, int]], pad_value: float = 0.0
             ) -> Value:
    """PAD (or PADV2 with a fill value) of the spatial dims of an NHWC tensor."""
    if any(before < 0 or after < 0 for before, after in spatial_pads):
        raise Unsupported(f"negative pads {list(spatial_pads)}")
    paddings = np.asarray([(0, 0), *spatial_pads, (0, 0)], dtype=np.int32)
    pads = ctx.constant(paddings, f"{x_nhwc.name}/paddings")
    if pad_value == 0.0:
        return ctx.emit("PAD", [x_nhwc, pads], outputs=1)[0]
    fill = ctx.constant(np.asarray(pad_value, dtype=x_nhwc.dtype), f"{x_nhwc.name}/pad_value")
    return ctx.emit("PADV2", [x_nhwc, pads, fill], outputs=1)[0]


def _conv(node: onnx.NodeProto, ctx: Context) -> None:
    x, weights, bias = ctx.input(node, 0), ctx.input(node, 1), ctx.input(node, 2)
    if x.rank not in (3, 4) or weights.shape is None:
        raise Unsupported(f"{x.rank - 2}-D convolution (TFLite has 1-D and 2-D)")
    if x.dtype != np.float32:
        raise Unsupported(f"input type {x.dtype} (float32 only)")
    spatial = x.rank - 2
    group = ctx.attr(node, "group", 1)
    kernel = list(weights.shape[2:])
    strides = list(ctx.attr(node, "strides", [1] * spatial))
    dilations = list(ctx.attr(node, "dilations", [1] * spatial))
    out_channels, in_channels = weights.shape[0], x.shape[1]
    x_nhwc = ctx.nchw_to_nhwc(x)
    if spatial == 1:  # (N, W, C) -> (N, 1, W, C); weights (M, C/g, k) -> (M, C/g, 1, k)
        x_nhwc = ctx.emit("EXPAND_DIMS", [x_nhwc, ctx.constant(np.int32(1), "axis")], outputs=1)[0]
        weights = ctx.emit("RESHAPE", [weights, ctx.constant(np.asarray([*weights.shape[:2], 1, kernel[0]],
                                                                         dtype=np.int32), "shape")],
                           outputs=1)[0]
        kernel, strides, dilations = [1, *kernel], [1, *strides], [1, *dilations]
        begin, end = ctx.attr(node, "pads", [0, 0])
        pads = [0, begin, 0, end]
    else:
        pads = None
    padding, x_nhwc = window_padding(ctx, node, x_nhwc, kernel, strides, dilations, pads=pads)
    if bias is None:
        bias = ctx.constant(np.zeros(out_channels, dtype=np.float32), f"{node.output[0]}/bias")
    geometry = {"padding": padding, "stride_h": strides[0], "stride_w": strides[1],
                "dilation_h_factor": dilations[0], "dilation_w_factor": dilations[1]}
    if group == in_channels and group > 1 and out_channels % group == 0:
        filters = ctx.transpose(weights, [1, 2, 3, 0])  # (M, 1, kH, kW) -> (1, kH, kW, M)
        y = ctx.emit("DEPTHWISE_CONV_2D", [x_nhwc, filters, bias],
                     {**geometry, "depth_multiplier": out_channels // group}, outputs=1)[0]
    else:
        if in_channels % group or out_channels % group:
            raise Unsupported(f"group={group} does not divide {in_channels} inputs and "
                              f"{out_channels} outputs")
        filters = ctx.transpose(weights, [0, 2, 3, 1])  # OIHW -> OHWI
        y = ctx.emit("CONV_2D", [x_nhwc, filters, bias], geometry, outputs=1)[0]
    if spatial == 1:
        y = ctx.emit("SQUEEZE", [y], {"squeeze_dims": (1,)}, outputs=1)[0]
    ctx.nhwc_to_nchw(y)


CONVERTERS = {"Conv": _conv}
