"""Quantized (int8/uint8/int16) pooling, reductions, resize and normalization against LiteRT,
bit for bit: MAX/AVERAGE_POOL_2D, MEAN, SUM, REDUCE_PROD, REDUCE_MAX/MIN, RESIZE_BILINEAR,
L2_NORMALIZATION, ARG_MAX/ARG_MIN. Data-movement ops are in test_quant_movement.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from edgelite.errors import EdgeliteError
from edgelite.model.ir import Quantization, TensorType
from edgelite.ops._common import Activation, Padding
from edgelite.ops._pool import Pool2DOptions
from edgelite.ops._reduce import ReducerOptions
from edgelite.ops.arg_max import ArgMaxOptions
from edgelite.ops.arg_min import ArgMinOptions
from edgelite.ops.l2_normalization import L2NormOptions
from edgelite.ops.resize_bilinear import ResizeBilinearOptions
from tests.ops.harness import Input, check_op, const, graph_feeds, run_edgelite, run_litert, single_op_model

FAST = settings(max_examples=30, deadline=None)
EXACT = {"rtol": 0, "atol": 0}
DTYPES = [np.int8, np.uint8, np.int16]
seeds = st.integers(0, 2**32 - 1)
scales = st.floats(1e-3, 1.0)


@st.composite
def quantizations(draw, dtype) -> Quantization:
    """A per-tensor quantization for dtype: any zero point in range, int16 symmetric."""
    info = np.iinfo(dtype)
    zero_point = 0 if dtype == np.int16 else draw(st.integers(int(info.min), int(info.max)))
    return Quantization.of(draw(scales), zero_point)


def integers(seed: int, shape: tuple, dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.random.default_rng(seed).integers(info.min, info.max, shape, endpoint=True, dtype=dtype)


def version(dtype, int8: int, int16: int, other: int = 1) -> int:
    """The op version TFLite's converter writes for this input type (op_version.cc)."""
    return {np.int8: int8, np.int16: int16}.get(dtype, other)


def rejects(opcode, operands, options, match, **model_kwargs) -> None:
    model = single_op_model(opcode, operands, options, **model_kwargs)
    with pytest.raises(EdgeliteError, match=match):
        run_edgelite(model.to_bytes(), graph_feeds(operands))


def litert_rejects(opcode, operands, options, **model_kwargs) -> None:
    model = single_op_model(opcode, operands, options, **model_kwargs)
    with pytest.raises((RuntimeError, ValueError)):
        run_litert(model.to_bytes(), graph_feeds(operands))


# -- pooling -------------------------------------------------------------------------------------


@FAST
@given(op=st.sampled_from(["MAX_POOL_2D", "AVERAGE_POOL_2D"]), dtype=st.sampled_from(DTYPES),
       batch=st.integers(1, 2), height=st.integers(1, 9), width=st.integers(1, 9),
       channels=st.sampled_from([1, 3, 17]), filter_h=st.integers(1, 4), filter_w=st.integers(1, 4),
       stride_h=st.integers(1, 3), stride_w=st.integers(1, 3), padding=st.sampled_from(list(Padding)),
       activation=st.sampled_from([Activation.NONE, Activation.RELU, Activation.RELU6,
                                   Activation.RELU_N1_TO_1]), data=st.data(), seed=seeds)
def test_pool_quantized(op, dtype, batch, height, width, channels, filter_h, filter_w, stride_h,
                        stride_w, padding, activation, data, seed):
    # The average is (sum +- count/2) / count over the covered (not padded) elements; the fused
    # activation clamps in the output's quantized domain.
    assume(padding == Padding.SAME or (filter_h <= height and filter_w <= width))
    quant = data.draw(quantizations(dtype))
    x = integers(seed, (batch, height, width, channels), dtype)
    options = Pool2DOptions(padding, stride_w, stride_h, filter_w, filter_h, activation)
    check_op(op, [Input(x, quant)], options, output_quant=[quant], version=version(dtype, 2, 3),
             **EXACT)


