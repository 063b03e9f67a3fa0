"""STRIDED_SLICE: numpy-style begin:end:stride slicing with TFLite's masks and `offset` option.

The spec (begin/end/strides, one entry per spec position) is first expanded against the input
rank as TFLite does: the ellipsis covers the unspecified dimensions, new_axis positions become
size-1 input dimensions, and trailing unspecified dimensions are taken whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from edgelite.ops._shape import (
    MOVEMENT,
    check_index_type,
    check_movement,
    input_error,
    int_values,
    model_error,
    options_of,
)
from edgelite.ops.base import Node, OpDef


@dataclass
class StridedSliceOptions:
    table: ClassVar[str] = "StridedSliceOptions"
    begin_mask: int = 0
    end_mask: int = 0
    ellipsis_mask: int = 0
    new_axis_mask: int = 0
    shrink_axis_mask: int = 0
    offset: bool = False


@dataclass
class _Axis:
    size: int
    begin: int = 0
    end: int = 0
    stride: int = 1
    begin_mask: bool = True
    end_mask: bool = True
    shrink: bool = False


def _expand(o: StridedSliceOptions, dims: tuple, begin: list, end: list, strides: list) -> list:
    """The per-dimension slices of the input once ellipsis and new axes are expanded."""
    count = len(strides)
    bit = lambda mask, i: bool(mask >> i & 1)  # noqa: E731
    added = sum(1 for i in range(count) if bit(o.new_axis_mask, i) and not bit(o.ellipsis_mask, i))
    rank = len(dims) + added
    ellipsis, new_axes, ellipsis_start, expanded = set(), set(), rank, 0
    i = 0
    while i < rank:
        if bit(o.ellipsis_mask, i):
            ellipsis_start, stop = i, max(i + 1, min(i + 1 + added + len(dims) - count, rank))
            expanded = stop - i - 1
            ellipsis.update(range(i, stop))
            i = stop
            continue
        if bit(o.new_axis_mask, i - expanded):
            new_axes.add(i)
        i += 1
    axes, skipped, inserted = [], 0, 0
    for i in range(rank):
        if i in ellipsis:
            skipped = max(0, i - ellipsis_start)
            axes.append(_Axis(dims[i - inserted]))
        elif i in new_axes:
            axes.append(_Axis(1, 0, 1, 1, False, False))
            inserted += 1
        elif i >= count + expanded:
            axes.append(_Axis(dims[i - inserted]))
        else:
            j = i - skipped
            axes.append(_Axis(dims[i - inserted], begin[j], end[j], strides[j], bit(o.begin_mask, j),
                              bit(o.end_mask, j), bit(o.shrink_axis_mask, j)))
    return axes


def _bounds(axis: _Axis, offset: bool) -> tuple[int, int]:
    """(start, stop) of one axis, clamped as TFLite's StridedSliceStart/EndForAxis do."""
    size, step = axis.size, axis.stride
    low, high = (0, size) if step > 0 else (-1, size - 1)
    start = axis.begin + size if axis.begin < 0 else axis.begin
    start = min(max(start, low), high)
    if axis.begin_mask:
        start = 0 if step > 0 else size - 1
    if axis.shrink:
        return start, start if start >= size else start + 1
    stop = axis.end + start if offset else axis.end
    stop = min(max(stop + size if stop < 0 else stop, low), high)
    if axis.end_mask:
        stop = size if step > 0 else -1
    return start, stop


def _count(start: int, stop: int, step: int) -> int:
    return max(0, math.ceil((stop - start) / step))


def _axes(node: Node, for_shape: bool = False) -> list | None:
    begin, end, strides = int_values(node, 1), int_values(node, 2), int_values(node, 3)
    if for_shape and begin is None and end is not None and options_of(node, StridedSliceOptions).offset:
        begin = [0] * len(end)  # with `offset`, the output shape does not depend on begin
    if begin is None or end is None or strides is None:
        return None
    if not len(begin) == len(end) == len(strides):
        raise model_error(node, f"begin {begin}, end {end} and strides {strides} differ in length")
    if 0 in strides:
        raise model_error(node, f"strides {strides} contain a zero")
    return _expand(options_of(node, StridedSliceOptions), tuple(node.input_shapes[0]), begin, end,
                   strides)


def shape(node: Node) -> list:
    axes, offset = _axes(node, for_shape=True), options_of(node, StridedSliceOptions).offset
    if axes is None:
        return [None]
    out = []
    for axis in axes:
        if axis.shrink:
            continue
        if offset and not (axis.begin_mask or axis.end_mask):  # TFLite: the extent is `end`
            out.append(max(0, math.ceil(axis.end / axis.stride)))
        else:
            out.append(_count(*_bounds(axis, offset), axis.stride))
    return [tuple(out)]


def check(node: Node) -> None:
    for i in (1, 2, 3):
        check_index_type(node, i)
    check_movement(node)


def run(node: Node) -> None:
    axes, out = _axes(node), node.outputs[0]
    offset = options_of(node, StridedSliceOptions).offset
    index = []
    for axis in axes:
        start, stop = _bounds(axis, offset)
        count = _count(start, stop, axis.stride)
        last = start + count * axis.stride
        index.append(slice(start, None if last < 0 else last, axis.stride) if count else slice(0, 0))
    result = node.inputs[0].reshape([a.size for a in axes])[tuple(index)]
    if result.size != out.size:
        raise input_error(node, f"the slice has {result.size} elements but the output shape "
                          f"{out.shape} (from begin + end with offset) needs {out.size}")
    out[...] = result.reshape(out.shape)


OP = OpDef("STRIDED_SLICE", run, shape=shape, check=check, types=MOVEMENT,
           options=StridedSliceOptions)
