"""Activations: Relu, Sigmoid, Tanh, LeakyRelu, PRelu, Elu, Selu, Celu, Clip, HardSigmoid,
HardSwish, Softplus, Softsign, Mish, Gelu, ThresholdedRelu.

Elementwise ops keep the layout of their input, so none of these needs a transpose. Ops TFLite
has no builtin for are built from a few elementwise ops (the pattern passes may fuse them).
"""

from __future__ import annotations

import numpy as np
import onnx

from edgelite.frontends.onnx.context import Context, Unsupported, Value


def scalar(ctx: Context, like: Value, number: float, hint: str = "scalar") -> Value:
    """A scalar constant of `like`'s dtype."""
    return ctx.constant(np.asarray(number, dtype=like.dtype), f"{like.name}/{hint}")


def unary(opcode: str, options: dict | None = None):
    """A converter for an ONNX op that is exactly one edgelite builtin on input 0."""

    def convert(node: onnx.NodeProto, ctx: Context) -> None:
        ctx.emit(opcode, [ctx.input(node, 0)], options)

    return convert


def _leaky_relu(node: onnx.NodeProto, ctx: Context) -> None:
    ctx.emit("LEAKY_RELU", [ctx.input(node, 0)], {"alpha": ctx.attr(node, "alpha", 0.01)})


def _prelu(node: onnx.NodeProto, ctx: Context) -> None:
    x, slope = ctx.input(node, 0), ctx.input(node, 1)
    if slope.shape is not None and x.shape is not None and len(slope.shape) > len(x.shape):
        raise Unsupported(f"slope of rank {len(slope.shape)} does not broadcast into rank {len(x.shape)}")
    ctx.emit("PRELU", [x, slope])


def _elu(node: onnx.NodeProto, ctx: Context) -> None:
    alpha = ctx.attr(node, "alpha", 1.0)
    if alpha == 1.0:
        ctx.emit("ELU", [ctx.input(node, 0)])
        return
    _scaled_elu(node, ctx, alpha, 1.0)


def _selu(node: onnx.NodeProto, ctx: Context) -> None:
    _scaled_elu(node, ctx, ctx.attr(node, "alpha", 1.67326319217681884765625),
                ctx.attr(node, "gamma", 1.05070102214813232421875))


def _scaled_elu(node: onnx.NodeProto, ctx: Context, alpha: float, gamma: float) -> None:
    """gamma * (max(x, 0) + alpha * (exp(min(x, 0)) - 1))."""
    x = ctx.input(node, 0)
    zero = scalar(ctx, x, 0.0, "zero")
    positive = ctx.emit("RELU", [x], outputs=1)[0]
    negative = ctx.emit("MINIMUM", [x, zero], outputs=1)[0]
    expm1 = ctx.emit("SUB", [ctx.emit("EXP", [negative], outputs=1)[0], scalar(ctx, x, 1.0, "one")],
                     outputs=1)[0]
    scaled = ctx.emit("MUL", [expm1, scalar(ctx, x, alpha, "alpha")], outputs=1)[0]
    if gamma == 1.0:
        ctx.emit("ADD", [positive, scaled])
        return
    summed = ctx.emit("ADD", [positive, scaled], outputs=1)[0]
    ctx.emit("MUL", [summed, scalar(ctx, x, gamma, "gamma")])


def _celu(node: onnx.NodeProto, ctx: Context) -> None:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    x, alpha = ctx.input(node, 0), ctx.attr(node, "alpha", 1.0)
    scaled = ctx.emit("MUL", [x, scalar(ctx, x, 1.0 / alpha, "inv_alpha")], outputs=1)[0]
    elu = ctx.emit("ELU", [scaled], outputs=1)[0]
    ctx.emit("MUL", [elu, scalar(ctx, x, alpha, "alpha")])


def clip_bounds(node: onnx.NodeProto, ctx: Context) -> tuple[float | None, float | None]:
    """Clip's (min, max): attributes before opset 11, optional constant inputs since."""
    if ctx.opset < 11:
        return ctx.attr(node, "min", None), ctx.attr(node, "max", None)
    low, high = ctx.const_input(node, 1, "min"), ctx.const_input(node, 2, "max")
    return (None if low is None else low.item()), (None if high is None else high.item())


_CLAMPS = {(0.0, None): "RELU", (0.0, 6.0): "RELU6", (-1.0, 1.0): "RELU_N1_TO_1", (0.0, 1.0): "RELU_0_TO_1"}


