"""Data movement: Concat, Split, Slice, Gather, GatherElements, GatherND, Pad, NonZero.

TFLite's GATHER and GATHER_ND reject negative indices, which ONNX allows: constant indices are
normalized now, runtime ones go through FLOOR_MOD by the indexed dim (one op). Slices with unit
steps on static dims become SLICE, the rest STRIDED_SLICE (ONNX's INT_MAX ends saturate to int32).
"""

from __future__ import annotations

import numpy as np
import onnx

from edgelite.frontends.onnx.context import Context, Unsupported, Value
from edgelite.frontends.onnx.ops import _symbols as symbols
from edgelite.frontends.onnx.ops.shape import (
    INT32_MAX,
    INT32_MIN,
    assemble,
    axes_operand,
    concat,
    dims_of,
    int32,
    mark_dynamic,
    normalize,
    reshape,
    shape_of,
    to_int32,
)
from edgelite.ops.mirror_pad import MirrorPadMode


def _concat(node: onnx.NodeProto, ctx: Context) -> None:
    parts = [v for v in ctx.inputs(node) if v is not None]
    axis = normalize(ctx.attr(node, "axis", 0), parts[0].rank)
    kept = [v for v in parts if v.shape is None or v.signature is not None or v.shape[axis] != 0]
    if len(kept) == 1:
        ctx.bind(node.output[0], kept[0])
        return
    pieces = [symbols.of(v) for v in parts] if parts[0].rank == 1 else [None]
    elements = None if None in pieces else sum(pieces, ())
    if elements is not None and _fold_elements(ctx, node, elements, parts[0]):
        return
    (out,) = ctx.emit("CONCATENATION", kept or parts, {"axis": axis})
    if elements is not None:
        symbols.record(out, elements)


def _fold_elements(ctx: Context, node: onnx.NodeProto, elements: tuple, like: Value, shape=None) -> bool:
    """Bind a shape vector whose every element is known as a constant (see _symbols.py)."""
    shape = [len(elements)] if shape is None else shape
    folded = symbols.known(ctx, elements, like.dtype, shape, node.output[0])
    if folded is not None:
        ctx.bind(node.output[0], folded)
    return folded is not None


