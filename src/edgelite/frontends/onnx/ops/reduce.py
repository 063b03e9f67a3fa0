"""Reductions and axis ops: ReduceMean/Sum/Max/Min/Prod/L1/L2/SumSquare/LogSum/LogSumExp,
ArgMax/ArgMin, Softmax/LogSoftmax.

Reduction axes are an attribute before opset 18 (ReduceSum: 13) and a constant input since; no
axes reduces everything unless noop_with_empty_axes. TFLite's SOFTMAX / LOG_SOFTMAX work on the
last axis: another axis is transposed there (opset >= 13) or, before opset 13, the input is
coerced to 2-D at the axis as ONNX then defined it.
"""

from __future__ import annotations

import numpy as np
import onnx

from edgelite.frontends.onnx.context import Context, Unsupported, Value
from edgelite.frontends.onnx.ops.math import F32, FLOAT, FLOAT_INT, I32, I64, absolute, cast, require
from edgelite.model.ir import TensorType

BOOL = np.dtype(np.bool_)


def reduction_axes(node: onnx.NodeProto, ctx: Context, x: Value) -> tuple[int, ...] | None:
    """The sorted non-negative axes to reduce; None when the node is a no-op (empty axes and
    noop_with_empty_axes=1)."""
    since = 13 if node.op_type == "ReduceSum" else 18
    axes = ctx.const_input(node, 1, "axes") if ctx.opset >= since else ctx.attr(node, "axes", None)
    axes = [] if axes is None else [int(a) for a in np.asarray(axes).reshape(-1)]
    if not axes:
        return None if ctx.attr(node, "noop_with_empty_axes", 0) else tuple(range(x.rank))
    if any(not -x.rank <= a < x.rank for a in axes):
        raise Unsupported(f"axes {axes} out of range for rank {x.rank}")
    return tuple(sorted({a % x.rank for a in axes}))


def reduce(ctx: Context, opcode: str, x: Value, axes: tuple[int, ...], keepdims: bool,
           outputs: int | list[str] | None = None) -> Value:
    """One TFLite reduction of x over axes (identity when there is nothing to reduce)."""
    if not axes:
        if outputs is not None and not isinstance(outputs, int):
            ctx.bind(outputs[0], x)
        elif outputs is None:
            ctx.bind(ctx.node.output[0], x)
        return x
    axes_value = ctx.constant(np.asarray(axes, np.int32), f"{x.name}/axes")
    return ctx.emit(opcode, [x, axes_value], {"keep_dims": bool(keepdims)}, outputs=outputs)[0]


# ONNX's value of a reduction over no elements (TFLite's REDUCE_MAX/MIN give the finite extremes).
_EMPTY = {"ReduceMax": -np.inf, "ReduceMin": np.inf, "ReduceSum": 0, "ReduceProd": 1, "ReduceMean": np.nan,
          "ReduceL1": 0, "ReduceL2": 0, "ReduceSumSquare": 0, "ReduceLogSum": -np.inf,
          "ReduceLogSumExp": -np.inf}


def empty_reduction(node: onnx.NodeProto, ctx: Context, x: Value, axes: tuple[int, ...]) -> bool:
    """Bind a constant when a static reduced dim is 0 (the result is known); say whether it did."""
    if not x.static or not any(x.shape[a] == 0 for a in axes):
        return False
    keepdims = ctx.attr(node, "keepdims", 1)
    shape = [1 if i in axes else d for i, d in enumerate(x.shape) if keepdims or i not in axes]
    fill = _EMPTY[node.op_type]
    if x.dtype.kind in "iu" and not np.isfinite(fill):
        info = np.iinfo(x.dtype)
        fill = info.min if fill < 0 else info.max
    ctx.bind(node.output[0], ctx.constant(np.full(shape, fill, x.dtype), node.output[0]))
    return True