@pytest.mark.parametrize("op", ["MAX_POOL_2D", "AVERAGE_POOL_2D"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_pool_large_filter_and_other_output_quantization(op, dtype):
    """Filters over 16x16 take LiteRT's reference path; a differently quantized output is not
    requantized (TFLite only debug-checks it): the integers are the input's, clamped with the
    output's activation range."""
    x = integers(7, (1, 20, 19, 3), dtype)
    quant_in = Quantization.of(0.02, 0 if dtype == np.int16 else 3)
    quant_out = Quantization.of(0.05, {np.int8: -2, np.uint8: 7, np.int16: 0}[dtype])
    check_op(op, [Input(x, quant_in)], Pool2DOptions(Padding.SAME, 1, 2, 18, 17, Activation.RELU6),
             output_quant=[quant_out], version=3, **EXACT)


def test_quantized_pool_rejects_tanh_activation():
    """TFLite has no quantized clamp for TANH (its int8 pool would clamp to garbage)."""
    quant = Quantization.of(0.1, 0)
    rejects("MAX_POOL_2D", [Input(np.zeros((1, 2, 2, 1), np.int8), quant)],
            Pool2DOptions(Padding.VALID, 1, 1, 2, 2, Activation.TANH), "TANH", output_quant=[quant])


def test_l2_pool_rejects_int8():
    x = Input(np.zeros((1, 2, 2, 1), np.int8), Quantization.of(0.1, 0))
    rejects("L2_POOL_2D", [x], Pool2DOptions(Padding.VALID, 1, 1, 2, 2), "INT8",
            output_quant=[Quantization.of(0.1, 0)])


# -- MEAN / SUM ------------------------------------------------------------------------------------


@st.composite
def reductions(draw):
    """(shape, axes): ranks 0-4, axes possibly negative, repeated or empty; half of the draws
    are 4-D over H and W (LiteRT's dedicated int8/uint8 MEAN kernel when keep_dims)."""
    if draw(st.booleans()):
        channels = draw(st.sampled_from([1, 5, 16, 17, 33]))
        shape = (draw(st.integers(1, 2)), draw(st.integers(1, 5)), draw(st.integers(1, 5)), channels)
        return shape, draw(st.sampled_from([[1, 2], [2, 1], [-3, 2], [1, 2, 1]]))
    rank = draw(st.integers(0, 4))
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=rank, max_size=rank)))
    bound = max(rank, 1)
    return shape, draw(st.lists(st.integers(-bound, bound - 1), min_size=0, max_size=rank + 1))


@FAST
@given(op=st.sampled_from(["MEAN", "SUM"]), dtype=st.sampled_from(DTYPES), case=reductions(),
       keep_dims=st.booleans(), dynamic=st.booleans(), data=st.data(), seed=seeds)
def test_mean_and_sum_quantized(op, dtype, case, keep_dims, dynamic, data, seed):
    # MEAN: integer requantization with 1/count folded into the multiplier, or (4-D int8/uint8
    # over H, W with keep_dims) LiteRT's float-derived multiplier and bias. SUM: LiteRT rescales
    # the int32 sum in float32.
    shape, axes = case
    quant_in, quant_out = data.draw(quantizations(dtype)), data.draw(quantizations(dtype))
    x = integers(seed, shape, dtype)
    axes = np.array(axes, np.int32)
    check_op(op, [Input(x, quant_in), axes if dynamic else const(axes)], ReducerOptions(keep_dims),
             output_quant=[quant_out], version=version(dtype, 2, 3 if op == "MEAN" else 1), **EXACT)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
