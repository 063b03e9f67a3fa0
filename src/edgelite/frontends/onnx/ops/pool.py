"""MaxPool, AveragePool (1-D and 2-D), GlobalAveragePool, GlobalMaxPool.

Windowed pools run in NHWC: TRANSPOSE -> [PAD] -> MAX_POOL_2D / AVERAGE_POOL_2D -> TRANSPOSE.
TFLite's SAME padding skips padded pixels (a max or a count_include_pad=0 average); other pads
become an explicit PAD (with the lowest float for a max, zeros for an average) and VALID.
ceil_mode adds end padding for the last partial window; an average whose divisor is not the
window area at some positions (count_include_pad=0 next to pads, ceil_mode) is rescaled by a
constant per-position factor, as onnxruntime divides. Global pools are MEAN / REDUCE_MAX over
the spatial axes (layout-agnostic: the layout pass remaps their axes).
"""

from __future__ import annotations

import numpy as np
import onnx

from edgelite.frontends.onnx.context import Context, Unsupported, Value
from edgelite.frontends.onnx.ops.conv import pad_nhwc, same_pads
from edgelite.ops._common import Padding

LOWEST = float(np.finfo(np.float32).min)


def _geometry(node: onnx.NodeProto, ctx: Context, spatial: int) -> tuple[list[int], list[int]]:
    kernel = list(ctx.attr(node, "kernel_shape", []))
    if len(kernel) != spatial:
        raise Unsupported(f"kernel_shape {kernel} for {spatial} spatial dims")
    strides = list(ctx.attr(node, "strides", [1] * spatial))
    dilations = list(ctx.attr(node, "dilations", [1] * spatial))
    if any(d != 1 for d in dilations):
        raise Unsupported(f"dilations={dilations} (TFLite pools have no dilation)")
    return kernel, strides


def _explicit_pads(node: onnx.NodeProto, ctx: Context, sizes: list[int], kernel: list[int],
                   strides: list[int], pads: list[int] | None) -> list[tuple[int, int]]:
    """(begin, end) per spatial dim, auto_pad resolved at the static sizes."""
    spatial = len(kernel)
    auto_pad = ctx.attr(node, "auto_pad", "NOTSET")
    if auto_pad == "VALID":
        return [(0, 0)] * spatial
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        found = [same_pads(n, k, s, 1) for n, k, s in zip(sizes, kernel, strides, strict=True)]
        return found if auto_pad == "SAME_UPPER" else [(after, before) for before, after in found]
    flat = list(pads if pads is not None else ctx.attr(node, "pads", [0] * 2 * spatial))
    return list(zip(flat[:spatial], flat[spatial:], strict=True))


def _out_size(size: int, kernel: int, stride: int, begin: int, end: int, ceil_mode: bool) -> int:
    """onnxruntime's pooled size: with ceil_mode, a last window starting in the end pad is dropped."""
    span = size + begin + end - kernel
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    return out - 1 if (out - 1) * stride >= size + begin else out


def _divisors(size: int, out: int, kernel: int, stride: int, begin: int, end: int,
              include_pad: bool) -> np.ndarray:
    """onnxruntime's AveragePool divisor per output position along one dim."""
    start = np.arange(out) * stride - begin
    stop = np.minimum(start + kernel, size + end)
    if include_pad:
        return (stop - start).astype(np.float64)
    return (np.minimum(stop, size) - np.maximum(start, 0)).astype(np.float64)


