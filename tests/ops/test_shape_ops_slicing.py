"""Slicing, gathering and padding ops against LiteRT: slice, strided_slice, gather, gather_nd,
pad, padv2, mirror_pad, reverse_v2, space_to_batch_nd, batch_to_space_nd."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from edgelite.errors import EdgeliteError
from edgelite.ops.gather import GatherOptions
from edgelite.ops.mirror_pad import MirrorPadMode, MirrorPadOptions
from edgelite.ops.strided_slice import StridedSliceOptions
from tests.ops.harness import check_op, const, run_edgelite, single_op_model
from tests.ops.test_shape_ops import (
    DTYPES,
    FAST,
    QUANT,
    edgelite_rejects,
    maybe_const,
    operand,
    quant_kwargs,
    seeds,
    shapes,
    values,
)

INDEX_TYPES = st.sampled_from([np.int32, np.int64])


def output_shape(opcode, operands, options=None, **model_kwargs) -> tuple:
    """The output shape edgelite infers for a one-op model (to skip empty outputs, which
    LiteRT's Python API cannot return)."""
    model = single_op_model(opcode, operands, options, **model_kwargs)
    graph = model.subgraphs[0]
    return graph.tensors[graph.outputs[0]].shape


@FAST
@given(shape=shapes, dtype=st.sampled_from(DTYPES), index_type=INDEX_TYPES, dynamic=st.booleans(),
       data=st.data(), seed=seeds)
def test_slice(shape, dtype, index_type, dynamic, data, seed):
    begin = [data.draw(st.integers(0, d - 1)) for d in shape]
    size = [data.draw(st.sampled_from([-1, *range(1, d - b + 1)])) for d, b in zip(shape, begin, strict=True)]
    x = operand(np.random.default_rng(seed), shape, dtype)
    check_op("SLICE", [x, maybe_const(np.array(begin, index_type), dynamic),
                       maybe_const(np.array(size, index_type), dynamic)], **quant_kwargs(dtype))


def test_slice_rejects_out_of_range_size():
    edgelite_rejects("SLICE", [np.zeros((2, 3), np.float32), const(np.array([1, 0], np.int32)),
                               const(np.array([2, 3], np.int32))], output_shapes=[(2, 3)])


def masks(data, count: int) -> int:
    return sum(1 << i for i in range(count) if data.draw(st.booleans()))


@FAST
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple), dtype=st.sampled_from(DTYPES),
       data=st.data(), seed=seeds)
def test_strided_slice(shape, dtype, data, seed):
    count = data.draw(st.integers(1, len(shape)))
    begin, end, strides, shrink = [], [], [], 0
    for i in range(count):
        d = shape[i]
        if data.draw(st.integers(0, 3)) == 0:  # shrink: one valid (possibly negative) index, stride 1
            shrink |= 1 << i
            begin.append(data.draw(st.integers(-d, d - 1)))
            end.append(begin[-1] + 1)
            strides.append(1)
            continue
        begin.append(data.draw(st.integers(-d - 2, d + 2)))
        end.append(data.draw(st.integers(-d - 2, d + 2)))
        strides.append(data.draw(st.sampled_from([-3, -2, -1, 1, 2, 3])))
    options = StridedSliceOptions(begin_mask=masks(data, count), end_mask=masks(data, count),
                                  shrink_axis_mask=shrink)
    rng = np.random.default_rng(seed)
    spec = [const(np.array(v, np.int32)) for v in (begin, end, strides)]
    assume(0 not in output_shape("STRIDED_SLICE", [values(rng, shape, dtype), *spec], options))
    check_op("STRIDED_SLICE", [operand(rng, shape, dtype), *spec], options, **quant_kwargs(dtype))


@FAST
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), data=st.data(), seed=seeds)
def test_strided_slice_ellipsis_and_new_axis(shape, data, seed):
    count = data.draw(st.integers(1, len(shape) + 1))
    ellipsis = 1 << data.draw(st.integers(0, count - 1)) if data.draw(st.booleans()) else 0
    new_axis = masks(data, count) & ~ellipsis
    if not ellipsis and not new_axis:
        new_axis = 1
    begin = [data.draw(st.integers(-1, 1)) for _ in range(count)]
    end = [data.draw(st.integers(-1, 4)) for _ in range(count)]
    strides = [data.draw(st.sampled_from([-1, 1, 2])) for _ in range(count)]
    options = StridedSliceOptions(begin_mask=masks(data, count), end_mask=masks(data, count),
                                  ellipsis_mask=ellipsis, new_axis_mask=new_axis)
    spec = [const(np.array(v, np.int32)) for v in (begin, end, strides)]
    x = values(np.random.default_rng(seed), shape, np.float32)
    out = output_shape("STRIDED_SLICE", [x, *spec], options)
    assume(0 not in out and len(out) <= 5 and len(shape) + bin(new_axis).count("1") <= 5)
    check_op("STRIDED_SLICE", [x, *spec], options)


