"""Shape ops: Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Shape, Size, Expand, Tile,
ConstantOfShape, Range.

Static shapes become int32 constants (TFLite wants int32 shape operands). Where a dimension is
only known at run time, the shape is computed in the graph from SHAPE (which the Context folds
when the input is static), so dynamic batch and sequence dims keep working after a resize.
The helpers here (int32 constants, SHAPE, int64 -> int32) are shared with ops/tensor.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx

from edgelite.frontends.onnx.context import Context, Converter, Unsupported, Value
from edgelite.frontends.onnx.ops import _symbols as symbols
from edgelite.model.ir import TensorType

INT32_MIN, INT32_MAX = int(np.iinfo(np.int32).min), int(np.iinfo(np.int32).max)


# -- helpers shared by the shape and tensor families ---------------------------------------------
def int32(ctx: Context, values: int | Sequence[int], hint: str = "shape") -> Value:
    return ctx.constant(np.asarray(values, dtype=np.int32), hint)


def dims_of(x: Value) -> list[int]:
    """x's dims with -1 where dynamic."""
    if x.shape is None:
        raise Unsupported(f"tensor {x.name!r} has an unknown shape")
    return list(x.signature if x.signature is not None else x.shape)


def mark_dynamic(ctx: Context, value: Value, signature: tuple[int, ...]) -> Value:
    """Give a data-dependent output (RANGE, WHERE) its signature: -1 where the size is unknown."""
    if not value.is_const and value.signature is None:
        ctx.graph.tensors[value.index].shape_signature = signature
        value.signature = signature
    return value


def shape_of(ctx: Context, x: Value, dtype: type = np.int32) -> Value:
    """SHAPE(x) as a 1-D int32/int64 tensor (a constant when x is static)."""
    out_type = TensorType.from_numpy(np.dtype(dtype))
    return ctx.emit("SHAPE", [x], {"out_type": out_type}, outputs=1, dtypes=[dtype])[0]


def cast(ctx: Context, x: Value, dtype: type) -> Value:
    if x.dtype == np.dtype(dtype):
        return x
    options = {"in_data_type": TensorType.from_numpy(x.dtype),
               "out_data_type": TensorType.from_numpy(np.dtype(dtype))}
    return ctx.emit("CAST", [x], options, outputs=1, dtypes=[dtype])[0]


def to_int32(ctx: Context, x: Value, clamp: bool = False) -> Value:
    """An index tensor as int32; int64 values beyond int32 saturate when `clamp` (INT_MAX ends)."""
    if x.dtype == np.int32:
        return x
    if x.is_const:
        return int32(ctx, np.clip(x.const, INT32_MIN, INT32_MAX), f"{x.name}/int32")
    if clamp:
        low = ctx.constant(np.asarray(INT32_MIN, dtype=x.dtype), "int32_min")
        high = ctx.constant(np.asarray(INT32_MAX, dtype=x.dtype), "int32_max")
        x = ctx.emit("MAXIMUM", [x, low], outputs=1)[0]
        x = ctx.emit("MINIMUM", [x, high], outputs=1)[0]
    return cast(ctx, x, np.int32)


def concat(ctx: Context, parts: Sequence[Value], axis: int = 0) -> Value:
    parts = [p for p in parts if p.shape is None or p.shape[axis] != 0]
    if len(parts) == 1:
        return parts[0]
    return ctx.emit("CONCATENATION", parts, {"axis": axis}, outputs=1)[0]


def reshape(ctx: Context, x: Value, dims: Sequence[int] | Value, outputs=1) -> Value:
    """RESHAPE to constant dims (at most one -1) or to a runtime int32 shape vector."""
    if isinstance(dims, Value):
        return ctx.emit("RESHAPE", [x, dims], outputs=outputs)[0]
    dims = [int(d) for d in dims]
    return ctx.emit("RESHAPE", [x, int32(ctx, dims)], {"new_shape": tuple(dims)}, outputs=outputs)[0]


def axes_operand(node: onnx.NodeProto, ctx: Context, since: int, index: int = 1) -> list[int] | None:
    """The `axes` of Squeeze/Unsqueeze/...: an attribute before opset `since`, a constant input after."""
    if ctx.opset < since:
        axes = ctx.attr(node, "axes", None)
    else:
        axes = ctx.const_input(node, index, "axes")
    return None if axes is None else [int(a) for a in np.asarray(axes).reshape(-1)]