@pytest.mark.parametrize("channels", [16, 23, 48])
def test_mean_height_width_rounding_ties(dtype, channels):
    """Scales making in_scale / (count * out_scale) a power of two put many results exactly on
    .5: LiteRT's vector path (the first channels in blocks of 16) rounds those half up, its
    scalar tail half away from zero, and edgelite follows both."""
    rng = np.random.default_rng(channels)
    for height, width, factor in [(2, 2, 1.0), (3, 2, 0.5), (4, 4, 2.0)]:
        x = integers(int(rng.integers(1 << 30)), (2, height, width, channels), dtype)
        in_scale = 0.125
        out_scale = in_scale / (height * width) / factor
        zero_point = 5 if dtype == np.int8 else 130
        check_op("MEAN", [Input(x, Quantization.of(in_scale, zero_point)), const(np.array([1, 2], np.int32))],
                 ReducerOptions(True), output_quant=[Quantization.of(out_scale, -zero_point // 3)],
                 version=2, **EXACT)


@FAST
@given(dtype=st.sampled_from([np.int8, np.int16]), case=reductions(), keep_dims=st.booleans(),
       near_zero_point=st.booleans(), data=st.data(), seed=seeds)
def test_reduce_prod_quantized(dtype, case, keep_dims, near_zero_point, data, seed):
    # Every step rescales by in_scale / out_scale**(1/count) (LiteRT's 16-bit-multiplier int64
    # rescale); products that overflow saturate at the end. Reducing only size-1 dimensions
    # copies the raw input, as LiteRT does.
    shape, axes = case
    quant_in, quant_out = data.draw(quantizations(dtype)), data.draw(quantizations(dtype))
    x = integers(seed, shape, dtype)
    if near_zero_point:  # small factors keep the product in range
        info = np.iinfo(dtype)
        x = np.clip(int(quant_in.zero_point[0]) + x % 7 - 3, info.min, info.max).astype(dtype)
    check_op("REDUCE_PROD", [Input(x, quant_in), const(np.array(axes, np.int32))],
             ReducerOptions(keep_dims), output_quant=[quant_out], version=2, **EXACT)


def test_reduce_prod_rejects_uint8_like_litert():
    operands = [Input(np.ones((2, 3), np.uint8), Quantization.of(0.1, 2)), const(np.array([1], np.int32))]
    kwargs = {"output_quant": [Quantization.of(0.1, 2)], "version": 2}
    litert_rejects("REDUCE_PROD", operands, ReducerOptions(False), **kwargs)
    rejects("REDUCE_PROD", operands, ReducerOptions(False), "UINT8", **kwargs)


def test_mean_int16_rejects_zero_point():
    x = Input(np.zeros((2, 3), np.int16), Quantization.of(0.1, 0))
    rejects("MEAN", [x, const(np.array([1], np.int32))], ReducerOptions(False), "zero point",
            output_quant=[Quantization.of(0.1, 4)], version=3)


def test_mean_int8_needs_quantization():
    x = np.zeros((2, 3), np.int8)
    rejects("MEAN", [x, const(np.array([1], np.int32))], ReducerOptions(False), "quantization",
            version=2)


# -- REDUCE_MAX / REDUCE_MIN / ARG_MAX / ARG_MIN ----------------------------------------------------


@FAST
@given(op=st.sampled_from(["REDUCE_MAX", "REDUCE_MIN"]), dtype=st.sampled_from(DTYPES),
       case=reductions(), keep_dims=st.booleans(), data=st.data(), seed=seeds)
def test_reduce_max_min_quantized(op, dtype, case, keep_dims, data, seed):
    shape, axes = case
    quant = data.draw(quantizations(dtype))
    x = integers(seed, shape, dtype)
    check_op(op, [Input(x, quant), const(np.array(axes, np.int32))], ReducerOptions(keep_dims),
             output_quant=[quant], version=version(dtype, 2, 3), **EXACT)


@pytest.mark.parametrize("op", ["REDUCE_MAX", "REDUCE_MIN"])
def test_reduce_max_min_reject_requantization_like_litert(op):
    operands = [Input(integers(1, (2, 3), np.int8), Quantization.of(0.1, 2)), const(np.array([1], np.int32))]
    kwargs = {"output_quant": [Quantization.of(0.2, 2)], "version": 2}
    litert_rejects(op, operands, ReducerOptions(False), **kwargs)
    rejects(op, operands, ReducerOptions(False), "quantized differently", **kwargs)


@FAST
@given(op=st.sampled_from(["ARG_MAX", "ARG_MIN"]), dtype=st.sampled_from([np.int8, np.uint8]),
       shape=st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple), data=st.data(),
       out_type=st.sampled_from([TensorType.INT32, TensorType.INT64]), seed=seeds)
def test_arg_max_min_quantized(op, dtype, shape, data, out_type, seed):
    # Raw integers compared; ties (frequent in 8 bits) give the first index, as in TFLite.
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = np.random.default_rng(seed).integers(0, 4, shape).astype(dtype)  # many ties
    options = (ArgMaxOptions if op == "ARG_MAX" else ArgMinOptions)(out_type)
    check_op(op, [Input(x, data.draw(quantizations(dtype))), const(np.array([axis], np.int32))], options,
             output_dtypes=[out_type.numpy], version=version(dtype, 2, 1), **EXACT)


def test_arg_max_rejects_int16_like_litert():
    operands = [Input(np.zeros((2, 3), np.int16), Quantization.of(0.1, 0)), const(np.array([1], np.int32))]
    kwargs = {"output_dtypes": [np.int32], "version": 2}
    litert_rejects("ARG_MAX", operands, ArgMaxOptions(TensorType.INT32), **kwargs)
    rejects("ARG_MAX", operands, ArgMaxOptions(TensorType.INT32), "INT16", **kwargs)


# -- RESIZE_BILINEAR ----------------------------------------------------------------------------


@FAST
@given(dtype=st.sampled_from(DTYPES), height=st.integers(1, 8), width=st.integers(1, 8),
       out_h=st.integers(1, 20), out_w=st.integers(1, 20), channels=st.sampled_from([1, 3, 8]),
       modes=st.sampled_from([(False, False), (True, False), (False, True)]),
       dynamic=st.booleans(), data=st.data(), seed=seeds)
def test_resize_bilinear_quantized(dtype, height, width, out_h, out_w, channels, modes, dynamic,
                                   data, seed):
    # int8/int16: TFLite's integer kernel (10-bit coordinates); uint8: its float kernel.
    quant = data.draw(quantizations(dtype))
    x = integers(seed, (2, height, width, channels), dtype)
    size = np.array([out_h, out_w], np.int32)
    check_op("RESIZE_BILINEAR", [Input(x, quant), size if dynamic else const(size)],
             ResizeBilinearOptions(*modes), output_quant=[quant],
             version=4 if dtype == np.int16 else 3 if modes[1] else version(dtype, 2, 4), **EXACT)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("factor", "modes"), [(2, (False, False)), (8, (False, True))])
