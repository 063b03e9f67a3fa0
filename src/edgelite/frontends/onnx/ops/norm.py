"""BatchNormalization, InstanceNormalization, LayerNormalization, LpNormalization.

BatchNormalization (inference) is one MUL and one ADD by per-channel constants shaped to
broadcast over NCHW; the passes fold them into the producing conv / fully-connected layer.
Instance and layer norms are the tight sequence MEAN, SUB, SQUARED_DIFFERENCE, MEAN, ADD eps,
RSQRT, MUL, MUL (scale), ADD (bias) over their axes, all layout-agnostic ops.
"""

from __future__ import annotations

import numpy as np
import onnx

from edgelite.frontends.onnx.context import Context, Unsupported, Value


def _float(ctx: Context, x: Value, number: float, hint: str) -> Value:
    return ctx.constant(np.asarray(number, dtype=x.dtype), f"{x.name}/{hint}")


def _per_channel(ctx: Context, value: Value, rank: int, hint: str) -> Value:
    """A [C] vector reshaped to [C, 1, ..., 1] so it broadcasts over (N, C, *spatial)."""
    shape = np.asarray([-1] + [1] * (rank - 2), dtype=np.int32)
    if value.is_const:
        return ctx.constant(value.const.reshape(shape), hint)
    return ctx.emit("RESHAPE", [value, ctx.constant(shape, f"{hint}/shape")], outputs=1)[0]


def _batch_norm(node: onnx.NodeProto, ctx: Context) -> None:
    x = ctx.input(node, 0)
    if any(node.output[1:]) or ctx.attr(node, "training_mode", 0):
        raise Unsupported("training mode (running mean / variance outputs)")
    if ctx.opset < 9 and ctx.attr(node, "spatial", 1) == 0:
        raise Unsupported("spatial=0 (per-element statistics)")
    if x.dtype != np.float32 or x.rank < 2:
        raise Unsupported(f"input {x.dtype} of rank {x.rank} (float32 (N, C, ...) only)")
    epsilon = float(ctx.attr(node, "epsilon", 1e-5))
    params = [ctx.input(node, i) for i in range(1, 5)]  # scale, bias, mean, var
    name = node.output[0]
    if all(p.is_const for p in params):
        scale, bias, mean, var = (p.const.astype(np.float64) for p in params)
        multiplier = scale / np.sqrt(var + epsilon)
        offset = bias - mean * multiplier
        multiplier = ctx.constant(multiplier.astype(np.float32), f"{name}/scale")
        offset = ctx.constant(offset.astype(np.float32), f"{name}/offset")
    else:
        scale, bias, mean, var = params
        inv_std = ctx.emit("RSQRT", [ctx.emit("ADD", [var, _float(ctx, var, epsilon, "epsilon")],
                                              outputs=1)[0]], outputs=1)[0]
        multiplier = ctx.emit("MUL", [scale, inv_std], outputs=1)[0]
        offset = ctx.emit("SUB", [bias, ctx.emit("MUL", [mean, multiplier], outputs=1)[0]], outputs=1)[0]
    multiplier = _per_channel(ctx, multiplier, x.rank, f"{name}/scale")
    offset = _per_channel(ctx, offset, x.rank, f"{name}/offset")
    ctx.emit("ADD", [ctx.emit("MUL", [x, multiplier], outputs=1)[0], offset], outputs=[name])


def normalize(ctx: Context, x: Value, axes: list[int], epsilon: float, scale: Value | None,
              bias: Value | None, output: str, stats_outputs: tuple[str, str] = ("", "")) -> Value:
    """(x - mean) * rsqrt(var + eps) * scale + bias over `axes` into the ONNX name `output`; also
    binds the mean / inverse standard deviation names when given."""
    axes_value = ctx.constant(np.asarray(axes, dtype=np.int32), f"{x.name}/axes")
    mean_out, inv_out = stats_outputs
    mean = ctx.emit("MEAN", [x, axes_value], {"keep_dims": True}, outputs=[mean_out] if mean_out else 1)[0]
    centered = ctx.emit("SUB", [x, mean], outputs=1)[0]
    squares = ctx.emit("SQUARED_DIFFERENCE", [x, mean], outputs=1)[0]
    variance = ctx.emit("MEAN", [squares, axes_value], {"keep_dims": True}, outputs=1)[0]
    shifted = ctx.emit("ADD", [variance, _float(ctx, x, epsilon, "epsilon")], outputs=1)[0]
    inv_std = ctx.emit("RSQRT", [shifted], outputs=[inv_out] if inv_out else 1)[0]
    last = scale is None and bias is None
    y = ctx.emit("MUL", [centered, inv_std], outputs=[output] if last else 1)[0]
    if scale is not None:
        y = ctx.emit("MUL", [y, scale], outputs=[output] if bias is None else 1)[0]
    if bias is not None:
        y = ctx.emit("ADD", [y, bias], outputs=[output])[0]
    return y