def normalize(axis: int, rank: int, what: str = "axis") -> int:
    if not -rank <= axis < rank:
        raise Unsupported(f"{what} {axis} is out of range for rank {rank}")
    return axis + rank if axis < 0 else axis


# -- Reshape and friends ---------------------------------------------------------------------------
def _reshape(node: onnx.NodeProto, ctx: Context) -> None:
    x, output = ctx.input(node, 0), node.output[0]
    if ctx.opset < 5:
        _reshape_symbols(ctx, x, list(ctx.attr(node, "shape", [])), False, output)
        return
    target, allowzero = ctx.input(node, 1), bool(ctx.attr(node, "allowzero", 0))
    entries = symbols.of(target)  # a constant's values, or what a Shape chain recorded
    if entries is not None and _reshape_symbols(ctx, x, list(entries), allowzero, output):
        symbols.forward(ctx, x, output)
        return
    shape, signature, _ = ctx.info(output)
    if shape is not None and (signature is None or signature.count(-1) <= 1):
        reshape(ctx, x, list(signature or shape), outputs=[output])  # ONNX inference knew it
        return
    if target.shape is None or len(target.shape) != 1 or target.signature is not None:
        raise Unsupported("a computed shape of unknown length")
    runtime = to_int32(ctx, target)
    if not allowzero:  # 0 copies the input's dim: where(shape == 0, shape(x), shape)
        length, rank = target.shape[0], x.rank
        copied = shape_of(ctx, x)
        if length < rank:
            copied = ctx.emit("SLICE", [copied, int32(ctx, [0]), int32(ctx, [length])], outputs=1)[0]
        elif length > rank:
            copied = concat(ctx, [copied, int32(ctx, [0] * (length - rank))])
        zero = ctx.emit("EQUAL", [runtime, int32(ctx, 0)], outputs=1, dtypes=[np.bool_])[0]
        runtime = ctx.emit("SELECT_V2", [zero, copied, runtime], outputs=1, dtypes=[np.int32])[0]
    reshape(ctx, x, runtime, outputs=[output])


def _reshape_symbols(ctx: Context, x: Value, entries: list, allowzero: bool, output: str) -> bool:
    """Reshape to dims known element by element (ints; Dim: a dynamic dim; None: unknown).

    0 copies the input dim (unless allowzero) and one -1 is inferred, as ONNX says. A -1 whose
    value only depends on static dims is computed now; then at most one unknown dim becomes -1
    in a constant shape, else the shape is assembled from SHAPE(x). False when it needs the
    target's run-time value (unknown elements)."""
    if allowzero and 0 in entries:
        raise Unsupported(f"allowzero=1 with a 0 in shape {entries} (an empty tensor)")
    source = dims_of(x)
    resolved: list = []
    for i, entry in enumerate(entries):
        if isinstance(entry, int) and entry == 0 and not allowzero:
            if i >= len(source):
                raise Unsupported(f"shape {entries} copies dim {i} of a rank-{len(source)} input")
            entry = source[i] if source[i] != -1 else symbols.Dim(x, i)
        elif isinstance(entry, symbols.Dim) and entry.source is not x:
            entry = None  # the size of another tensor's dynamic dim: only known at run time
        resolved.append(entry)
    copied = sorted(e.axis for e in resolved if isinstance(e, symbols.Dim))
    if -1 in resolved and None not in resolved and copied == [i for i, d in enumerate(source) if d == -1]:
        known = int(np.prod([d for d in source if d != -1], dtype=np.int64))
        others = int(np.prod([e for e in resolved if isinstance(e, int) and e != -1], dtype=np.int64))
        resolved[resolved.index(-1)] = known // others if others else 0
    unknown = [i for i, e in enumerate(resolved) if not isinstance(e, int) or e == -1]
    if len(unknown) <= 1:
        reshape(ctx, x, [-1 if i in unknown else e for i, e in enumerate(resolved)], outputs=[output])
        return True
    if None in resolved:
        return False
    shape = shape_of(ctx, x)
    entries = [(shape, e.axis) if isinstance(e, symbols.Dim) else e for e in resolved]
    reshape(ctx, x, assemble(ctx, entries), outputs=[output])
    return True