@FAST
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple), dtype=st.sampled_from(DTYPES),
       dynamic_begin=st.booleans(), data=st.data(), seed=seeds)
def test_strided_slice_offset(shape, dtype, dynamic_begin, data, seed):
    # offset=True: `end` holds the extent from begin. begin + extent stays inside the input
    # (LiteRT sizes the output by extent / stride alone).
    begin = [data.draw(st.integers(-d, d - 1)) for d in shape]
    extent = [data.draw(st.integers(1, d - (b % d))) for d, b in zip(shape, begin, strict=True)]
    strides = [data.draw(st.integers(1, 3)) for _ in shape]
    x = operand(np.random.default_rng(seed), shape, dtype)
    check_op("STRIDED_SLICE", [x, maybe_const(np.array(begin, np.int32), dynamic_begin),
                               const(np.array(extent, np.int32)), const(np.array(strides, np.int32))],
             StridedSliceOptions(offset=True), **quant_kwargs(dtype))


def test_strided_slice_dynamic_spec():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    check_op("STRIDED_SLICE", [x, np.array([1, -1, 3], np.int32), np.array([2, 0, 0], np.int32),
                               np.array([1, -1, -2], np.int32)], StridedSliceOptions(shrink_axis_mask=1))


def test_strided_slice_rejects_zero_stride():
    edgelite_rejects("STRIDED_SLICE", [np.zeros((4,), np.float32), const(np.array([0], np.int32)),
                                       const(np.array([4], np.int32)), const(np.array([0], np.int32))],
                     StridedSliceOptions(), output_shapes=[(4,)])


@FAST
@given(shape=shapes, dtype=st.sampled_from(DTYPES), index_type=INDEX_TYPES, dynamic=st.booleans(),
       data=st.data(), seed=seeds)
def test_gather(shape, dtype, index_type, dynamic, data, seed):
    rank = len(shape)
    axis = data.draw(st.integers(0, rank - 1))
    batch_dims = data.draw(st.integers(0, axis))
    extra = data.draw(st.lists(st.integers(1, 3), max_size=2))
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, shape[axis], (*shape[:batch_dims], *extra)).astype(index_type)
    options = GatherOptions(axis - rank if data.draw(st.booleans()) else axis,
                            batch_dims - len(indices.shape) if batch_dims and data.draw(st.booleans())
                            else batch_dims)
    check_op("GATHER", [operand(rng, shape, dtype), maybe_const(indices, dynamic)], options,
             **quant_kwargs(dtype))


@pytest.mark.parametrize("opcode, indices", [("GATHER", [0, 3]), ("GATHER", [-1]),
                                             ("GATHER_ND", [[0, 3]]), ("GATHER_ND", [[-1, 0]])])
def test_gather_rejects_out_of_range_indices(opcode, indices):
    params = np.zeros((2, 3), np.float32)
    indices = np.array(indices, np.int32)
    model = single_op_model(opcode, [params, indices])
    with pytest.raises(EdgeliteError, match=rf"{opcode} \(node 0\).*out of range") as error:
        run_edgelite(model.to_bytes(), [params, indices])
    assert isinstance(error.value, ValueError)


@FAST
@given(shape=shapes, dtype=st.sampled_from(DTYPES), index_type=INDEX_TYPES, dynamic=st.booleans(),
       data=st.data(), seed=seeds)
def test_gather_nd(shape, dtype, index_type, dynamic, data, seed):
    depth = data.draw(st.integers(1, len(shape)))
    outer = data.draw(st.lists(st.integers(1, 3), max_size=2))
    rng = np.random.default_rng(seed)
    indices = np.stack([rng.integers(0, d, outer) for d in shape[:depth]], axis=-1).astype(index_type)
    check_op("GATHER_ND", [operand(rng, shape, dtype), maybe_const(indices, dynamic)], **quant_kwargs(dtype))


def pads(data, shape, limit=2) -> np.ndarray:
    return np.array([[data.draw(st.integers(0, limit)) for _ in range(2)] for _ in shape])


@FAST
@given(shape=shapes, dtype=st.sampled_from([np.float32, np.int32, np.int64, np.int8]),
       index_type=INDEX_TYPES, dynamic=st.booleans(), data=st.data(), seed=seeds)
def test_pad(shape, dtype, index_type, dynamic, data, seed):
    # int8: LiteRT pads with the output zero point (3), i.e. a real 0.
    x = operand(np.random.default_rng(seed), shape, dtype)
    check_op("PAD", [x, maybe_const(pads(data, shape).astype(index_type), dynamic)], **quant_kwargs(dtype))


@FAST
@given(shape=shapes, dtype=st.sampled_from([np.float32, np.int32, np.int64, np.int8]),
       dynamic=st.booleans(), data=st.data(), seed=seeds)
