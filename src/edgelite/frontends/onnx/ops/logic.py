"""Comparisons, boolean logic, Where, IsNaN/IsInf, Cast/CastLike.

Comparisons and logic broadcast like numpy in both ONNX and TFLite, so each is one builtin op;
Xor is NOT_EQUAL of bools, IsNaN is x != x, IsInf compares with infinity.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper

from edgelite.frontends.onnx.context import Context, Unsupported, Value
from edgelite.frontends.onnx.ops.math import (
    CASTABLE,
    F32,
    FLOAT,
    FLOAT_INT,
    cast,
    compute_type,
    emit_via,
    require,
    scalar,
)

BOOL, F16 = np.dtype(np.bool_), np.dtype(np.float16)
SELECTABLE = FLOAT_INT | {BOOL, np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16)}


def _compare(opcode: str, types: frozenset = FLOAT_INT):
    def convert(node: onnx.NodeProto, ctx: Context) -> None:
        a, b = ctx.input(node, 0), ctx.input(node, 1)
        dtype = compute_type(a, types, node.op_type)
        if dtype == a.dtype:
            ctx.emit(opcode, [a, b], dtypes=[BOOL])
        else:
            emit_via(ctx, opcode, [a, b], dtype, node, result_dtype=BOOL)

    return convert


def _logical(opcode: str, arity: int = 2):
    def convert(node: onnx.NodeProto, ctx: Context) -> None:
        values = [ctx.input(node, i) for i in range(arity)]
        require(values[0], {BOOL}, node.op_type)
        ctx.emit(opcode, values, dtypes=[BOOL])

    return convert


def _where(node: onnx.NodeProto, ctx: Context) -> None:
    condition, x, y = ctx.input(node, 0), ctx.input(node, 1), ctx.input(node, 2)
    require(x, SELECTABLE, "Where")
    ctx.emit("SELECT_V2", [condition, x, y])


def _float32(ctx: Context, x: Value, what: str) -> Value:
    """x as float32 (float16 widens exactly)."""
    if x.dtype == F16:
        return cast(ctx, x, F32)
    require(x, FLOAT, what)
    return x


def _is_nan(node: onnx.NodeProto, ctx: Context) -> None:
    x = _float32(ctx, ctx.input(node, 0), "IsNaN")
    ctx.emit("NOT_EQUAL", [x, x], dtypes=[BOOL])


def _is_inf(node: onnx.NodeProto, ctx: Context) -> None:
    x = _float32(ctx, ctx.input(node, 0), "IsInf")
    positive, negative = ctx.attr(node, "detect_positive", 1), ctx.attr(node, "detect_negative", 1)
    if positive and negative:
        ctx.emit("EQUAL", [ctx.emit("ABS", [x], outputs=1)[0], scalar(ctx, x, np.inf, "inf")], dtypes=[BOOL])
    elif positive:
        ctx.emit("EQUAL", [x, scalar(ctx, x, np.inf, "inf")], dtypes=[BOOL])
    elif negative:
        ctx.emit("EQUAL", [x, scalar(ctx, x, -np.inf, "minus_inf")], dtypes=[BOOL])
    else:  # nothing is detected: x < -inf is false everywhere, NaN included
        ctx.emit("LESS", [x, scalar(ctx, x, -np.inf, "minus_inf")], dtypes=[BOOL])


def _cast_to(node: onnx.NodeProto, ctx: Context, dtype: np.dtype) -> None:
    x = ctx.input(node, 0)
    require(x, CASTABLE, "Cast")
    if dtype not in CASTABLE:
        raise Unsupported(f"Cast to {dtype} (TFLite has no such tensor type)")
    if x.dtype == dtype:
        ctx.bind(node.output[0], x)
        return
    cast(ctx, x, dtype, outputs=[node.output[0]])


def _cast(node: onnx.NodeProto, ctx: Context) -> None:
    to = ctx.attr(node, "to")
    name = onnx.TensorProto.DataType.Name(to) if to in onnx.TensorProto.DataType.values() else str(to)
    try:
        dtype = np.dtype(helper.tensor_dtype_to_np_dtype(to))
    except (KeyError, TypeError, ValueError):
        dtype = None
    if dtype not in CASTABLE:
        raise Unsupported(f"Cast to {name} (TFLite has no such tensor type)")
    _cast_to(node, ctx, dtype)


def _cast_like(node: onnx.NodeProto, ctx: Context) -> None:
    _cast_to(node, ctx, ctx.input(node, 1).dtype)


CONVERTERS = {
    "Equal": _compare("EQUAL", FLOAT_INT | {BOOL}),
    "Less": _compare("LESS"),
    "LessOrEqual": _compare("LESS_EQUAL"),
    "Greater": _compare("GREATER"),
    "GreaterOrEqual": _compare("GREATER_EQUAL"),
    "Not": _logical("LOGICAL_NOT", 1),
    "And": _logical("LOGICAL_AND"),
    "Or": _logical("LOGICAL_OR"),
    "Xor": _logical("NOT_EQUAL"),
    "Where": _where,
    "IsNaN": _is_nan,
    "IsInf": _is_inf,
    "Cast": _cast,
    "CastLike": _cast_like,
}