def assemble(ctx: Context, entries: Sequence[int | tuple[Value, int]]) -> Value:
    """A 1-D int32 vector whose entries are constants or elements of runtime int32 vectors."""
    constants = [e for e in entries if isinstance(e, int)]
    sources: list[Value] = []
    for entry in entries:
        if not isinstance(entry, int) and all(entry[0] is not s for s in sources):
            sources.append(entry[0])
    if not sources:
        return int32(ctx, constants)
    if len(sources) == 1 and list(entries) == [(sources[0], i) for i in range(sources[0].shape[0])]:
        return sources[0]
    offsets, position = {}, len(constants)
    for source in sources:
        offsets[id(source)] = position
        position += source.shape[0]
    index, k = [], 0
    for entry in entries:
        if isinstance(entry, int):
            index.append(k)
            k += 1
        else:
            index.append(offsets[id(entry[0])] + entry[1])
    table = concat(ctx, [int32(ctx, constants), *sources])
    return ctx.emit("GATHER", [table, int32(ctx, index)], outputs=1)[0]


def _flatten(node: onnx.NodeProto, ctx: Context) -> None:
    x = ctx.input(node, 0)
    source = dims_of(x)
    axis = ctx.attr(node, "axis", 1)
    axis = axis + len(source) if axis < 0 else axis
    if not 0 <= axis <= len(source):
        raise Unsupported(f"axis {axis} is out of range for rank {len(source)}")
    before, after = source[:axis], source[axis:]
    sizes = [-1 if -1 in part else int(np.prod(part, dtype=np.int64)) for part in (before, after)]
    if sizes.count(-1) <= 1:
        reshape(ctx, x, sizes, outputs=[node.output[0]])
        return
    head = ctx.emit("SLICE", [shape_of(ctx, x), int32(ctx, [0]), int32(ctx, [axis])], outputs=1)[0]
    rows = ctx.emit("REDUCE_PROD", [head, int32(ctx, [0])], {"keep_dims": True}, outputs=1)[0]
    reshape(ctx, x, concat(ctx, [rows, int32(ctx, [-1])]), outputs=[node.output[0]])


def _squeeze(node: onnx.NodeProto, ctx: Context) -> None:
    x = ctx.input(node, 0)
    source = dims_of(x)
    axes = axes_operand(node, ctx, 13)
    if axes is None:
        axes = [i for i, d in enumerate(source) if d == 1]
    else:
        axes = sorted({normalize(a, len(source)) for a in axes})
        if any(source[a] not in (1, -1) for a in axes):
            raise Unsupported(f"cannot squeeze axes {axes} of shape {tuple(source)}")
    if not axes:
        ctx.bind(node.output[0], x)
        return
    ctx.emit("SQUEEZE", [x], {"squeeze_dims": tuple(axes)})


def _unsqueeze(node: onnx.NodeProto, ctx: Context) -> None:
    x = ctx.input(node, 0)
    source = dims_of(x)
    axes = axes_operand(node, ctx, 13)
    if axes is None:
        raise Unsupported("Unsqueeze without axes")
    rank = len(source) + len(axes)
    axes = sorted({normalize(a, rank) for a in axes})
    if len(axes) == 1:
        ctx.emit("EXPAND_DIMS", [x, int32(ctx, axes[0], "axis")])
        return
    if source.count(-1) <= 1:
        dims = iter(source)
        reshape(ctx, x, [1 if i in axes else next(dims) for i in range(rank)], outputs=[node.output[0]])
        return
    for k, axis in enumerate(axes):
        names = [node.output[0]] if k == len(axes) - 1 else 1
        x = ctx.emit("EXPAND_DIMS", [x, int32(ctx, axis, "axis")], outputs=names)[0]


def _transpose(node: onnx.NodeProto, ctx: Context) -> None:
    x = ctx.input(node, 0)
    perm = ctx.attr(node, "perm", None)
    perm = list(range(x.rank))[::-1] if perm is None else [normalize(p, x.rank, "perm entry") for p in perm]
    if perm == list(range(x.rank)):
        ctx.bind(node.output[0], x)
        return
    ctx.transpose(x, perm, outputs=[node.output[0]])


# -- Shape, Size, Expand, Tile, ConstantOfShape, Range ---------------------------------------------
def _shape(node: onnx.NodeProto, ctx: Context) -> None:
    x = ctx.input(node, 0)
    rank = x.rank
    start, end = ctx.attr(node, "start", 0), ctx.attr(node, "end", rank)
    start, end = (min(max(v + rank if v < 0 else v, 0), rank) for v in (start, end))
    picked = symbols.of_shape(x)[start:end]
    folded = symbols.known(ctx, picked, np.dtype(np.int64), [len(picked)], node.output[0])
    if folded is not None:  # the dims asked for are static even if others are not
        ctx.bind(node.output[0], folded)
        return
    if (start, end) == (0, rank):
        (out,) = ctx.emit("SHAPE", [x], {"out_type": TensorType.INT64}, dtypes=[np.int64])
    else:
        shape = shape_of(ctx, x, np.int64)
        (out,) = ctx.emit("SLICE", [shape, int32(ctx, [start]), int32(ctx, [end - start])])
    symbols.record(out, picked)


