"""Gemm and MatMul: FULLY_CONNECTED when the right operand is a constant matrix, else BATCH_MATMUL.

FULLY_CONNECTED takes weights [N, K] (the transposed ONNX B) and a bias [N]; Gemm's alpha is
folded into the weights and beta * C into the bias when C broadcasts to [N] (else a separate
ADD). MatMul follows numpy: batch dims broadcast, a 1-D operand gains and then loses a dim.
"""

from __future__ import annotations

import numpy as np
import onnx

from edgelite.frontends.onnx.context import Context, Unsupported, Value

MAX_BATCH_MATMUL_RANK = 5


def _check_float(*values: Value) -> None:
    for value in values:
        if value.dtype != np.float32:
            raise Unsupported(f"{value.name!r} is {value.dtype} (float32 only; TFLite's integer "
                              "matmuls are quantized)")


def _int32(ctx: Context, values, hint: str) -> Value:
    return ctx.constant(np.asarray(values, dtype=np.int32), hint)


def fully_connected(ctx: Context, x: Value, weights: np.ndarray, bias: np.ndarray | None,
                    keep_num_dims: bool, outputs=None) -> Value:
    """FULLY_CONNECTED of x by constant weights [N, K] (and a constant bias [N])."""
    name = ctx.node.output[0] if ctx.node is not None else "fc"
    w = ctx.constant(np.ascontiguousarray(weights, dtype=np.float32), f"{name}/weights")
    b = None if bias is None else ctx.constant(np.asarray(bias, np.float32), f"{name}/bias")
    return ctx.emit("FULLY_CONNECTED", [x, w, b], {"keep_num_dims": keep_num_dims}, outputs=outputs)[0]


def _gemm(node: onnx.NodeProto, ctx: Context) -> None:
    a, b, c = ctx.input(node, 0), ctx.input(node, 1), ctx.input(node, 2)
    _check_float(a, b)
    alpha, beta = float(ctx.attr(node, "alpha", 1.0)), float(ctx.attr(node, "beta", 1.0))
    trans_a, trans_b = bool(ctx.attr(node, "transA", 0)), bool(ctx.attr(node, "transB", 0))
    if a.rank != 2 or b.rank != 2:
        raise Unsupported(f"Gemm operands of rank {a.rank} and {b.rank} (the spec says 2)")
    if c is not None and beta == 0.0:
        c = None
    if b.is_const:
        weights = (b.const if trans_b else b.const.T) * np.float32(alpha)  # [N, K]
        units = weights.shape[0]
        bias = None
        if c is not None and c.is_const and c.const.size in (1, units) and \
                (c.const.size == 1 or c.const.shape[-1] == units) and c.rank <= 2:
            bias, c = np.broadcast_to(c.const.reshape(-1) * np.float32(beta), (units,)), None
        x = ctx.transpose(a, [1, 0]) if trans_a else a
        y = fully_connected(ctx, x, weights, bias, keep_num_dims=False, outputs=None if c is None else 1)
    else:
        y = ctx.emit("BATCH_MATMUL", [a, b], {"adj_x": trans_a, "adj_y": trans_b},
                     outputs=1 if c is not None or alpha != 1.0 else None)[0]
        if alpha != 1.0:
            y = ctx.emit("MUL", [y, ctx.constant(np.float32(alpha), f"{node.output[0]}/alpha")],
                         outputs=1 if c is not None else None)[0]
    if c is None:
        return
    _check_float(c)
    if c.is_const:
        c = ctx.constant((c.const * np.float32(beta)).astype(np.float32), f"{node.output[0]}/c")
    elif beta != 1.0:
        c = ctx.emit("MUL", [c, ctx.constant(np.float32(beta), f"{node.output[0]}/beta")], outputs=1)[0]
    ctx.emit("ADD", [y, c])


def _matmul(node: onnx.NodeProto, ctx: Context) -> None:
    a, b = ctx.input(node, 0), ctx.input(node, 1)
    _check_float(a, b)
    matrix_like = b.rank <= 2 or (all(d == 1 for d in b.shape[:-2]) and a.rank >= b.rank)
    if b.is_const and b.rank >= 1 and matrix_like:
        matrix = b.const.reshape(b.shape[-2:]) if b.rank >= 2 else b.const.reshape(-1, 1)
        if b.rank >= 2:
            fully_connected(ctx, a, matrix.T, None, keep_num_dims=True)
            return
        y = fully_connected(ctx, a, matrix.T, None, keep_num_dims=True, outputs=1)  # [..., 1]
        _reshape(ctx, y, a.shape[:-1], a.signature[:-1] if a.signature else None, outputs=None)
        return
    if max(a.rank, b.rank) > MAX_BATCH_MATMUL_RANK:
        raise Unsupported(f"MatMul of rank {max(a.rank, b.rank)} (BATCH_MATMUL takes up to "
                          f"{MAX_BATCH_MATMUL_RANK})")
    lhs = ctx.emit("EXPAND_DIMS", [a, _int32(ctx, 0, "axis")], outputs=1)[0] if a.rank == 1 else a
    rhs = ctx.emit("EXPAND_DIMS", [b, _int32(ctx, 1, "axis")], outputs=1)[0] if b.rank == 1 else b
    squeeze = ([-2] if a.rank == 1 else []) + ([-1] if b.rank == 1 else [])
    y = ctx.emit("BATCH_MATMUL", [lhs, rhs], outputs=1 if squeeze else None)[0]
    if squeeze:
        ctx.emit("SQUEEZE", [y], {"squeeze_dims": tuple(squeeze)})


def _reshape(ctx: Context, x: Value, shape, signature, outputs=None) -> Value:
    """RESHAPE to `shape` (a dynamic dim of `signature` becomes -1; at most one may be)."""
    target = list(shape) if signature is None else [-1 if s == -1 else d for d, s in zip(shape, signature,
                                                                                        strict=True)]
    if target.count(-1) > 1:
        raise Unsupported(f"reshape of {x.name!r} to a shape with several dynamic dims {target}")
    return ctx.emit("RESHAPE", [x, _int32(ctx, target, f"{x.name}/shape")], outputs=outputs)[0]


CONVERTERS = {"Gemm": _gemm, "MatMul": _matmul}
