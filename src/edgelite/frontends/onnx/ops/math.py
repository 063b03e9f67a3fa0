"""Elementwise arithmetic: Add, Sub, Mul, Div, Pow, Max, Min, Sum, Mean and the unary maths ops
(Sqrt, Exp, Log, Abs, Neg, Reciprocal, Floor, Ceil, Round, Sign, Sin, Cos, Erf).

Broadcasting is numpy's in ONNX (opset >= 7) and in TFLite, so binary ops map one to one. Types
TFLite's arithmetic lacks run between CASTs: narrow ones widened (exact; integers wrap back as
ONNX's do), int64 DIV/POW narrowed to int32 (values must fit). Erf, which TFLite lacks, is a short
sequence of builtins accurate to 5e-7. float16 computes in float32.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import onnx

from edgelite.frontends.onnx.context import Context, Unsupported, Value
from edgelite.model.ir import TensorType

F32, I32, I64 = np.dtype(np.float32), np.dtype(np.int32), np.dtype(np.int64)
FLOAT = frozenset({F32})
FLOAT_INT = frozenset({F32, I32, I64})
# Types TFLite's arithmetic and comparisons lack -> the type they are computed in: exactly for the
# integers (wrapping back), and correctly rounded for float16's + - * / sqrt (float32 has > 2p+2 bits).
WIDER = {np.dtype(t): w for t, w in ((np.int8, I32), (np.uint8, I32), (np.int16, I32), (np.uint16, I32),
                                      (np.uint32, I64), (np.float16, F32))}
CASTABLE = frozenset(np.dtype(t) for t in (np.float32, np.float16, np.float64, np.int8, np.uint8, np.int16,
                                           np.uint16, np.int32, np.uint32, np.int64, np.bool_))


def require(value: Value, types: Collection[np.dtype], what: str) -> None:
    """Unsupported unless value's dtype is one TFLite's kernel takes."""
    if value.dtype not in types:
        names = ", ".join(sorted(np.dtype(t).name for t in types))
        raise Unsupported(f"{what} of {value.dtype} tensors (TFLite supports {names})")


def scalar(ctx: Context, like: Value, number: float, hint: str = "scalar") -> Value:
    """A scalar constant of `like`'s dtype."""
    return ctx.constant(np.asarray(number, dtype=like.dtype), f"{like.name}/{hint}")


def cast(ctx: Context, value: Value, dtype: np.dtype, outputs: int | list[str] = 1) -> Value:
    """CAST value to dtype (a no-op when it already has it and no name must be bound)."""
    dtype = np.dtype(dtype)
    if value.dtype == dtype and isinstance(outputs, int):
        return value
    require(value, CASTABLE, "Cast")
    if dtype not in CASTABLE:
        raise Unsupported(f"Cast to {dtype} (TFLite has no such tensor type)")
    options = {"in_data_type": TensorType.from_numpy(value.dtype),
               "out_data_type": TensorType.from_numpy(dtype)}
    return ctx.emit("CAST", [value], options, outputs=outputs, dtypes=[dtype])[0]


def emit_via(ctx: Context, opcode: str, inputs: list[Value], dtype: np.dtype, node: onnx.NodeProto,
             result_dtype: np.dtype | None = None) -> None:
    """opcode computed in `dtype` between CASTs, binding the node's output: cast back to the inputs'
    type, or (result_dtype, e.g. bool for comparisons) left as the op makes it."""
    converted = [cast(ctx, v, dtype) for v in inputs]
    if result_dtype is not None:
        ctx.emit(opcode, converted, dtypes=[result_dtype])
        return
    result = ctx.emit(opcode, converted, outputs=1, dtypes=[dtype])[0]
    cast(ctx, result, inputs[0].dtype, outputs=[node.output[0]])


def compute_type(value: Value, types: Collection[np.dtype], what: str,
                 int64_via_int32: bool = False) -> np.dtype:
    """The type an op on `value` runs in: its own, a wider integer type, or int32 for int64."""
    if value.dtype in types:
        return value.dtype
    wide = I32 if value.dtype == I64 and int64_via_int32 else WIDER.get(value.dtype)
    if wide is None or wide not in types:
        require(value, types, what)  # raises
    return wide