def _simple(opcode: str, types: frozenset, bool_opcode: str | None = None):
    """ReduceX that is one TFLite reduction (bool ReduceMax/Min: REDUCE_ANY/REDUCE_ALL)."""

    def convert(node: onnx.NodeProto, ctx: Context) -> None:
        x = ctx.input(node, 0)
        axes = reduction_axes(node, ctx, x)
        if axes is None:
            ctx.bind(node.output[0], x)
            return
        if x.dtype != BOOL and empty_reduction(node, ctx, x, axes):
            return
        use = bool_opcode if bool_opcode is not None and x.dtype == BOOL else opcode
        if use == opcode:
            require(x, types, node.op_type)
        reduce(ctx, use, x, axes, ctx.attr(node, "keepdims", 1))

    return convert


def _composite(before: str | None, opcode: str, after: str | None, types: frozenset = FLOAT):
    """ReduceL1/L2/SumSquare/LogSum: an elementwise op, a reduction, an elementwise op."""

    def convert(node: onnx.NodeProto, ctx: Context) -> None:
        x = ctx.input(node, 0)
        require(x, types, node.op_type)
        axes = reduction_axes(node, ctx, x)
        if axes is None:  # the elementwise parts still apply (ONNX reduces nothing)
            axes = ()
        if empty_reduction(node, ctx, x, axes):
            return
        keepdims = ctx.attr(node, "keepdims", 1)
        if before == "SQUARE" and x.dtype != F32:
            x = ctx.emit("MUL", [x, x], outputs=1)[0]
        elif before == "ABS":
            x = absolute(ctx, x, outputs=1)
        elif before is not None:
            x = ctx.emit(before, [x], outputs=1)[0]
        if after is None:
            if axes:
                reduce(ctx, opcode, x, axes, keepdims)
            else:
                ctx.bind(node.output[0], x)
            return
        if axes:
            x = reduce(ctx, opcode, x, axes, keepdims, outputs=1)
        ctx.emit(after, [x])

    return convert


def _log_sum_exp(node: onnx.NodeProto, ctx: Context) -> None:
    """max + log(sum(exp(x - max))): exact where a plain exp would overflow."""
    x = ctx.input(node, 0)
    require(x, FLOAT, "ReduceLogSumExp")
    axes = reduction_axes(node, ctx, x) or ()
    keepdims = ctx.attr(node, "keepdims", 1)
    if not axes:  # log(exp(x)) == x
        ctx.bind(node.output[0], x)
        return
    if empty_reduction(node, ctx, x, axes):
        return
    peak = reduce(ctx, "REDUCE_MAX", x, axes, True, outputs=1)
    shifted = ctx.emit("EXP", [ctx.emit("SUB", [x, peak], outputs=1)[0]], outputs=1)[0]
    log_sum = ctx.emit("LOG", [reduce(ctx, "SUM", shifted, axes, keepdims, outputs=1)], outputs=1)[0]
    if not keepdims:
        peak = ctx.emit("SQUEEZE", [peak], {"squeeze_dims": axes}, outputs=1)[0]
    ctx.emit("ADD", [log_sum, peak])


ARG_TYPES = frozenset({F32, I32, np.dtype(np.int8), np.dtype(np.uint8), BOOL})
ARG_WIDER = {np.dtype(np.int16): I32, np.dtype(np.uint16): I32, np.dtype(np.float16): F32}  # exact


def _arg(opcode: str):
    """ArgMax/ArgMin: TFLite's op with an int64 output; keepdims by EXPAND_DIMS, select_last_index
    on the reversed axis (n - 1 - index)."""

    def convert(node: onnx.NodeProto, ctx: Context) -> None:
        x = ctx.input(node, 0)
        if x.dtype in ARG_WIDER:
            x = cast(ctx, x, ARG_WIDER[x.dtype])
        require(x, ARG_TYPES, node.op_type)
        axis = ctx.attr(node, "axis", 0)
        if not -x.rank <= axis < x.rank:
            raise Unsupported(f"axis {axis} out of range for rank {x.rank}")
        axis %= x.rank
        keepdims, last = ctx.attr(node, "keepdims", 1), ctx.attr(node, "select_last_index", 0)
        axis_value = ctx.constant(np.asarray([axis], np.int32), f"{x.name}/axis")
        if last:
            if x.signature is not None and x.signature[axis] == -1:
                raise Unsupported("select_last_index=1 along a dynamic axis")
            x = ctx.emit("REVERSE_V2", [x, axis_value], outputs=1)[0]
        final = None if not (keepdims or last) else 1
        index = ctx.emit(opcode, [x, axis_value], {"output_type": TensorType.INT64}, outputs=final,
                         dtypes=[I64])[0]
        if last:
            count = ctx.constant(np.asarray(x.shape[axis] - 1, I64), f"{x.name}/last")
            index = ctx.emit("SUB", [count, index], outputs=None if not keepdims else 1, dtypes=[I64])[0]
        if keepdims:
            ctx.emit("EXPAND_DIMS", [index, ctx.constant(np.asarray(axis, np.int32), f"{x.name}/axis")],
                     dtypes=[I64])

    return convert