def test_resize_bilinear_integer_factors(dtype, factor, modes):
    """Exact 2x and 8x upsamplings, which LiteRT special-cases for some types."""
    x = integers(factor, (1, 3, 2, 16), dtype)
    quant = Quantization.of(0.1, 0 if dtype == np.int16 else 7)
    check_op("RESIZE_BILINEAR", [Input(x, quant), const(np.array([3 * factor, 2 * factor], np.int32))],
             ResizeBilinearOptions(*modes), output_quant=[quant], version=4, **EXACT)


# -- L2_NORMALIZATION --------------------------------------------------------------------------


L2_OUTPUT = {np.int8: Quantization.of(1 / 128, 0), np.uint8: Quantization.of(1 / 128, 128)}


@FAST
@given(dtype=st.sampled_from([np.int8, np.uint8]), shape=st.lists(st.integers(1, 6), min_size=1,
       max_size=4).map(tuple), near_zero=st.booleans(), data=st.data(), seed=seeds)
def test_l2_normalization_quantized(dtype, shape, near_zero, data, seed):
    # Inverse square root by fixed-point Newton-Raphson; rows equal to the zero point (a zero
    # norm) take TFLite's 1/sqrt(1) path. Output scale is fixed at 1/128.
    quant = data.draw(quantizations(dtype))
    zero_point = int(quant.zero_point[0])
    rng = np.random.default_rng(seed)
    if near_zero:
        info = np.iinfo(dtype)
        x = np.clip(zero_point + rng.integers(-1, 2, shape), info.min, info.max).astype(dtype)
    else:
        x = integers(seed, shape, dtype)
    check_op("L2_NORMALIZATION", [Input(x, quant)], L2NormOptions(), output_quant=[L2_OUTPUT[dtype]],
             version=version(dtype, 2, 1), **EXACT)


def test_l2_normalization_long_rows():
    """Sums of squares past 2**29 (and past int32, wrapping as in TFLite)."""
    for dtype in (np.int8, np.uint8):
        x = integers(3, (2, 40000), dtype)
        check_op("L2_NORMALIZATION", [Input(x, Quantization.of(0.1, 0))], L2NormOptions(),
                 output_quant=[L2_OUTPUT[dtype]], version=2, **EXACT)


def test_l2_normalization_rejects_other_output_scale():
    operands = [Input(np.ones((2, 3), np.int8), Quantization.of(0.1, 0))]
    kwargs = {"output_quant": [Quantization.of(0.01, 0)], "version": 2}
    litert_rejects("L2_NORMALIZATION", operands, L2NormOptions(), **kwargs)
    rejects("L2_NORMALIZATION", operands, L2NormOptions(), "1/128", **kwargs)