def test_padv2(shape, dtype, dynamic, data, seed):
    rng = np.random.default_rng(seed)
    fill = values(rng, (), dtype)
    fill_operand = const(fill, QUANT) if np.dtype(dtype) == np.int8 else const(fill)
    check_op("PADV2", [operand(rng, shape, dtype), maybe_const(pads(data, shape).astype(np.int32), dynamic),
                       fill_operand], **quant_kwargs(dtype))


def test_pad_rejects_negative_padding():
    edgelite_rejects("PAD", [np.zeros((2, 3), np.float32), const(np.array([[0, -1], [0, 0]], np.int32))],
                     output_shapes=[(1, 3)])


@FAST
@given(shape=shapes, dtype=st.sampled_from([np.float32, np.int32, np.int64, np.int8]),
       mode=st.sampled_from(list(MirrorPadMode)), dynamic=st.booleans(), data=st.data(), seed=seeds)
def test_mirror_pad(shape, dtype, mode, dynamic, data, seed):
    most = [d - 1 if mode == MirrorPadMode.REFLECT else d for d in shape]
    paddings = np.array([[data.draw(st.integers(0, m)) for _ in range(2)] for m in most], np.int32)
    x = operand(np.random.default_rng(seed), shape, dtype)
    check_op("MIRROR_PAD", [x, maybe_const(paddings, dynamic)], MirrorPadOptions(mode), **quant_kwargs(dtype))


def test_mirror_pad_rejects_too_much_padding():
    paddings = const(np.array([[2, 0], [0, 0]], np.int32))
    edgelite_rejects("MIRROR_PAD", [np.zeros((2, 3), np.float32), paddings],
                     MirrorPadOptions(MirrorPadMode.REFLECT), output_shapes=[(4, 3)])


@FAST
@given(shape=shapes, dtype=st.sampled_from(DTYPES), data=st.data(), seed=seeds)
def test_reverse_v2(shape, dtype, data, seed):
    # LiteRT reverses several axes only when they are contiguous.
    first = data.draw(st.integers(0, len(shape) - 1))
    last = data.draw(st.integers(first, min(first + 1, len(shape) - 1)))
    axes = [a - len(shape) if data.draw(st.booleans()) else a for a in range(first, last + 1)]
    x = operand(np.random.default_rng(seed), shape, dtype)
    check_op("REVERSE_V2", [x, const(np.array(axes, np.int32))], **quant_kwargs(dtype))


def block_case(data, rank: int):
    spatial = rank - 2
    block = [data.draw(st.integers(1, 3)) for _ in range(spatial)]
    return np.array(block, np.int32)


@FAST
@given(rank=st.sampled_from([3, 4]), dtype=st.sampled_from([np.float32, np.int64, np.int8]),
       dynamic=st.booleans(), data=st.data(), seed=seeds)
def test_space_to_batch_nd(rank, dtype, dynamic, data, seed):
    block = block_case(data, rank)
    shape = [data.draw(st.integers(1, 2))] + [data.draw(st.integers(1, 5)) for _ in block]
    shape.append(data.draw(st.integers(1, 3)))
    paddings = []
    for size, b in zip(shape[1:-1], block, strict=True):
        before = data.draw(st.integers(0, 2))
        paddings.append([before, (-(size + before)) % b + b * data.draw(st.integers(0, 1))])
    x = operand(np.random.default_rng(seed), tuple(shape), dtype)
    check_op("SPACE_TO_BATCH_ND", [x, maybe_const(block, dynamic), maybe_const(np.array(paddings, np.int32),
                                                                                dynamic)],
             **quant_kwargs(dtype))


@FAST
@given(rank=st.sampled_from([3, 4]), dtype=st.sampled_from([np.float32, np.int64, np.int8]),
       dynamic=st.booleans(), data=st.data(), seed=seeds)
def test_batch_to_space_nd(rank, dtype, dynamic, data, seed):
    block = block_case(data, rank)
    spatial = [data.draw(st.integers(1, 3)) for _ in block]
    shape = (data.draw(st.integers(1, 2)) * int(np.prod(block)), *spatial, data.draw(st.integers(1, 3)))
    crops = []
    for size, b in zip(spatial, block, strict=True):
        before = data.draw(st.integers(0, size * b - 1))
        crops.append([before, data.draw(st.integers(0, size * b - 1 - before))])
    x = operand(np.random.default_rng(seed), shape, dtype)
    check_op("BATCH_TO_SPACE_ND", [x, maybe_const(block, dynamic), maybe_const(np.array(crops, np.int32),
                                                                                dynamic)],
             **quant_kwargs(dtype))


def test_space_to_batch_rejects_indivisible_padding():
    block, paddings = const(np.array([2, 2], np.int32)), const(np.zeros((2, 2), np.int32))
    edgelite_rejects("SPACE_TO_BATCH_ND", [np.zeros((1, 3, 4, 1), np.float32), block, paddings],
                     output_shapes=[(4, 1, 2, 1)])