def _legacy_broadcast(node: onnx.NodeProto, ctx: Context, a: Value, b: Value) -> Value:
    """Opset < 7 `broadcast=1, axis=k`: b lines up with a's dims from k; reshape it to trail with 1s."""
    axis = ctx.attr(node, "axis", None)
    if not ctx.attr(node, "broadcast", 0) or axis is None or b.shape is None:
        return b
    axis = axis + a.rank if axis < 0 else axis
    trailing = a.rank - axis - b.rank
    if trailing <= 0:
        return b
    shape = ctx.constant(np.asarray([*b.shape, *[1] * trailing], np.int32), f"{b.name}/shape")
    return ctx.emit("RESHAPE", [b, shape], outputs=1)[0]


def binary(opcode: str, types: Collection[np.dtype] = FLOAT_INT, int64_via_int32: bool = False):
    """A converter for an ONNX op that is one broadcasting TFLite binary op."""

    def convert(node: onnx.NodeProto, ctx: Context) -> None:
        a, b = ctx.input(node, 0), ctx.input(node, 1)
        if ctx.opset < 7:
            b = _legacy_broadcast(node, ctx, a, b)
        dtype = compute_type(a, types, node.op_type, int64_via_int32)
        if dtype == a.dtype:
            ctx.emit(opcode, [a, b])
        else:
            emit_via(ctx, opcode, [a, b], dtype, node)

    return convert


def unary(opcode: str, types: Collection[np.dtype] = FLOAT):
    """A converter for an ONNX op that is one TFLite unary op."""

    def convert(node: onnx.NodeProto, ctx: Context) -> None:
        x = ctx.input(node, 0)
        dtype = compute_type(x, types, node.op_type)
        if dtype == x.dtype:
            ctx.emit(opcode, [x])
        else:
            emit_via(ctx, opcode, [x], dtype, node)

    return convert


def _pow(node: onnx.NodeProto, ctx: Context) -> None:
    base, exponent = ctx.input(node, 0), ctx.input(node, 1)
    neutral = (exponent.is_const and exponent.const.size == 1 and base.shape is not None
               and len(exponent.shape) <= base.rank)  # the exponent does not change the output shape
    if neutral and base.dtype in FLOAT_INT:
        value = float(exponent.const.reshape(-1)[0])
        if value == 1.0:
            ctx.bind(node.output[0], base)
            return
        if value == 2.0:  # exact and cheaper than POW
            if base.dtype == F32:
                ctx.emit("SQUARE", [base])
            else:
                ctx.emit("MUL", [base, base])
            return
        if value == 0.5 and base.dtype == F32:
            ctx.emit("SQRT", [base])
            return
    if base.dtype.kind in "iu" and exponent.dtype.kind == "f" and not (
            exponent.is_const and np.all(np.mod(exponent.const, 1) == 0)):
        emit_via(ctx, "POW", [base, exponent], F32, node)  # ONNX: the float power truncated to the int type
        return
    if exponent.dtype != base.dtype:
        exponent = (ctx.constant(exponent.const.astype(base.dtype), f"{exponent.name}/{base.dtype}")
                    if exponent.is_const else cast(ctx, exponent, base.dtype))
    dtype = compute_type(base, (F32, I32), "Pow", int64_via_int32=True)
    if dtype == base.dtype:
        ctx.emit("POW", [base, exponent])
    else:
        emit_via(ctx, "POW", [base, exponent], dtype, node)


def _reciprocal(node: onnx.NodeProto, ctx: Context) -> None:
    x = ctx.input(node, 0)
    require(x, FLOAT, "Reciprocal")
    ctx.emit("DIV", [scalar(ctx, x, 1.0, "one"), x])


def absolute(ctx: Context, x: Value, outputs: int | None = None) -> Value:
    """ABS; int64 (no TFLite kernel) exactly as x < 0 ? -x : x."""
    if x.dtype != I64:
        require(x, (F32, I32), "Abs")
        return ctx.emit("ABS", [x], outputs=outputs)[0]
    negative = ctx.emit("LESS", [x, scalar(ctx, x, 0, "zero")], outputs=1, dtypes=[np.bool_])[0]
    return ctx.emit("SELECT_V2", [negative, ctx.emit("NEG", [x], outputs=1)[0], x], outputs=outputs,
                    dtypes=[I64])[0]


def _abs(node: onnx.NodeProto, ctx: Context) -> None:
    absolute(ctx, ctx.input(node, 0))