def _pool(node: onnx.NodeProto, ctx: Context, opcode: str) -> None:
    x = ctx.input(node, 0)
    if x.rank not in (3, 4):
        raise Unsupported(f"{x.rank - 2}-D pooling (TFLite pools are 2-D; 1-D runs as 2-D)")
    if x.dtype != np.float32:
        raise Unsupported(f"input type {x.dtype} (float32 only; TFLite's integer pools are quantized)")
    spatial = x.rank - 2
    kernel, strides = _geometry(node, ctx, spatial)
    ceil_mode = bool(ctx.attr(node, "ceil_mode", 0))
    include_pad = bool(ctx.attr(node, "count_include_pad", 0))
    auto_pad = ctx.attr(node, "auto_pad", "NOTSET")
    x_nhwc = ctx.nchw_to_nhwc(x)
    pads = None
    if spatial == 1:  # (N, W, C) -> (N, 1, W, C)
        x_nhwc = ctx.emit("EXPAND_DIMS", [x_nhwc, ctx.constant(np.int32(1), "axis")], outputs=1)[0]
        kernel, strides = [1, *kernel], [1, *strides]
        if auto_pad == "NOTSET":
            begin, end = ctx.attr(node, "pads", [0, 0])
            pads = [0, begin, 0, end]
    sizes = list(x_nhwc.shape[1:3])
    dynamic = x_nhwc.signature is not None and -1 in x_nhwc.signature[1:3]
    geometry = {"stride_h": strides[0], "stride_w": strides[1],
                "filter_height": kernel[0], "filter_width": kernel[1]}
    if auto_pad == "SAME_UPPER" and (opcode == "MAX_POOL_2D" or not include_pad):
        y = ctx.emit(opcode, [x_nhwc], {**geometry, "padding": Padding.SAME}, outputs=1)[0]
    else:
        if dynamic and auto_pad != "VALID":
            raise Unsupported(f"auto_pad={auto_pad} / pads with dynamic spatial dims")
        y = _padded_pool(ctx, x_nhwc, opcode, geometry, sizes, kernel, strides, include_pad, ceil_mode,
                         _explicit_pads(node, ctx, sizes, kernel, strides, pads), dynamic)
        inferred = ctx.info(node.output[0])[0]
        if inferred is not None and ceil_mode and tuple(inferred[2:]) != tuple(y.shape[3 - spatial:3]):
            raise Unsupported(f"ceil_mode: ONNX shape inference gives {tuple(inferred[2:])}, onnxruntime "
                              f"{tuple(y.shape[3 - spatial:3])} (it drops a last window starting in the pad)")
    if spatial == 1:
        y = ctx.emit("SQUEEZE", [y], {"squeeze_dims": (1,)}, outputs=1)[0]
    ctx.nhwc_to_nchw(y)


def _padded_pool(ctx: Context, x_nhwc: Value, opcode: str, geometry: dict, sizes: list[int],
                 kernel: list[int], strides: list[int], include_pad: bool, ceil_mode: bool,
                 pads: list[tuple[int, int]], dynamic: bool) -> Value:
    if dynamic:
        if ceil_mode or any(p != (0, 0) for p in pads):
            raise Unsupported("ceil_mode or pads with dynamic spatial dims")
        return ctx.emit(opcode, [x_nhwc], {**geometry, "padding": Padding.VALID}, outputs=1)[0]
    outs = [_out_size(n, k, s, b, e, ceil_mode) for n, k, s, (b, e) in zip(sizes, kernel, strides, pads,
                                                                             strict=True)]
    if min(outs) < 1:
        raise Unsupported(f"pooled size {outs} is empty")
    total = [(b, max((o - 1) * s + k - n - b, e)) for n, k, s, o, (b, e) in zip(sizes, kernel, strides, outs,
                                                                                 pads, strict=True)]
    same = [same_pads(n, k, s, 1) for n, k, s in zip(sizes, kernel, strides, strict=True)]
    is_max = opcode == "MAX_POOL_2D"
    if all(p == (0, 0) for p in total):
        padding, padded = Padding.VALID, x_nhwc
    elif total == same and (is_max or not include_pad):
        padding, padded = Padding.SAME, x_nhwc
    else:
        padding, padded = Padding.VALID, pad_nhwc(ctx, x_nhwc, total, LOWEST if is_max else 0.0)
    y = ctx.emit(opcode, [padded], {**geometry, "padding": padding}, outputs=1)[0]
    if is_max or padding == Padding.SAME:
        return y
    rows, cols = (_divisors(n, o, k, s, b, e, include_pad) for n, o, k, s, (b, e)
                  in zip(sizes, outs, kernel, strides, pads, strict=True))
    ratio = (kernel[0] * kernel[1]) / np.outer(rows, cols)
    if np.all(ratio == 1.0):
        return y
    factor = ctx.constant(ratio.reshape(1, *outs, 1).astype(np.float32), f"{y.name}/divisor")
    return ctx.emit("MUL", [y, factor], outputs=1)[0]


def _max_pool(node: onnx.NodeProto, ctx: Context) -> None:
    if len(node.output) > 1 and node.output[1]:
        raise Unsupported("the Indices output (TFLite's MAX_POOL_2D gives values only)")
    _pool(node, ctx, "MAX_POOL_2D")


def _average_pool(node: onnx.NodeProto, ctx: Context) -> None:
    _pool(node, ctx, "AVERAGE_POOL_2D")


def _global(opcode: str):
    def convert(node: onnx.NodeProto, ctx: Context) -> None:
        x = ctx.input(node, 0)
        if x.rank < 3:
            raise Unsupported(f"input of rank {x.rank} has no spatial dims")
        axes = ctx.constant(np.arange(2, x.rank, dtype=np.int32), f"{node.output[0]}/axes")
        ctx.emit(opcode, [x, axes], {"keep_dims": True})

    return convert


CONVERTERS = {
    "MaxPool": _max_pool,
    "AveragePool": _average_pool,
    "GlobalAveragePool": _global("MEAN"),
    "GlobalMaxPool": _global("REDUCE_MAX"),
}
