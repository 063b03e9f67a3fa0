"""LRN: local response normalization across channels (LOCAL_RESPONSE_NORMALIZATION on NHWC)."""

from __future__ import annotations

import onnx

from edgelite.frontends.onnx.context import Context, Unsupported


def _lrn(node: onnx.NodeProto, ctx: Context) -> None:
    """ONNX divides alpha by size and sums the squares of `size` channels centred on each one."""
    size = int(ctx.attr(node, "size", 0))
    if size < 1 or size % 2 == 0:
        raise Unsupported(f"size={size}: TFLite's window is symmetric (2 * radius + 1 channels)")
    x = ctx.input(node, 0)
    if x.rank != 4:
        raise Unsupported(f"input of rank {x.rank}: TFLite's LOCAL_RESPONSE_NORMALIZATION needs 4-D")
    options = {"radius": (size - 1) // 2, "bias": float(ctx.attr(node, "bias", 1.0)),
               "alpha": float(ctx.attr(node, "alpha", 1e-4)) / size,
               "beta": float(ctx.attr(node, "beta", 0.75))}
    y = ctx.emit("LOCAL_RESPONSE_NORMALIZATION", [ctx.nchw_to_nhwc(x)], options, outputs=1)[0]
    ctx.nhwc_to_nchw(y)


CONVERTERS = {"LRN": _lrn}