def _clip(node: onnx.NodeProto, ctx: Context) -> None:
    x = ctx.input(node, 0)
    low, high = clip_bounds(node, ctx)
    finfo = np.finfo(np.float32)
    low = None if low is not None and low <= finfo.min else low
    high = None if high is not None and high >= finfo.max else high
    opcode = _CLAMPS.get((low, high)) if x.dtype == np.float32 else None
    if opcode is not None:
        ctx.emit(opcode, [x])
        return
    if low is None and high is None:
        ctx.bind(node.output[0], x)
        return
    if low is not None and high is not None:
        x = ctx.emit("MAXIMUM", [x, scalar(ctx, x, low, "min")], outputs=1)[0]
        ctx.emit("MINIMUM", [x, scalar(ctx, x, high, "max")])
    elif low is not None:
        ctx.emit("MAXIMUM", [x, scalar(ctx, x, low, "min")])
    else:
        ctx.emit("MINIMUM", [x, scalar(ctx, x, high, "max")])


def _hard_sigmoid(node: onnx.NodeProto, ctx: Context) -> None:
    """max(0, min(1, alpha * x + beta))."""
    x = ctx.input(node, 0)
    alpha, beta = ctx.attr(node, "alpha", 0.2), ctx.attr(node, "beta", 0.5)
    scaled = ctx.emit("MUL", [x, scalar(ctx, x, alpha, "alpha")], outputs=1)[0]
    shifted = ctx.emit("ADD", [scaled, scalar(ctx, x, beta, "beta")], outputs=1)[0]
    ctx.emit("RELU_0_TO_1", [shifted])


def _softplus(node: onnx.NodeProto, ctx: Context) -> None:
    """log(1 + exp(x)), as max(x, 0) + log(1 + exp(-|x|)) so large inputs do not overflow."""
    x = ctx.input(node, 0)
    ctx.emit("ADD", [ctx.emit("RELU", [x], outputs=1)[0], _log1p_exp_neg_abs(ctx, x)])


def _log1p_exp_neg_abs(ctx: Context, x: Value) -> Value:
    negative_abs = ctx.emit("NEG", [ctx.emit("ABS", [x], outputs=1)[0]], outputs=1)[0]
    exp = ctx.emit("EXP", [negative_abs], outputs=1)[0]
    return ctx.emit("LOG", [ctx.emit("ADD", [exp, scalar(ctx, x, 1.0, "one")], outputs=1)[0]], outputs=1)[0]


def _softsign(node: onnx.NodeProto, ctx: Context) -> None:
    x = ctx.input(node, 0)
    denominator = ctx.emit("ADD", [ctx.emit("ABS", [x], outputs=1)[0], scalar(ctx, x, 1.0, "one")],
                           outputs=1)[0]
    ctx.emit("DIV", [x, denominator])


def _mish(node: onnx.NodeProto, ctx: Context) -> None:
    """x * tanh(softplus(x))."""
    x = ctx.input(node, 0)
    positive = ctx.emit("RELU", [x], outputs=1)[0]
    softplus = ctx.emit("ADD", [positive, _log1p_exp_neg_abs(ctx, x)], outputs=1)[0]
    ctx.emit("MUL", [x, ctx.emit("TANH", [softplus], outputs=1)[0]])


def _gelu(node: onnx.NodeProto, ctx: Context) -> None:
    approximate = ctx.attr(node, "approximate", "none")
    if approximate not in ("none", "tanh"):
        raise Unsupported(f"approximate={approximate!r}")
    ctx.emit("GELU", [ctx.input(node, 0)], {"approximate": approximate == "tanh"})


def _thresholded_relu(node: onnx.NodeProto, ctx: Context) -> None:
    """x where x > alpha, else 0."""
    x = ctx.input(node, 0)
    alpha = scalar(ctx, x, ctx.attr(node, "alpha", 1.0), "alpha")
    mask = ctx.emit("GREATER", [x, alpha], outputs=1, dtypes=[np.bool_])[0]
    ctx.emit("SELECT_V2", [mask, x, scalar(ctx, x, 0.0, "zero")])


CONVERTERS = {
    "Relu": unary("RELU"),
    "Sigmoid": unary("LOGISTIC"),
    "Tanh": unary("TANH"),
    "HardSwish": unary("HARD_SWISH"),
    "LeakyRelu": _leaky_relu,
    "PRelu": _prelu,
    "Elu": _elu,
    "Selu": _selu,
    "Celu": _celu,
    "Clip": _clip,
    "HardSigmoid": _hard_sigmoid,
    "Softplus": _softplus,
    "Softsign": _softsign,
    "Mish": _mish,
    "Gelu": _gelu,
    "ThresholdedRelu": _thresholded_relu,
}