def _softmax(opcode: str):
    def convert(node: onnx.NodeProto, ctx: Context) -> None:
        x = ctx.input(node, 0)
        require(x, FLOAT, node.op_type)
        options = {"beta": 1.0} if opcode == "SOFTMAX" else None
        axis = ctx.attr(node, "axis", -1 if ctx.opset >= 13 else 1)
        if x.rank == 0 or not -x.rank <= axis < x.rank:
            raise Unsupported(f"axis {axis} for an input of rank {x.rank}")
        axis %= x.rank
        if axis == x.rank - 1:
            ctx.emit(opcode, [x], options)
        elif ctx.opset >= 13:
            perm = list(range(x.rank))
            perm[axis], perm[-1] = perm[-1], perm[axis]
            y = ctx.emit(opcode, [ctx.transpose(x, perm)], options, outputs=1)[0]
            ctx.transpose(y, perm, outputs=[node.output[0]])
        else:
            _coerced(node, ctx, opcode, options, x, axis)

    return convert


def _coerced(node: onnx.NodeProto, ctx: Context, opcode: str, options: dict | None, x: Value,
             axis: int) -> None:
    """Opset < 13: softmax over all of dims axis.. at once, as a 2-D [outer, inner] input."""
    if x.signature is not None and -1 in x.signature[axis:]:
        raise Unsupported(f"axis={axis} (opset < 13 flattens the dims from it) with dynamic dims after it")
    inner = int(np.prod(x.shape[axis:], dtype=np.int64))
    two_d = ctx.constant(np.asarray([-1, inner], np.int32), f"{x.name}/2d")
    flat = ctx.emit("RESHAPE", [x, two_d], outputs=1)[0]
    y = ctx.emit(opcode, [flat], options, outputs=1)[0]
    if x.static:
        shape = ctx.constant(np.asarray(x.shape, np.int32), f"{x.name}/shape")
    else:
        shape = ctx.emit("SHAPE", [x], {"out_type": TensorType.INT32}, outputs=1, dtypes=[I32])[0]
    ctx.emit("RESHAPE", [y, shape])


ORDERED = frozenset({F32, I32, I64})

CONVERTERS = {
    "ReduceMean": _simple("MEAN", FLOAT_INT),
    "ReduceSum": _simple("SUM", FLOAT_INT),
    "ReduceMax": _simple("REDUCE_MAX", ORDERED, bool_opcode="REDUCE_ANY"),
    "ReduceMin": _simple("REDUCE_MIN", ORDERED, bool_opcode="REDUCE_ALL"),
    "ReduceProd": _simple("REDUCE_PROD", FLOAT_INT),
    "ReduceL1": _composite("ABS", "SUM", None, FLOAT_INT),
    "ReduceL2": _composite("SQUARE", "SUM", "SQRT"),
    "ReduceSumSquare": _composite("SQUARE", "SUM", None, FLOAT_INT),
    "ReduceLogSum": _composite(None, "SUM", "LOG"),
    "ReduceLogSumExp": _log_sum_exp,
    "ArgMax": _arg("ARG_MAX"),
    "ArgMin": _arg("ARG_MIN"),
    "Softmax": _softmax("SOFTMAX"),
    "LogSoftmax": _softmax("LOG_SOFTMAX"),
}