def _instance_norm(node: onnx.NodeProto, ctx: Context) -> None:
    x = ctx.input(node, 0)
    if x.dtype != np.float32 or x.rank < 3:
        raise Unsupported(f"input {x.dtype} of rank {x.rank} (float32 (N, C, spatial...) only)")
    name = node.output[0]
    scale = _per_channel(ctx, ctx.input(node, 1), x.rank, f"{name}/scale")
    bias = _per_channel(ctx, ctx.input(node, 2), x.rank, f"{name}/bias")
    normalize(ctx, x, list(range(2, x.rank)), float(ctx.attr(node, "epsilon", 1e-5)), scale, bias,
              node.output[0])


def _layer_norm(node: onnx.NodeProto, ctx: Context) -> None:
    x, scale, bias = ctx.input(node, 0), ctx.input(node, 1), ctx.input(node, 2)
    if x.dtype != np.float32:
        raise Unsupported(f"input type {x.dtype} (float32 only)")
    if ctx.attr(node, "stash_type", 1) != 1:
        raise Unsupported("stash_type other than float32")
    axis = ctx.attr(node, "axis", -1)
    axis = axis + x.rank if axis < 0 else axis
    stats = (node.output[1] if len(node.output) > 1 else "", node.output[2] if len(node.output) > 2 else "")
    normalize(ctx, x, list(range(axis, x.rank)), float(ctx.attr(node, "epsilon", 1e-5)), scale, bias,
              node.output[0], stats)


def _lp_norm(node: onnx.NodeProto, ctx: Context) -> None:
    x, p = ctx.input(node, 0), ctx.attr(node, "p", 2)
    axis = ctx.attr(node, "axis", -1)
    axis = axis + x.rank if axis < 0 else axis
    if x.dtype != np.float32:
        raise Unsupported(f"input type {x.dtype} (float32 only)")
    if p == 2 and axis == x.rank - 1 and x.rank <= 4:
        ctx.emit("L2_NORMALIZATION", [x])
        return
    axes = ctx.constant(np.asarray([axis], dtype=np.int32), f"{x.name}/axes")
    if p == 2:  # x * rsqrt(max(sum(x^2), 1e-12)): TFLite's L2_NORMALIZATION on another axis
        squares = ctx.emit("SQUARE", [x], outputs=1)[0]
        total = ctx.emit("SUM", [squares, axes], {"keep_dims": True}, outputs=1)[0]
        floor = ctx.emit("MAXIMUM", [total, _float(ctx, x, 1e-12, "epsilon")], outputs=1)[0]
        ctx.emit("MUL", [x, ctx.emit("RSQRT", [floor], outputs=1)[0]])
    elif p == 1:  # x / max(sum(|x|), tiny): a zero vector stays zero, as in onnxruntime
        total = ctx.emit("SUM", [ctx.emit("ABS", [x], outputs=1)[0], axes], {"keep_dims": True}, outputs=1)[0]
        floor = ctx.emit("MAXIMUM", [total, _float(ctx, x, float(np.finfo(np.float32).tiny), "tiny")],
                         outputs=1)[0]
        ctx.emit("DIV", [x, floor])
    else:
        raise Unsupported(f"p={p} (1 and 2 only)")


CONVERTERS = {
    "BatchNormalization": _batch_norm,
    "InstanceNormalization": _instance_norm,
    "LayerNormalization": _layer_norm,
    "LpNormalization": _lp_norm,
}
