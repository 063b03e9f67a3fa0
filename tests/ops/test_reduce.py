"""Reductions against LiteRT: MEAN, SUM, REDUCE_MAX/MIN/PROD/ANY/ALL with constant or dynamic,
negative and duplicate axes and keep_dims; and the other ops along one axis: ARG_MAX, ARG_MIN,
CUMSUM, TOPK_V2, L2_NORMALIZATION, LOCAL_RESPONSE_NORMALIZATION."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgelite.errors import EdgeliteError
from edgelite.model.ir import Quantization, TensorType
from edgelite.ops._common import Activation
from edgelite.ops._reduce import ReducerOptions
from edgelite.ops.arg_max import ArgMaxOptions
from edgelite.ops.arg_min import ArgMinOptions
from edgelite.ops.cumsum import CumsumOptions
from edgelite.ops.l2_normalization import L2NormOptions
from edgelite.ops.local_response_normalization import LocalResponseNormalizationOptions
from edgelite.ops.topk_v2 import TopKV2Options
from tests.ops.harness import Input, check_op, const, graph_feeds, run_edgelite, single_op_model

FAST = settings(max_examples=25, deadline=None)
EPS32 = float(np.finfo(np.float32).eps)
shapes = st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple)
seeds = st.integers(0, 2**32 - 1)


@st.composite
def axes_for(draw, rank: int) -> np.ndarray:
    """Axes in [-rank, rank), possibly negative, repeated (the same axis twice) or empty."""
    axes = draw(st.lists(st.integers(-rank, rank - 1), min_size=0, max_size=rank + 1))
    return np.array(axes, np.int32)


def axes_operand(axes: np.ndarray, dynamic: bool):
    """Constant axes (static output shape) or a graph input (dynamic output shape)."""
    return axes if dynamic else const(axes)


def reduced_count(shape: tuple, axes: np.ndarray) -> int:
    unique = {int(a) % len(shape) for a in axes}
    return int(np.prod([shape[a] for a in unique], dtype=np.int64))


def float32_sum_atol(x: np.ndarray, axes: np.ndarray, n: int) -> float:
    """LiteRT accumulates float32 sums in float32, one element at a time (SUM matches a running
    float32 sum bit for bit; MEAN along the innermost axis uses another order); edgelite sums
    exactly and rounds once. The difference is LiteRT's rounding error, which for rounding errors
    of random sign stays within ~sqrt(n) * unit roundoff * sum|x| (observed: under a tenth of it),
    so the bound grows with the reduction length."""
    unique = tuple(sorted({int(a) % x.ndim for a in axes}))
    abs_sum = float(np.max(np.sum(np.abs(x), axis=unique, dtype=np.float64)))
    return EPS32 / 2 * np.sqrt(max(n, 1)) * abs_sum + 1e-6


@FAST
@given(op=st.sampled_from(["MEAN", "SUM"]), shape=shapes, keep_dims=st.booleans(),
       dynamic=st.booleans(), data=st.data(), seed=seeds)
def test_mean_sum_float(op, shape, keep_dims, dynamic, data, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 4 + rng.uniform(-2, 2)).astype(np.float32)
    axes = data.draw(axes_for(len(shape)))
    n = reduced_count(shape, axes)
    atol = float32_sum_atol(x, axes, n) / (n if op == "MEAN" and n else 1)
    check_op(op, [x, axes_operand(axes, dynamic)], ReducerOptions(keep_dims), rtol=1e-5, atol=atol)


@FAST
@given(op=st.sampled_from(["REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD"]), shape=shapes,
       keep_dims=st.booleans(), dynamic=st.booleans(), data=st.data(), seed=seeds)
def test_max_min_prod_float(op, shape, keep_dims, dynamic, data, seed):
    rng = np.random.default_rng(seed)
    # Magnitudes near 1 keep long products finite; signs vary.
    x = (rng.uniform(0.7, 1.4, shape) * rng.choice([-1, 1], shape)).astype(np.float32)
    axes = data.draw(axes_for(len(shape)))
    # A product of n float32 factors carries up to ~n rounding errors, in any order.
    rtol = max(1e-5, 2 * EPS32 * reduced_count(shape, axes))
    check_op(op, [x, axes_operand(axes, dynamic)], ReducerOptions(keep_dims), rtol=rtol, atol=1e-6)


@FAST
@given(op=st.sampled_from(["MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD"]),
       dtype=st.sampled_from([np.int32, np.int64]), shape=shapes, keep_dims=st.booleans(),
       dynamic=st.booleans(), data=st.data(), seed=seeds)
def test_integer_reductions(op, dtype, shape, keep_dims, dynamic, data, seed):
    # Exact: integer MEAN truncates toward zero; SUM and PROD wrap around like C.
    rng = np.random.default_rng(seed)
    x = rng.integers(-1000, 1000, shape, endpoint=True).astype(dtype)
    axes = data.draw(axes_for(len(shape)))
    check_op(op, [x, axes_operand(axes, dynamic)], ReducerOptions(keep_dims))


@FAST
@given(op=st.sampled_from(["REDUCE_ANY", "REDUCE_ALL"]), shape=shapes, keep_dims=st.booleans(),
       dynamic=st.booleans(), density=st.sampled_from([0.05, 0.5, 0.95]), data=st.data(), seed=seeds)
def test_any_all(op, shape, keep_dims, dynamic, density, data, seed):
    x = np.random.default_rng(seed).random(shape) < density
    axes = data.draw(axes_for(len(shape)))
    check_op(op, [x, axes_operand(axes, dynamic)], ReducerOptions(keep_dims))


@pytest.mark.parametrize("op", ["REDUCE_MAX", "REDUCE_MIN"])
def test_max_min_quantized_int8(op):
    """MAX/MIN only compare raw values, so int8 with unchanged quantization is exact."""
    quant = Quantization.of(0.25, -3)
    x = np.random.default_rng(0).integers(-128, 127, (2, 3, 4), endpoint=True).astype(np.int8)
    check_op(op, [Input(x, quant), const(np.array([0, -1], np.int32))], ReducerOptions(True),
             output_quant=[quant])


@pytest.mark.parametrize("op", ["MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD"])
def test_empty_reduction(op):
    """Reducing a zero-length axis: MEAN gives NaN, the others their start value (MAX gives the
    lowest finite float, not -inf)."""
    x = np.zeros((0, 3), np.float32)
    check_op(op, [x, const(np.array([0], np.int32))], ReducerOptions(False))


def test_scalar_input():
    check_op("SUM", [np.array(2.5, np.float32), const(np.array([0], np.int32))], ReducerOptions(False))


@pytest.mark.parametrize("axes", [[2], [-3], [0, 5]])
def test_rejects_axis_out_of_range(axes):
    x = np.ones((2, 2), np.float32)
    model = single_op_model("SUM", [x, const(np.array(axes, np.int32))], ReducerOptions(False),
                            output_shapes=[(2,)])
    with pytest.raises(EdgeliteError, match="out of range"):
        run_edgelite(model.to_bytes(), graph_feeds([x]))


def test_rejects_bool_input_to_sum():
    x = np.ones((2, 2), bool)
    model = single_op_model("SUM", [x, const(np.array([0], np.int32))], ReducerOptions(False))
    with pytest.raises(EdgeliteError, match="not supported"):
        run_edgelite(model.to_bytes(), graph_feeds([x]))


# -- ops along one axis: ARG_MAX/ARG_MIN, CUMSUM, TOPK_V2, L2_NORMALIZATION, LRN ----------------


@FAST
@given(op=st.sampled_from(["ARG_MAX", "ARG_MIN"]), shape=shapes,
       dtype=st.sampled_from([np.float32, np.int32, np.int8, np.uint8, np.bool_]),
       output_type=st.sampled_from([TensorType.INT32, TensorType.INT64]),
       axis_type=st.sampled_from([np.int32, np.int64]), dynamic=st.booleans(), data=st.data(),
       seed=seeds)
def test_arg_max_min(op, shape, dtype, output_type, axis_type, dynamic, data, seed):
    # Few distinct values, so ties are common: TFLite and edgelite give the first index.
    x = np.random.default_rng(seed).integers(0, 3, shape).astype(dtype)
    axis = np.array([data.draw(st.integers(-len(shape), len(shape) - 1))], axis_type)
    options = (ArgMaxOptions if op == "ARG_MAX" else ArgMinOptions)(output_type)
    check_op(op, [x, axes_operand(axis, dynamic)], options, output_dtypes=[output_type.numpy])


@FAST
@given(shape=shapes, dtype=st.sampled_from([np.float32, np.int32, np.int64]), exclusive=st.booleans(),
       reverse=st.booleans(), dynamic=st.booleans(), data=st.data(), seed=seeds)
def test_cumsum(shape, dtype, exclusive, reverse, dynamic, data, seed):
    # Exact for float32 too: both add along the axis in order, in float32.
    x = (np.random.default_rng(seed).standard_normal(shape) * 100).astype(dtype)
    axis = np.array(data.draw(st.integers(-len(shape), len(shape) - 1)), np.int32)
    check_op("CUMSUM", [x, axes_operand(axis, dynamic)], CumsumOptions(exclusive, reverse),
             rtol=0, atol=0)


@FAST
@given(shape=shapes, dtype=st.sampled_from([np.float32, np.int32, np.int64, np.uint8]),
       dynamic=st.booleans(), data=st.data(), seed=seeds)
def test_topk_v2(shape, dtype, dynamic, data, seed):
    # Few distinct values: equal values must come out in ascending index order.
    x = np.random.default_rng(seed).integers(0, 4, shape).astype(dtype)
    k = np.array(data.draw(st.integers(1, shape[-1])), np.int32)
    check_op("TOPK_V2", [x, axes_operand(k, dynamic)], TopKV2Options(), num_outputs=2,
             output_dtypes=[dtype, np.int32])


def test_topk_v2_quantized_int8():
    quant = Quantization.of(0.1, 4)
    x = np.random.default_rng(1).integers(-128, 127, (3, 10), endpoint=True).astype(np.int8)
    check_op("TOPK_V2", [Input(x, quant), const(np.array(4, np.int32))], TopKV2Options(),
             num_outputs=2, output_dtypes=[np.int8, np.int32], output_quant=[quant, None])


@FAST
@given(shape=shapes, scale=st.sampled_from([1.0, 1e-3, 1e-7, 0.0]), seed=seeds)
def test_l2_normalization(shape, scale, seed):
    # Tiny inputs exercise the epsilon: the norm is clamped to 1e-6 (not the squared norm).
    x = (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)
    check_op("L2_NORMALIZATION", [x], L2NormOptions())


@FAST
@given(shape=st.lists(st.integers(1, 4), min_size=3, max_size=3).map(lambda s: (*s, 9)),
       radius=st.integers(0, 6), bias=st.sampled_from([1.0, 2.0, 0.5]),
       alpha=st.sampled_from([1e-4, 0.1, 1.0]), beta=st.sampled_from([0.5, 0.75, 1.0]), seed=seeds)
def test_local_response_normalization(shape, radius, bias, alpha, beta, seed):
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    options = LocalResponseNormalizationOptions(radius, bias, alpha, beta)
    check_op("LOCAL_RESPONSE_NORMALIZATION", [x], options)


def test_rejects_l2_normalization_activation():
    x = np.ones((2, 3), np.float32)
    model = single_op_model("L2_NORMALIZATION", [x], L2NormOptions(Activation.RELU))
    with pytest.raises(EdgeliteError, match="fused activation"):
        run_edgelite(model.to_bytes(), graph_feeds([x]))


def test_rejects_arg_max_float_output_type():
    x = np.ones((2, 3), np.float32)
    model = single_op_model("ARG_MAX", [x, const(np.array([1], np.int32))], ArgMaxOptions(),
                            output_dtypes=[np.float32])
    with pytest.raises(EdgeliteError, match="output_type"):
        run_edgelite(model.to_bytes(), graph_feeds([x]))
