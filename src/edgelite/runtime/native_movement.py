"""Lowerers of the float32 data-movement ops: each output is an affine view of the input
(`y[i] = x[offset + sum_d i_d * stride_d]`), so TRANSPOSE, DEPTH_TO_SPACE, SPACE_TO_DEPTH, SLICE and
STRIDED_SLICE all lower to one STRIDED_COPY node (native/ops_movement.c); GATHER with constant
indices copies rows (same file); RESIZE_NEAREST_NEIGHBOR copies whole pixels (native/ops_resize.c).

The view is computed from the reference op's own geometry (its permutation, block reshape or the
slice bounds of edgelite/ops/strided_slice.py), then size-1 dims are dropped and adjacent dims merged
so that up to MAX_RANK dims remain.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from edgelite.ops import gather, strided_slice
from edgelite.ops import slice as slice_op
from edgelite.ops.resize_nearest_neighbor import ResizeNearestNeighborOptions
from edgelite.runtime.native import MAX_RANK, Lowering, Unsupported, _Record


def contiguous_strides(shape: tuple | list) -> list[int]:
    """Element strides of a C-contiguous array of `shape`."""
    strides, step = [], 1
    for dim in reversed(shape):
        strides.append(step)
        step *= int(dim)
    return strides[::-1]


def collapse_view(dims: list[int], strides: list[int]) -> tuple[list[int], list[int]]:
    """Drop size-1 dims, merge dims whose strides chain, pad to MAX_RANK (Unsupported above it)."""
    kept = [(int(d), int(s)) for d, s in zip(dims, strides, strict=True) if d != 1]
    merged: list[list[int]] = []
    for dim, stride in kept:
        if merged and merged[-1][1] == stride * dim:
            merged[-1] = [merged[-1][0] * dim, stride]
        else:
            merged.append([dim, stride])
    if len(merged) > MAX_RANK:
        raise Unsupported(f"the view needs {len(merged)} dims > {MAX_RANK}")
    pad = MAX_RANK - len(merged)
    return [1] * pad + [d for d, _ in merged], [0] * pad + [s for _, s in merged]


def strided_copy(lw: Lowering, node, offset: int, dims: list[int], strides: list[int]) -> _Record:
    out_id = node.op.outputs[0]
    if math.prod(dims) != math.prod(lw.plan.shapes[out_id]):
        raise Unsupported("the view's size differs from the output's")
    dims, strides = collapse_view(dims, strides)
    return lw.node("STRIDED_COPY", [lw.tensor(node.op.inputs[0])], out_id, [offset, *dims, *strides])


def _constant_ints(lw: Lowering, i: int) -> list[int]:
    value = lw.plan.constants.get(i)
    if value is None:
        raise Unsupported(f"operand {i} is not a constant")
    return [int(v) for v in np.asarray(value).reshape(-1)]


def lower_transpose(lw: Lowering, node) -> _Record:
    shape = lw.plan.shapes[node.op.inputs[0]]
    perm = [p + len(shape) if p < 0 else p for p in _constant_ints(lw, node.op.inputs[1])]
    if sorted(perm) != list(range(len(shape))):
        raise Unsupported("perm is not a permutation")
    strides = contiguous_strides(shape)
    return strided_copy(lw, node, 0, [shape[p] for p in perm], [strides[p] for p in perm])


def _blocks(lw: Lowering, node, to_space: bool) -> _Record:
    (n, h, w, c), bs = lw.plan.shapes[node.op.inputs[0]], node.options.block_size
    if bs < 1:
        raise Unsupported("block size below 1")
    view = (n, h, w, bs, bs, c // (bs * bs)) if to_space else (n, h // bs, bs, w // bs, bs, c)
    s = contiguous_strides(view)
    order = (0, 1, 3, 2, 4, 5)
    return strided_copy(lw, node, 0, [view[i] for i in order], [s[i] for i in order])


def lower_depth_to_space(lw: Lowering, node) -> _Record:
    return _blocks(lw, node, to_space=True)


def lower_space_to_depth(lw: Lowering, node) -> _Record:
    return _blocks(lw, node, to_space=False)


def _require_constants(lw: Lowering, node, operands: range) -> None:
    """The reference helpers read operand values: at lowering time only constants have them."""
    for i in operands:
        if node.op.inputs[i] not in lw.plan.constants:
            raise Unsupported(f"operand {i} of {node.op.name} is computed at run time")


def lower_slice(lw: Lowering, node) -> _Record:
    shape = lw.plan.shapes[node.op.inputs[0]]
    _require_constants(lw, node, range(1, 3))
    extents = slice_op._extents(node)
    if extents is None:
        raise Unsupported("begin or size is not a constant")
    strides = contiguous_strides(shape)
    offset = sum(begin * stride for (begin, _), stride in zip(extents, strides, strict=True))
    return strided_copy(lw, node, offset, [size for _, size in extents], strides)


def lower_strided_slice(lw: Lowering, node) -> _Record:
    _require_constants(lw, node, range(1, 4))
    axes = strided_slice._axes(node)
    if axes is None:
        raise Unsupported("begin, end or strides is not a constant")
    offset_option = strided_slice.options_of(node, strided_slice.StridedSliceOptions).offset
    sizes = contiguous_strides([axis.size for axis in axes])
    offset, dims, strides = 0, [], []
    for axis, size_stride in zip(axes, sizes, strict=True):
        start, stop = strided_slice._bounds(axis, offset_option)
        count = strided_slice._count(start, stop, axis.stride)
        if count == 0:
            raise Unsupported("empty slice")
        offset += start * size_stride
        dims.append(count)
        strides.append(axis.stride * size_stride)
    return strided_copy(lw, node, offset, dims, strides)


def lower_gather(lw: Lowering, node) -> _Record:
    """Constant indices only, passed as exact float32 (the C side checks each lies in the axis)."""
    params_id, indices_id = node.op.inputs[0], node.op.inputs[1]
    indices = lw.plan.constants.get(indices_id)
    if indices is None:
        raise Unsupported("indices computed at run time")
    axis, batch_dims = gather._axes(node)
    params = lw.plan.shapes[params_id]
    size = params[axis]
    flat = np.asarray(indices).reshape(-1).astype(np.int64)
    if size > 2**24 or flat.size == 0 or flat.min() < 0 or flat.max() >= size:
        raise Unsupported("indices out of range (the reference reports it) or an axis above 2**24")
    batches, outer = math.prod(params[:batch_dims]), math.prod(params[batch_dims:axis])
    inner, per_batch = math.prod(params[axis + 1:]), flat.size // max(batches, 1)
    table = lw.extra(flat.astype(np.float32))
    return lw.node("GATHER", [lw.tensor(params_id), table], node.op.outputs[0],
                   [batches, outer, size, inner, per_batch])


def lower_resize_nearest(lw: Lowering, node) -> _Record:
    opt = node.options or ResizeNearestNeighborOptions()
    if len(lw.plan.shapes[node.op.inputs[0]]) != 4:
        raise Unsupported("RESIZE_NEAREST_NEIGHBOR needs an NHWC input")
    return lw.node("RESIZE_NEAREST", [lw.tensor(node.op.inputs[0])], node.op.outputs[0],
                   [int(bool(opt.align_corners)), int(bool(opt.half_pixel_centers))])


LOWERERS: dict[str, Callable[[Lowering, object], _Record]] = {
    "TRANSPOSE": lower_transpose, "DEPTH_TO_SPACE": lower_depth_to_space,
    "SPACE_TO_DEPTH": lower_space_to_depth, "SLICE": lower_slice, "STRIDED_SLICE": lower_strided_slice,
    "RESIZE_NEAREST_NEIGHBOR": lower_resize_nearest, "GATHER": lower_gather,
}
