"""Spatial NHWC ops against LiteRT: MAX_POOL_2D, AVERAGE_POOL_2D, L2_POOL_2D, RESIZE_BILINEAR,
RESIZE_NEAREST_NEIGHBOR, DEPTH_TO_SPACE, SPACE_TO_DEPTH."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from edgelite.errors import EdgeliteError
from edgelite.model.ir import Quantization
from edgelite.ops._common import Activation, Padding
from edgelite.ops._pool import Pool2DOptions
from edgelite.ops.depth_to_space import DepthToSpaceOptions
from edgelite.ops.resize_bilinear import ResizeBilinearOptions
from edgelite.ops.resize_nearest_neighbor import ResizeNearestNeighborOptions
from edgelite.ops.space_to_depth import SpaceToDepthOptions
from tests.ops.harness import Input, check_op, const, graph_feeds, run_edgelite, single_op_model

FAST = settings(max_examples=25, deadline=None)
seeds = st.integers(0, 2**32 - 1)
sides = st.integers(1, 9)
CLAMPS = [Activation.NONE, Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1]
QUANT = Quantization.of(0.05, -7)


def rejects(opcode, operands, options, match, **model_kwargs) -> None:
    """The model must fail to prepare in edgelite with an EdgeliteError matching `match`."""
    model = single_op_model(opcode, operands, options, **model_kwargs)
    with pytest.raises(EdgeliteError, match=match):
        run_edgelite(model.to_bytes(), graph_feeds(operands))


# -- pooling -------------------------------------------------------------------------------------


@FAST
@given(op=st.sampled_from(["MAX_POOL_2D", "AVERAGE_POOL_2D", "L2_POOL_2D"]),
       batch=st.integers(1, 2), height=sides, width=sides, channels=st.integers(1, 3),
       filter_h=st.integers(1, 4), filter_w=st.integers(1, 4), stride_h=st.integers(1, 3),
       stride_w=st.integers(1, 3), padding=st.sampled_from(list(Padding)),
       activation=st.sampled_from(CLAMPS), seed=seeds)
def test_pool(op, batch, height, width, channels, filter_h, filter_w, stride_h, stride_w, padding,
              activation, seed):
    # SAME windows at the border cover fewer input elements: the average (and L2) divide by
    # that count, not by the filter area.
    assume(padding == Padding.SAME or (filter_h <= height and filter_w <= width))
    x = (np.random.default_rng(seed).standard_normal((batch, height, width, channels)) * 3).astype(np.float32)
    options = Pool2DOptions(padding, stride_w, stride_h, filter_w, filter_h, activation)
    check_op(op, [x], options)


def test_average_pool_same_padding_excludes_padding():
    x = np.ones((1, 3, 3, 1), np.float32)
    (out,) = check_op("AVERAGE_POOL_2D", [x], Pool2DOptions(Padding.SAME, 1, 1, 3, 3))
    np.testing.assert_array_equal(out, np.ones_like(x))  # zero padding would give 4/9 at corners


def test_pool_rejects_filter_larger_than_valid_input():
    x = np.ones((1, 2, 2, 1), np.float32)
    rejects("MAX_POOL_2D", [x], Pool2DOptions(Padding.VALID, 1, 1, 3, 3), "does not fit",
            output_shapes=[(1, 1, 1, 1)])


def test_pool_rejects_zero_stride():
    x = np.ones((1, 4, 4, 1), np.float32)
    rejects("AVERAGE_POOL_2D", [x], Pool2DOptions(Padding.SAME, 0, 1, 2, 2), "stride_w",
            output_shapes=[(1, 4, 4, 1)])


@pytest.mark.parametrize("activation", [Activation.TANH, Activation.SIGN_BIT])
def test_pool_ignores_non_clamping_activation_like_litert(activation):
    x = np.random.default_rng(0).normal(size=(1, 4, 4, 2)).astype(np.float32) * 3
    out = check_op("MAX_POOL_2D", [x], Pool2DOptions(Padding.SAME, 1, 1, 2, 2, activation))[0]
    assert out.max() > 1  # not squashed by tanh


# -- resize --------------------------------------------------------------------------------------

corner_modes = st.sampled_from([(False, False), (True, False), (False, True), (True, True)])


@FAST
@given(height=sides, width=sides, out_h=st.integers(1, 20), out_w=st.integers(1, 20),
       modes=corner_modes, dynamic=st.booleans(), seed=seeds)
def test_resize_bilinear(height, width, out_h, out_w, modes, dynamic, seed):
    align_corners, half_pixel = modes
    assume(not (align_corners and half_pixel))  # TFLite rejects the combination
    x = np.random.default_rng(seed).standard_normal((2, height, width, 3)).astype(np.float32)
    size = np.array([out_h, out_w], np.int32)
    check_op("RESIZE_BILINEAR", [x, size if dynamic else const(size)],
             ResizeBilinearOptions(align_corners, half_pixel))


@FAST
@given(height=sides, width=sides, out_h=st.integers(1, 20), out_w=st.integers(1, 20),
       modes=corner_modes, dtype=st.sampled_from([np.float32, np.int32, np.int8]),
       dynamic=st.booleans(), seed=seeds)
def test_resize_nearest_neighbor(height, width, out_h, out_w, modes, dtype, dynamic, seed):
    # Exact: the source pixel follows TFLite's float32 coordinates, rounded half away from zero
    # with align_corners (e.g. 3 -> 5 rows picks row 1 for output row 1, not row 0).
    rng = np.random.default_rng(seed)
    x = rng.integers(-100, 100, (2, height, width, 2)).astype(dtype)
    operand, quant = (Input(x, QUANT), {"output_quant": [QUANT]}) if dtype == np.int8 else (x, {})
    size = np.array([out_h, out_w], np.int32)
    check_op("RESIZE_NEAREST_NEIGHBOR", [operand, size if dynamic else const(size)],
             ResizeNearestNeighborOptions(*modes), rtol=0, atol=0, **quant)


@pytest.mark.parametrize(("size", "modes"), [((5, 5), (True, False)), ((7, 2), (True, True)),
                                             ((2, 7), (False, True)), ((6, 9), (False, False))])
def test_resize_nearest_neighbor_rounding_edges(size, modes):
    """Sizes whose source coordinates land exactly on .5 or just beside an integer."""
    x = np.arange(3 * 3, dtype=np.float32).reshape(1, 3, 3, 1)
    check_op("RESIZE_NEAREST_NEIGHBOR", [x, const(np.array(size, np.int32))],
             ResizeNearestNeighborOptions(*modes), rtol=0, atol=0)


def test_resize_bilinear_rejects_both_corner_modes():
    x = np.ones((1, 2, 2, 1), np.float32)
    rejects("RESIZE_BILINEAR", [x, const(np.array([4, 4], np.int32))],
            ResizeBilinearOptions(True, True), "cannot both")


def test_resize_rejects_non_positive_size():
    x = np.ones((1, 2, 2, 1), np.float32)
    rejects("RESIZE_NEAREST_NEIGHBOR", [x, const(np.array([0, 4], np.int32))],
            ResizeNearestNeighborOptions(), "positive", output_shapes=[(1, 1, 4, 1)])


# -- depth <-> space -----------------------------------------------------------------------------


@FAST
@given(block=st.integers(1, 3), batch=st.integers(1, 2), height=st.integers(1, 3),
       width=st.integers(1, 3), depth=st.integers(1, 3),
       dtype=st.sampled_from([np.float32, np.int32, np.int64, np.int8, np.uint8]), seed=seeds)
def test_depth_to_space_and_back(block, batch, height, width, depth, dtype, seed):
    x = np.random.default_rng(seed).integers(-100, 100, (batch, height, width, depth * block * block))
    x = x.astype(dtype)
    operand, quant = (Input(x, QUANT), {"output_quant": [QUANT]}) if dtype == np.int8 else (x, {})
    (space,) = check_op("DEPTH_TO_SPACE", [operand], DepthToSpaceOptions(block), **quant)
    assert space.shape == (batch, height * block, width * block, depth)
    operand = Input(space, QUANT) if dtype == np.int8 else space
    (back,) = check_op("SPACE_TO_DEPTH", [operand], SpaceToDepthOptions(block), **quant)
    np.testing.assert_array_equal(back, x)


def test_depth_to_space_rejects_indivisible_depth():
    x = np.ones((1, 2, 2, 6), np.float32)
    rejects("DEPTH_TO_SPACE", [x], DepthToSpaceOptions(2), "divide", output_shapes=[(1, 4, 4, 1)])


def test_space_to_depth_rejects_indivisible_height():
    x = np.ones((1, 3, 4, 1), np.float32)
    rejects("SPACE_TO_DEPTH", [x], SpaceToDepthOptions(2), "divide", output_shapes=[(1, 1, 2, 4)])
