"""Shape and layout ops against LiteRT: reshape, squeeze, expand_dims, transpose, concatenation,
split, split_v, pack, unpack, shape, tile, broadcast_to, fill, zeros_like, range, where.

Slicing, gathering and padding ops are in test_shape_ops_slicing.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgelite.errors import EdgeliteError, UnsupportedOpError
from edgelite.model.ir import Quantization, TensorType
from edgelite.ops._common import Activation
from edgelite.ops.concatenation import ConcatenationOptions
from edgelite.ops.pack import PackOptions
from edgelite.ops.reshape import ReshapeOptions
from edgelite.ops.shape import ShapeOptions
from edgelite.ops.split import SplitOptions
from edgelite.ops.split_v import SplitVOptions
from edgelite.ops.squeeze import SqueezeOptions
from edgelite.ops.unpack import UnpackOptions
from tests.ops.harness import Input, check_op, const, graph_feeds, run_edgelite, single_op_model

FAST = settings(max_examples=20, deadline=None)
DTYPES = [np.float32, np.int32, np.bool_, np.int64, np.int8]
QUANT = Quantization.of(0.5, 3)


def values(rng: np.random.Generator, shape, dtype) -> np.ndarray:
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -100), min(info.max, 100), shape, endpoint=True).astype(dtype)


def operand(rng, shape, dtype):
    """A graph input; int8 data carries quantization (movement ops keep it unchanged)."""
    value = values(rng, shape, dtype)
    return Input(value, QUANT) if value.dtype == np.int8 else value


def quant_kwargs(dtype, num_outputs: int = 1) -> dict:
    return {"output_quant": [QUANT] * num_outputs} if np.dtype(dtype) == np.int8 else {}


def maybe_const(value: np.ndarray, dynamic: bool):
    """A value operand given as a constant, or as a graph input (a dynamic output shape)."""
    return value if dynamic else const(value)


shapes = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple)
seeds = st.integers(0, 2**32 - 1)


def edgelite_rejects(opcode, operands, options=None, **model_kwargs) -> None:
    """A model that must fail to prepare in edgelite with an EdgeliteError."""
    model = single_op_model(opcode, operands, options, **model_kwargs)
    with pytest.raises(EdgeliteError):
        run_edgelite(model.to_bytes(), graph_feeds(operands))


@FAST
@given(shape=shapes, dtype=st.sampled_from(DTYPES), mode=st.sampled_from(["const", "options", "dynamic"]),
       data=st.data(), seed=seeds)
def test_reshape(shape, dtype, mode, data, seed):
    rng = np.random.default_rng(seed)
    target = list(rng.permutation(shape))
    if len(target) > 1 and data.draw(st.booleans()):
        target = [target[0] * target[1], *target[2:]]
    if data.draw(st.booleans()):
        target[data.draw(st.integers(0, len(target) - 1))] = -1
    target = np.array(target, np.int32)
    x = operand(rng, shape, dtype)
    if mode == "options":
        outs = check_op("RESHAPE", [x], ReshapeOptions(tuple(target.tolist())), **quant_kwargs(dtype))
    else:
        outs = check_op("RESHAPE", [x, maybe_const(target, mode == "dynamic")],
                        ReshapeOptions(), **quant_kwargs(dtype))
    assert outs[0].size == int(np.prod(shape))


def test_reshape_legacy_scalar_and_bad_count():
    check_op("RESHAPE", [np.array([2.5], np.float32)], ReshapeOptions((0,)))
    edgelite_rejects("RESHAPE", [np.zeros((2, 3), np.float32), const(np.array([4, -1], np.int32))],
                     output_shapes=[(4, 2)])


@FAST
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=5).map(tuple), dtype=st.sampled_from(DTYPES),
       data=st.data(), seed=seeds)
def test_squeeze(shape, dtype, data, seed):
    ones = [i for i, d in enumerate(shape) if d == 1]
    dims = data.draw(st.lists(st.sampled_from(ones), unique=True) if ones else st.just([]))
    dims = [d - len(shape) if data.draw(st.booleans()) else d for d in dims]
    x = operand(np.random.default_rng(seed), shape, dtype)
    check_op("SQUEEZE", [x], SqueezeOptions(tuple(dims)), **quant_kwargs(dtype))


def test_squeeze_rejects_non_unit_dimension():
    edgelite_rejects("SQUEEZE", [np.zeros((2, 3), np.float32)], SqueezeOptions((0,)), output_shapes=[(3,)])


@FAST
@given(shape=st.lists(st.integers(1, 4), max_size=4).map(tuple), dtype=st.sampled_from(DTYPES),
       data=st.data(), axis_type=st.sampled_from([np.int32, np.int64]), dynamic=st.booleans(), seed=seeds)
def test_expand_dims(shape, dtype, data, axis_type, dynamic, seed):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    x = operand(np.random.default_rng(seed), shape, dtype)
    check_op("EXPAND_DIMS", [x, maybe_const(np.array(axis, axis_type), dynamic)], **quant_kwargs(dtype))


@FAST
@given(shape=shapes, dtype=st.sampled_from(DTYPES), dynamic=st.booleans(), seed=seeds)
def test_transpose(shape, dtype, dynamic, seed):
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(shape)).astype(np.int32)
    check_op("TRANSPOSE", [operand(rng, shape, dtype), maybe_const(perm, dynamic)], **quant_kwargs(dtype))


def test_movement_rejects_requantization():
    x = Input(np.zeros((2, 3), np.int8), QUANT)
    with pytest.raises(UnsupportedOpError, match="quantized differently"):
        run_edgelite(single_op_model("TRANSPOSE", [x, const(np.array([1, 0], np.int32))],
                                     output_quant=[Quantization.of(0.25, 0)]).to_bytes(), [x.value])


def test_transpose_rejects_bad_perm():
    edgelite_rejects("TRANSPOSE", [np.zeros((2, 3), np.float32), const(np.array([0, 0], np.int32))],
                     output_shapes=[(2, 2)])


@FAST
@given(shape=shapes, dtype=st.sampled_from(DTYPES), count=st.integers(1, 4), data=st.data(), seed=seeds)
def test_concatenation(shape, dtype, count, data, seed):
    rng = np.random.default_rng(seed)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    inputs = []
    for _ in range(count):
        piece = list(shape)
        piece[axis] = data.draw(st.integers(1, 3))
        inputs.append(operand(rng, tuple(piece), dtype))
    check_op("CONCATENATION", inputs, ConcatenationOptions(axis), **quant_kwargs(dtype))


@pytest.mark.parametrize("activation", [Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1])
def test_concatenation_fused_activation(activation):
    # LiteRT's kernel rejects fused activations on CONCATENATION; edgelite applies them (float).
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)).astype(np.float32) * 4, rng.standard_normal((2, 2)).astype(np.float32)
    model = single_op_model("CONCATENATION", [a, b], ConcatenationOptions(-1, activation))
    (out,) = run_edgelite(model.to_bytes(), [a, b])
    bounds = {Activation.RELU: (0, np.inf), Activation.RELU6: (0, 6), Activation.RELU_N1_TO_1: (-1, 1)}
    low, high = bounds[activation]
    np.testing.assert_array_equal(out, np.clip(np.concatenate([a, b], axis=1), low, high))


def test_concatenation_rejects_mismatched_shapes():
    edgelite_rejects("CONCATENATION", [np.zeros((2, 3), np.float32), np.zeros((3, 3), np.float32)],
                     ConcatenationOptions(1), output_shapes=[(2, 6)])


@FAST
@given(shape=shapes, dtype=st.sampled_from([np.float32, np.int32, np.int8]), data=st.data(), seed=seeds)
def test_split(shape, dtype, data, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    count = data.draw(st.sampled_from([n for n in range(1, 5) if shape[axis] % n == 0]))
    x = operand(np.random.default_rng(seed), shape, dtype)
    check_op("SPLIT", [const(np.array(axis, np.int32)), x], SplitOptions(count), num_outputs=count,
             output_dtypes=[dtype] * count, **quant_kwargs(dtype, count))


def test_split_rejects_uneven_split():
    edgelite_rejects("SPLIT", [const(np.array(1, np.int32)), np.zeros((2, 3), np.float32)], SplitOptions(2),
                     num_outputs=2, output_shapes=[(2, 1), (2, 2)], output_dtypes=[np.float32] * 2)


@FAST
@given(shape=shapes, dtype=st.sampled_from([np.float32, np.int32, np.int64, np.int8]), data=st.data(),
       seed=seeds)
def test_split_v(shape, dtype, data, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    size = shape[axis]
    cuts = sorted(data.draw(st.lists(st.integers(0, size), max_size=3)))
    sizes = np.diff([0, *cuts, size]).astype(np.int32)
    if data.draw(st.booleans()):
        sizes[data.draw(st.integers(0, len(sizes) - 1))] = -1
    count = len(sizes)
    x = operand(np.random.default_rng(seed), shape, dtype)
    check_op("SPLIT_V", [x, const(sizes), const(np.array(axis, np.int32))], SplitVOptions(count),
             num_outputs=count, output_dtypes=[dtype] * count, **quant_kwargs(dtype, count))


@FAST
@given(shape=st.lists(st.integers(1, 4), max_size=4).map(tuple),
       dtype=st.sampled_from([np.float32, np.int32, np.int64, np.int8]), count=st.integers(1, 4),
       data=st.data(), seed=seeds)
def test_pack(shape, dtype, count, data, seed):
    rng = np.random.default_rng(seed)
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    inputs = [operand(rng, shape, dtype) for _ in range(count)]
    check_op("PACK", inputs, PackOptions(count, axis), **quant_kwargs(dtype))


@FAST
@given(shape=shapes, dtype=st.sampled_from([np.float32, np.int32, np.bool_, np.int8]), data=st.data(),
       seed=seeds)
def test_unpack(shape, dtype, data, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    count = shape[axis]
    x = operand(np.random.default_rng(seed), shape, dtype)
    check_op("UNPACK", [x], UnpackOptions(count, axis), num_outputs=count, output_dtypes=[dtype] * count,
             **quant_kwargs(dtype, count))


@pytest.mark.parametrize("out_type", [TensorType.INT32, TensorType.INT64])
@pytest.mark.parametrize("dtype", [np.float32, np.bool_, np.int8])
def test_shape(out_type, dtype):
    x = values(np.random.default_rng(1), (2, 1, 3), dtype)
    outs = check_op("SHAPE", [x], ShapeOptions(out_type), output_dtypes=[out_type.numpy])
    np.testing.assert_array_equal(outs[0], [2, 1, 3])


@FAST
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=4).map(tuple), dtype=st.sampled_from(DTYPES),
       multiples_type=st.sampled_from([np.int32, np.int64]), dynamic=st.booleans(), seed=seeds)
def test_tile(shape, dtype, multiples_type, dynamic, seed):
    rng = np.random.default_rng(seed)
    multiples = rng.integers(1, 3, len(shape)).astype(multiples_type)
    check_op("TILE", [operand(rng, shape, dtype), maybe_const(multiples, dynamic)], **quant_kwargs(dtype))


@FAST
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=4).map(tuple), dtype=st.sampled_from(DTYPES),
       extra=st.lists(st.integers(1, 3), max_size=2), dynamic=st.booleans(), data=st.data(), seed=seeds)
def test_broadcast_to(shape, dtype, extra, dynamic, data, seed):
    target = [*extra, *(d if d != 1 else data.draw(st.integers(1, 3)) for d in shape)]
    x = operand(np.random.default_rng(seed), shape, dtype)
    # BROADCAST_TO is only registered from version 2 in LiteRT.
    check_op("BROADCAST_TO", [x, maybe_const(np.array(target, np.int32), dynamic)], version=2,
             **quant_kwargs(dtype))


def test_broadcast_to_rejects_incompatible_shape():
    edgelite_rejects("BROADCAST_TO", [np.zeros((2, 3), np.float32), const(np.array([2, 2], np.int32))],
                     version=2, output_shapes=[(2, 2)])


@FAST
@given(dims=st.lists(st.integers(1, 4), min_size=1, max_size=4),
       dtype=st.sampled_from([np.float32, np.int32, np.int64, np.bool_]),
       dims_type=st.sampled_from([np.int32, np.int64]), dynamic=st.booleans(), seed=seeds)
def test_fill(dims, dtype, dims_type, dynamic, seed):
    value = values(np.random.default_rng(seed), (), dtype)
    check_op("FILL", [maybe_const(np.array(dims, dims_type), dynamic), const(value)], output_dtypes=[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64])
def test_zeros_like(dtype):
    check_op("ZEROS_LIKE", [values(np.random.default_rng(2), (2, 3, 1), dtype)])


@FAST
@given(dtype=st.sampled_from([np.int32, np.int64, np.float32]), start=st.integers(-20, 20),
       length=st.integers(1, 30), delta=st.integers(1, 5), descending=st.booleans(), dynamic=st.booleans())
def test_range(dtype, start, length, delta, descending, dynamic):
    scale = 0.37 if dtype == np.float32 else 1  # fractional float deltas: rounding must accumulate alike
    sign = -1 if descending else 1
    start_v, delta_v = np.array(start * scale, dtype), np.array(sign * delta * scale, dtype)
    limit_v = np.array(start * scale + sign * length * scale, dtype)
    operands = [start_v, limit_v, delta_v] if dynamic else [const(start_v), const(limit_v), const(delta_v)]
    check_op("RANGE", operands)


def test_range_rejects_wrong_direction():
    edgelite_rejects("RANGE", [const(np.array(0, np.int32)), const(np.array(5, np.int32)),
                               const(np.array(-1, np.int32))], output_shapes=[(5,)])


@FAST
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple),
       dtype=st.sampled_from([np.bool_, np.float32, np.int32]), dynamic=st.booleans(), seed=seeds)
def test_where(shape, dtype, dynamic, seed):
    rng = np.random.default_rng(seed)
    condition = (rng.random(shape) < 0.4).astype(dtype)
    condition.flat[rng.integers(condition.size)] = 1  # LiteRT's Python API cannot return empty tensors
    check_op("WHERE", [maybe_const(condition, dynamic)], output_dtypes=[np.int64])


def test_where_rejects_scalar_condition():
    edgelite_rejects("WHERE", [np.array(True)], output_shapes=[None], output_dtypes=[np.int64])