def _size(node: onnx.NodeProto, ctx: Context) -> None:
    x = ctx.input(node, 0)
    if x.static:
        ctx.bind(node.output[0], ctx.constant(np.asarray(np.prod(x.shape, dtype=np.int64)), node.output[0]))
        return
    ctx.emit("REDUCE_PROD", [shape_of(ctx, x, np.int64), int32(ctx, [0])], {"keep_dims": False},
             dtypes=[np.int64])


def _expand(node: onnx.NodeProto, ctx: Context) -> None:
    """BROADCAST_TO the ONNX broadcast of x's shape and the given shape (max per aligned dim)."""
    x, target = ctx.input(node, 0), ctx.input(node, 1)
    if target.shape is None or len(target.shape) != 1 or target.signature is not None:
        raise Unsupported("a shape of unknown length")
    length, rank = target.shape[0], x.rank
    wanted, current = to_int32(ctx, target), shape_of(ctx, x)
    if length > rank:
        current = concat(ctx, [int32(ctx, [1] * (length - rank)), current])
    elif rank > length:
        wanted = concat(ctx, [int32(ctx, [1] * (rank - length)), wanted])
    out = ctx.emit("MAXIMUM", [current, wanted], outputs=1)[0]
    if out.is_const and x.static and tuple(out.const) == x.shape:
        ctx.bind(node.output[0], x)
        return
    count = len(ctx.graph.operators)
    ctx.emit("BROADCAST_TO", [x, out])
    if len(ctx.graph.operators) > count:  # LiteRT registers BROADCAST_TO from version 2 (1 was withdrawn)
        ctx.graph.operators[-1].version = max(ctx.graph.operators[-1].version, 2)


def _tile(node: onnx.NodeProto, ctx: Context) -> None:
    if ctx.opset < 6:
        raise Unsupported("Tile-1 (tiles/axis inputs)")
    x, repeats = ctx.input(node, 0), ctx.input(node, 1)
    if repeats.is_const and np.all(repeats.const == 1):
        ctx.bind(node.output[0], x)
        return
    ctx.emit("TILE", [x, to_int32(ctx, repeats)])


def _constant_of_shape(node: onnx.NodeProto, ctx: Context) -> None:
    value = ctx.attr(node, "value", None)
    value = np.zeros((), np.float32) if value is None else np.asarray(value).reshape(())
    dims = ctx.input(node, 0)
    fill = ctx.constant(value, f"{node.output[0]}/value")
    ctx.emit("FILL", [to_int32(ctx, dims), fill], dtypes=[value.dtype])


_RANGE_TYPES = (np.float32, np.int32, np.int64)


def _range(node: onnx.NodeProto, ctx: Context) -> None:
    start, limit, delta = (ctx.input(node, i) for i in range(3))
    if start.dtype not in [np.dtype(t) for t in _RANGE_TYPES]:
        raise Unsupported(f"type {start.dtype} (TFLite RANGE takes float32, int32, int64)")
    scalars = [v if v.shape == () else reshape(ctx, v, []) for v in (start, limit, delta)]
    known = ctx.info(node.output[0])[0] is not None  # else: a length only known at run time
    (out,) = ctx.emit("RANGE", scalars, shapes=None if known else [(1,)])
    if not known:
        mark_dynamic(ctx, out, (-1,))


def _keeps_elements(convert: Converter) -> Converter:
    """Flatten/Squeeze/Unsqueeze of a shape vector: the output holds the input's elements."""

    def wrapped(node: onnx.NodeProto, ctx: Context) -> None:
        convert(node, ctx)
        symbols.forward(ctx, ctx.input(node, 0), node.output[0])

    return wrapped


CONVERTERS = {
    "Reshape": _reshape,
    "Flatten": _keeps_elements(_flatten),
    "Squeeze": _keeps_elements(_squeeze),
    "Unsqueeze": _keeps_elements(_unsqueeze),
    "Transpose": _transpose,
    "Shape": _shape,
    "Size": _size,
    "Expand": _expand,
    "Tile": _tile,
    "ConstantOfShape": _constant_of_shape,
    "Range": _range,
}