def _split(node: onnx.NodeProto, ctx: Context) -> None:
    x = ctx.input(node, 0)
    axis, count = normalize(ctx.attr(node, "axis", 0), x.rank), len(node.output)
    sizes = ctx.attr(node, "split", None) if ctx.opset < 13 else ctx.const_input(node, 1, "split")
    if count == 1:
        ctx.bind(node.output[0], x)
        return
    dim = dims_of(x)[axis]
    if sizes is None and dim != -1 and dim % count:  # opset 18 num_outputs: the last piece is smaller
        piece = -(-dim // count)
        sizes = [piece] * (count - 1) + [dim - piece * (count - 1)]
    if sizes is None:
        ctx.emit("SPLIT", [int32(ctx, axis, "axis"), x], {"num_splits": count})
        return
    sizes = [int(s) for s in np.asarray(sizes).reshape(-1)]
    ctx.emit("SPLIT_V", [x, int32(ctx, sizes, "sizes"), int32(ctx, axis, "axis")], {"num_splits": count})


# -- Slice --------------------------------------------------------------------------------------
def _slice(node: onnx.NodeProto, ctx: Context) -> None:
    x = ctx.input(node, 0)
    rank = x.rank
    if ctx.opset < 10:
        starts = ctx.constant(np.asarray(ctx.attr(node, "starts"), np.int64), "starts")
        ends = ctx.constant(np.asarray(ctx.attr(node, "ends"), np.int64), "ends")
        axes, steps = ctx.attr(node, "axes", None), None
    else:
        starts, ends = ctx.input(node, 1), ctx.input(node, 2)
        axes, steps = ctx.const_input(node, 3, "axes"), ctx.const_input(node, 4, "steps")
    if starts.shape is None or starts.signature is not None:
        raise Unsupported("starts of unknown length")
    count = starts.shape[0]
    axes = list(range(count)) if axes is None else [normalize(int(a), rank) for a in np.reshape(axes, -1)]
    steps = [1] * count if steps is None else [int(s) for s in np.reshape(steps, -1)]
    if 0 in steps:
        raise Unsupported(f"steps {steps} contain 0")
    if starts.is_const and ends.is_const:
        bounds = starts.const.reshape(-1).tolist(), ends.const.reshape(-1).tolist()
        _slice_constant(ctx, node, x, axes, *bounds, steps)
        return
    entries = lambda v, fill: [(v, axes.index(d)) if d in axes else fill for d in range(rank)]  # noqa: E731
    begin = assemble(ctx, entries(to_int32(ctx, starts, clamp=True), 0))
    end = assemble(ctx, entries(to_int32(ctx, ends, clamp=True), 0))
    strides = [steps[axes.index(d)] if d in axes else 1 for d in range(rank)]
    mask = sum(1 << d for d in range(rank) if d not in axes)
    ctx.emit("STRIDED_SLICE", [x, begin, end, int32(ctx, strides, "strides")],
             {"begin_mask": mask, "end_mask": mask})


def _slice_constant(ctx: Context, node: onnx.NodeProto, x: Value, axes: list[int], starts: list[int],
                    ends: list[int], steps: list[int]) -> None:
    rank, source = x.rank, dims_of(x)
    begin, end, strides = [0] * rank, [0] * rank, [1] * rank
    begin_mask = end_mask = sum(1 << d for d in range(rank) if d not in axes)
    sizes, exact, picks = [-1] * rank, True, range(0)
    for axis, start, stop, step in zip(axes, starts, ends, steps, strict=True):
        dim, strides[axis] = source[axis], step
        if dim == -1:  # TFLite clamps negative/huge bounds against the runtime dim the same way
            exact = False
            begin[axis], end[axis] = (int(np.clip(v, INT32_MIN, INT32_MAX)) for v in (start, stop))
            continue
        start, stop = (v + dim if v < 0 else v for v in (start, stop))
        if step > 0:
            start, stop = min(max(start, 0), dim), min(max(stop, 0), dim)
        else:
            start, stop = min(max(start, 0), dim - 1), min(max(stop, -1), dim - 1)
        begin[axis], end[axis] = start, stop
        sizes[axis], picks = max(0, -(-(stop - start) // step)), range(start, stop, step)
        if stop == -1:  # to the front: -1 would mean the last element to TFLite
            end_mask |= 1 << axis
    elements = symbols.of(x) if rank == 1 and exact and not x.is_const else None
    if elements is not None:
        elements = tuple(elements[i] for i in picks)
        if _fold_elements(ctx, node, elements, x):
            return
    if all(s == 1 for s in steps) and exact:
        if sizes == source:
            ctx.bind(node.output[0], x)
            return
        (out,) = ctx.emit("SLICE", [x, int32(ctx, begin, "begin"), int32(ctx, sizes, "size")])
    else:
        operands = [x, int32(ctx, begin, "begin"), int32(ctx, end, "end"), int32(ctx, strides, "strides")]
        (out,) = ctx.emit("STRIDED_SLICE", operands, {"begin_mask": begin_mask, "end_mask": end_mask})
    if elements is not None:
        symbols.record(out, elements)


# -- Gathers --------------------------------------------------------------------------------------
def nonnegative(ctx: Context, indices: Value, x: Value, axes: list[int]) -> Value:
    """Indices into x along `axes` (the last dim of `indices` runs over them when several) with
    ONNX's negative indices wrapped: folded when constant, else FLOOR_MOD by the dims."""
    dims = [dims_of(x)[a] for a in axes]
    if indices.is_const and (-1 not in dims or not np.any(indices.const < 0)):
        bound = np.asarray(dims if len(axes) > 1 else dims[0], dtype=indices.dtype)
        return ctx.constant(np.where(indices.const < 0, indices.const + bound, indices.const), indices.name)
    if -1 in dims:
        shape = shape_of(ctx, x, indices.dtype)
        bound = ctx.emit("GATHER", [shape, int32(ctx, axes if len(axes) > 1 else axes[0])], outputs=1)[0]
    else:
        bound = ctx.constant(np.asarray(dims if len(axes) > 1 else dims[0], dtype=indices.dtype), "dims")
    return ctx.emit("FLOOR_MOD", [indices, bound], outputs=1)[0]


def _gather(node: onnx.NodeProto, ctx: Context) -> None:
    x, indices = ctx.input(node, 0), ctx.input(node, 1)
    axis = normalize(ctx.attr(node, "axis", 0), x.rank)
    indices = nonnegative(ctx, indices, x, [axis])
    elements = symbols.of(x) if x.rank == 1 and indices.is_const and not x.is_const else None
    if elements is not None and np.all(indices.const < len(elements)):  # x.size(1) and the like
        elements = tuple(elements[i] for i in indices.const.reshape(-1))
        if _fold_elements(ctx, node, elements, x, indices.shape):
            return
    (out,) = ctx.emit("GATHER", [x, indices], {"axis": axis})
    if elements is not None:
        symbols.record(out, elements)


def _iota(shape: tuple[int, ...], axis: int, dtype: np.dtype) -> np.ndarray:
    """Coordinates along `axis` of every element of `shape`, as a [..., 1] column."""
    along = np.arange(shape[axis], dtype=dtype).reshape([-1 if d == axis else 1 for d in range(len(shape))])
    return np.broadcast_to(along, shape)[..., None]


def _static_indices(indices: Value, op: str) -> tuple[int, ...]:
    if not indices.static:
        raise Unsupported(f"{op} with indices of dynamic shape")
    return indices.shape


def _gather_elements(node: onnx.NodeProto, ctx: Context) -> None:
    """GATHER_ND with full coordinates: the indices along `axis`, iotas along the other dims."""
    x, indices = ctx.input(node, 0), ctx.input(node, 1)
    shape = _static_indices(indices, "GatherElements")
    axis = normalize(ctx.attr(node, "axis", 0), x.rank)
    indices = nonnegative(ctx, indices, x, [axis])
    column = ctx.emit("EXPAND_DIMS", [indices, int32(ctx, -1, "axis")], outputs=1)[0]
    parts = [column if d == axis else ctx.constant(_iota(shape, d, indices.dtype), "iota")
             for d in range(x.rank)]
    ctx.emit("GATHER_ND", [x, concat(ctx, parts, axis=len(shape))])


def _gather_nd(node: onnx.NodeProto, ctx: Context) -> None:
    x, indices = ctx.input(node, 0), ctx.input(node, 1)
    batch_dims = ctx.attr(node, "batch_dims", 0)
    shape = _static_indices(indices, "GatherND") if batch_dims else indices.shape
    depth = shape[-1]
    indices = nonnegative(ctx, indices, x, list(range(batch_dims, batch_dims + depth)))
    if batch_dims:  # prepend the batch coordinates
        rows = shape[:-1]
        iotas = [ctx.constant(_iota(rows, d, indices.dtype), "iota") for d in range(batch_dims)]
        indices = concat(ctx, [*iotas, indices], axis=len(shape) - 1)
    ctx.emit("GATHER_ND", [x, indices])


# -- Pad ---------------------------------------------------------------------------------------------
def _pad(node: onnx.NodeProto, ctx: Context) -> None:
    x = ctx.input(node, 0)
    rank, mode = x.rank, ctx.attr(node, "mode", "constant")
    if ctx.opset < 11:
        flat = ctx.attr(node, "pads", ctx.attr(node, "paddings"))
        pads, value = ctx.constant(np.asarray(flat, np.int64), "pads"), None
        fill = ctx.attr(node, "value", 0.0)
    else:
        pads, value = ctx.input(node, 1), ctx.input(node, 2)
        fill = None if value is None else (value.const.reshape(-1)[0] if value.is_const else None)
    axes = axes_operand(node, ctx, 18, 3) if ctx.opset >= 18 else None
    axes = list(range(rank)) if axes is None else [normalize(a, rank) for a in axes]
    if not pads.is_const:  # [begins, ends] of `axes` -> paddings [rank, 2]
        if mode not in ("constant", "reflect"):
            ctx.const_input(node, 1, f"pads, computed at run time, with mode={mode!r}")
        flat = to_int32(ctx, pads)
        if axes != list(range(rank)):
            flat = assemble(ctx, [(flat, axes.index(d) + half * len(axes)) if d in axes else 0
                                  for half in (0, 1) for d in range(rank)])
        _pad_op(ctx, x, ctx.transpose(reshape(ctx, flat, [2, rank]), [1, 0]), mode, fill, value)
        return
    flat = pads.const.reshape(-1).tolist()
    pairs = [(0, 0)] * rank
    for k, axis in enumerate(axes):
        pairs[axis] = (int(flat[k]), int(flat[k + len(axes)]))
    grow = [(max(a, 0), max(b, 0)) for a, b in pairs]
    crop = [(max(-a, 0), max(-b, 0)) for a, b in pairs]
    y = x if not any(a or b for a, b in grow) else _padded(ctx, x, grow, mode, fill, value)
    if any(a or b for a, b in crop):
        begin, end = [a for a, _ in crop], [-b for _, b in crop]
        end_mask = sum(1 << d for d, (_, b) in enumerate(crop) if b == 0)
        ctx.emit("STRIDED_SLICE", [y, int32(ctx, begin, "begin"), int32(ctx, end, "end"),
                                   int32(ctx, [1] * rank, "strides")], {"end_mask": end_mask})
    else:
        ctx.bind(node.output[0], y)


def _padded(ctx: Context, x: Value, pairs: list[tuple[int, int]], mode: str, fill,
            value: Value | None) -> Value:
    source = dims_of(x)
    if mode in ("constant", "reflect") or (mode == "edge" and max(max(p) for p in pairs) <= 1):
        return _pad_op(ctx, x, int32(ctx, pairs, "paddings"), mode, fill, value, outputs=1)
    if mode not in ("edge", "wrap"):
        raise Unsupported(f"mode={mode!r}")
    for axis, (before, after) in enumerate(pairs):  # one GATHER per padded axis
        if before or after:
            if source[axis] == -1:
                raise Unsupported(f"mode={mode!r} padding of dynamic dim {axis}")
            index = np.pad(np.arange(source[axis], dtype=np.int32), (before, after), mode=mode)
            x = ctx.emit("GATHER", [x, int32(ctx, index, "index")], {"axis": axis}, outputs=1)[0]
    return x


def _pad_op(ctx: Context, x: Value, paddings: Value, mode: str, fill, value: Value | None,
            outputs=None) -> Value:
    if mode == "reflect":
        return ctx.emit("MIRROR_PAD", [x, paddings], {"mode": MirrorPadMode.REFLECT}, outputs=outputs)[0]
    if mode == "edge":
        return ctx.emit("MIRROR_PAD", [x, paddings], {"mode": MirrorPadMode.SYMMETRIC}, outputs=outputs)[0]
    if mode != "constant":
        raise Unsupported(f"mode={mode!r}")
    if value is not None and fill is None:  # a computed fill value
        scalar = value if value.shape == () else reshape(ctx, value, [])
        return ctx.emit("PADV2", [x, paddings, scalar], outputs=outputs)[0]
    if not fill:
        return ctx.emit("PAD", [x, paddings], outputs=outputs)[0]
    scalar = ctx.constant(np.asarray(fill, dtype=x.dtype), "pad_value")
    return ctx.emit("PADV2", [x, paddings, scalar], outputs=outputs)[0]


def _nonzero(node: onnx.NodeProto, ctx: Context) -> None:
    """WHERE gives the [count, rank] coordinates; ONNX wants [rank, count]."""
    x = ctx.input(node, 0)
    if x.rank == 0:
        raise Unsupported("a scalar input (TFLite WHERE needs rank >= 1)")
    (coords,) = ctx.emit("WHERE", [x], outputs=1, dtypes=[np.int64], shapes=[(1, x.rank)])
    coords = mark_dynamic(ctx, coords, (-1, x.rank))  # the count is only known at run time
    ctx.bind(node.output[0], ctx.transpose(coords, [1, 0]))  # ONNX may declare the count: not ours


CONVERTERS = {
    "Concat": _concat,
    "Split": _split,
    "Slice": _slice,
    "Gather": _gather,
    "GatherElements": _gather_elements,
    "GatherND": _gather_nd,
    "Pad": _pad,
    "NonZero": _nonzero,
}