def _sign(node: onnx.NodeProto, ctx: Context) -> None:
    x = ctx.input(node, 0)
    if x.dtype == I64:  # exact: (x > 0) - (x < 0)
        zero = scalar(ctx, x, 0, "zero")
        above = ctx.emit("GREATER", [x, zero], outputs=1, dtypes=[np.bool_])[0]
        below = ctx.emit("LESS", [x, zero], outputs=1, dtypes=[np.bool_])[0]
        ctx.emit("SUB", [cast(ctx, above, I64), cast(ctx, below, I64)])
        return
    require(x, (F32, I32), "Sign")
    ctx.emit("SIGN", [x])


# Eigen's float erf: x * P(x^2) / Q(x^2) on x clamped to [-4, 4]; |error| < 5e-7 (relative too).
_ERF_NUMERATOR = (-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05,
                  -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02)
_ERF_DENOMINATOR = (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
                    -7.37332916720468e-03, -1.42647390514189e-02)


def _horner(ctx: Context, x: Value, coefficients: tuple[float, ...]) -> Value:
    """c0 * x^(n-1) + ... + c(n-1), highest power first."""
    result = scalar(ctx, x, coefficients[0], "c")
    for coefficient in coefficients[1:]:
        result = ctx.emit("MUL", [x, result], outputs=1)[0]
        result = ctx.emit("ADD", [result, scalar(ctx, x, coefficient, "c")], outputs=1)[0]
    return result


def _erf(node: onnx.NodeProto, ctx: Context) -> None:
    """No TFLite op: a rational approximation (max error 4.5e-7 in float32; NaN maps to -1)."""
    x = ctx.input(node, 0)
    require(x, FLOAT, "Erf")
    clamped = ctx.emit("MAXIMUM", [x, scalar(ctx, x, -4.0, "low")], outputs=1)[0]
    clamped = ctx.emit("MINIMUM", [clamped, scalar(ctx, x, 4.0, "high")], outputs=1)[0]
    square = ctx.emit("SQUARE", [clamped], outputs=1)[0]
    numerator = ctx.emit("MUL", [clamped, _horner(ctx, square, _ERF_NUMERATOR)], outputs=1)[0]
    ctx.emit("DIV", [numerator, _horner(ctx, square, _ERF_DENOMINATOR)])


def _variadic(opcode: str, types: Collection[np.dtype] = FLOAT_INT, mean: bool = False):
    """Max / Min / Sum / Mean over any number of broadcasting inputs: a chain of binary ops
    (Sum of three or more same-shape inputs: one ADD_N)."""

    def convert(node: onnx.NodeProto, ctx: Context) -> None:
        values = [v for v in ctx.inputs(node) if v is not None]
        dtype = values[0].dtype
        work = compute_type(values[0], FLOAT if mean else types, node.op_type)
        if len(values) == 1:
            ctx.bind(node.output[0], values[0])
            return
        values = [cast(ctx, v, work) for v in values]
        last = {} if not mean and work == dtype else {"outputs": 1}
        first = values[0]
        same_shape = all(v.shape is not None and (v.shape, v.signature) == (first.shape, first.signature)
                         for v in values)
        if opcode == "ADD" and len(values) > 2 and same_shape and work in (F32, I32):
            result = ctx.emit("ADD_N", values, **last)[0]
        else:
            result = values[0]
            for k, value in enumerate(values[1:], start=2):
                binds = last if k == len(values) else {"outputs": 1}
                result = ctx.emit(opcode, [result, value], **binds)[0]
        if mean:
            inverse = scalar(ctx, result, 1.0 / len(values), "inv_count")
            binds = 1 if work != dtype else None
            result = ctx.emit("MUL", [result, inverse], outputs=binds, dtypes=[work])[0]
        if work != dtype:
            cast(ctx, result, dtype, outputs=[node.output[0]])

    return convert


CONVERTERS = {
    "Add": binary("ADD"),
    "Sub": binary("SUB"),
    "Mul": binary("MUL"),
    "Div": binary("DIV", (F32, I32), int64_via_int32=True),
    "Pow": _pow,
    "Sqrt": unary("SQRT"),
    "Exp": unary("EXP"),
    "Log": unary("LOG"),
    "Abs": _abs,
    "Neg": unary("NEG", FLOAT_INT),
    "Reciprocal": _reciprocal,
    "Floor": unary("FLOOR"),
    "Ceil": unary("CEIL"),
    "Round": unary("ROUND"),
    "Sign": _sign,
    "Sin": unary("SIN"),
    "Cos": unary("COS"),
    "Erf": _erf,
    "Max": _variadic("MAXIMUM"),
    "Min": _variadic("MINIMUM"),
    "Sum": _variadic("ADD"),
    "Mean": _variadic("ADD", mean=True),
}
