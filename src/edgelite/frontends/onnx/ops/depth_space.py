"""DepthToSpace and SpaceToDepth: TFLite's NHWC ops (DCR channel order) wrapped in layout
transposes; the CRD order is a GATHER of channels before DEPTH_TO_SPACE / after SPACE_TO_DEPTH."""

from __future__ import annotations

import numpy as np
import onnx

from edgelite.frontends.onnx.context import Context, Unsupported, Value


def _int32(ctx: Context, values, hint: str) -> Value:
    return ctx.constant(np.asarray(values, dtype=np.int32), hint)


def _depth_to_space(node: onnx.NodeProto, ctx: Context) -> None:
    x, block = ctx.input(node, 0), ctx.attr(node, "blocksize")
    mode = ctx.attr(node, "mode", "DCR")
    if x.rank != 4:
        raise Unsupported(f"a {x.rank}-D input (4-D NCHW only)")
    x_nhwc = ctx.nchw_to_nhwc(x)
    if mode == "CRD":  # channel c * b * b + offset -> offset * C' + c (DCR order), a channel gather
        channels = x.shape[1]
        order = np.arange(channels).reshape(channels // (block * block), block * block).T.reshape(-1)
        x_nhwc = ctx.emit("GATHER", [x_nhwc, _int32(ctx, order, "channel_order")], {"axis": 3}, outputs=1)[0]
    elif mode != "DCR":
        raise Unsupported(f"mode={mode!r}")
    y = ctx.emit("DEPTH_TO_SPACE", [x_nhwc], {"block_size": block}, outputs=1)[0]
    ctx.nhwc_to_nchw(y)


def _space_to_depth(node: onnx.NodeProto, ctx: Context) -> None:
    x, block = ctx.input(node, 0), ctx.attr(node, "blocksize")
    mode = ctx.attr(node, "mode", "DCR")
    if x.rank != 4:
        raise Unsupported(f"a {x.rank}-D input (4-D NCHW only)")
    if mode not in ("DCR", "CRD"):
        raise Unsupported(f"mode={mode!r}")
    y = ctx.emit("SPACE_TO_DEPTH", [ctx.nchw_to_nhwc(x)], {"block_size": block}, outputs=1)[0]
    if mode == "CRD":  # TFLite's channel offset * C + c -> c * b * b + offset, a channel gather
        channels = x.shape[1]
        order = np.arange(channels * block * block).reshape(block * block, channels).T.reshape(-1)
        y = ctx.emit("GATHER", [y, _int32(ctx, order, "channel_order")], {"axis": 3}, outputs=1)[0]
    ctx.nhwc_to_nchw(y)


CONVERTERS = {"DepthToSpace": _depth_to_space, "SpaceToDepth": _space_to_depth}
