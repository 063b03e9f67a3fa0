"""The thread pool and the float32 kernels added with it.

New kernels (PRELU, RESIZE_BILINEAR, TRANSPOSE_CONV, Convolution2DTransposeBias, grouped CONV_2D,
depthwise multiplier > 1, the vector exp of LOGISTIC / SOFTMAX) against the numpy reference at
every dispatch level; outputs bitwise identical for 1, 2 and 3 threads (ops split only along
independent outputs); the shared float models with every node native; RESHAPE-like ops sharing
their input's arena bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from tests.native.test_kernels import ACTIVATIONS, SETTINGS, broadcast_pair, check_native, run, values
from tests.ops.harness import const, graph_feeds, single_op_model

from edgelite.errors import EdgeliteError
from edgelite.model.ir import Model, Operator, Subgraph, Tensor, TensorType
from edgelite.ops._binary import MaximumMinimumOptions
from edgelite.ops._common import Activation, Padding
from edgelite.ops._conv import forward_conv_size
from edgelite.ops._pool import Pool2DOptions
from edgelite.ops.add import AddOptions
from edgelite.ops.batch_matmul import BatchMatMulOptions
from edgelite.ops.conv_2d import Conv2DOptions
from edgelite.ops.convolution2d_transpose_bias import TransposeConvParams
from edgelite.ops.depth_to_space import DepthToSpaceOptions
from edgelite.ops.depthwise_conv_2d import DepthwiseConv2DOptions
from edgelite.ops.div import DivOptions
from edgelite.ops.fully_connected import FullyConnectedOptions
from edgelite.ops.gather import GatherOptions
from edgelite.ops.gelu import GeluOptions
from edgelite.ops.leaky_relu import LeakyReluOptions
from edgelite.ops.mul import MulOptions
from edgelite.ops.resize_bilinear import ResizeBilinearOptions
from edgelite.ops.resize_nearest_neighbor import ResizeNearestNeighborOptions
from edgelite.ops.softmax import SoftmaxOptions
from edgelite.ops.space_to_depth import SpaceToDepthOptions
from edgelite.ops.strided_slice import StridedSliceOptions
from edgelite.ops.transpose_conv import TransposeConvOptions
from edgelite.runtime import native
from edgelite.runtime.interpreter import Interpreter

pytestmark = pytest.mark.skipif(native._engine is None, reason="the native extension is not built "
                                "(no C compiler at install time); the reference executor runs instead")
MODELS = Path(__file__).parents[2].parent / "shared" / "models"


# -- new kernels vs the reference, every ISA level -------------------------------------------------
def check(opcode: str, operands: list, options=None, rtol: float = 1e-5, terms: int = 1,
          **model_kwargs) -> None:
    """check_native for models that need single_op_model's keywords (output dtypes, custom ops);
    rtol=0: bitwise equal; `terms`: products summed per output (check_native's cancellation allowance)."""
    model = single_op_model(opcode, operands, options, **model_kwargs).to_bytes()
    feeds = graph_feeds(operands)
    want, _ = run(model, feeds, "reference")
    got, executor = run(model, feeds, "native")
    assert all(executor.native), f"{opcode} was not lowered to the native engine"
    for a, b in zip(got, want, strict=True):
        if rtol == 0:
            np.testing.assert_array_equal(a, b)
        else:
            cancellation = terms * float(np.finfo(np.float32).eps) * 4
            atol = max(1e-6, rtol * float(np.max(np.abs(b), initial=0)), cancellation)
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@st.composite
def prelu_shapes(draw):
    rank = draw(st.integers(1, 4))
    x = tuple(draw(st.integers(1, 9)) for _ in range(rank))
    alpha = tuple(d if draw(st.booleans()) else 1 for d in x)[draw(st.integers(0, rank - 1)):]
    return x, alpha


@SETTINGS
@given(prelu_shapes(), st.booleans(), st.integers(0, 2**16))
def test_prelu(isa, shapes, alpha_const, seed):
    x = values(seed, shapes[0])
    x.flat[::7] = 0.0
    alpha = values(seed + 1, shapes[1])
    check("PRELU", [x, const(alpha) if alpha_const else alpha], rtol=0)


def test_prelu_special_values(isa):
    x = np.array([[np.nan, -np.inf, np.inf, -0.0, 0.0, -1.5, 2.5, -1e-30, 3.0]], np.float32)
    model = single_op_model("PRELU", [x, const(np.full((1, 9), 0.25, np.float32))]).to_bytes()
    want, _ = run(model, [x], "reference")
    got, executor = run(model, [x], "native")
    assert all(executor.native)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(np.signbit(got[0]), np.signbit(want[0]))


@SETTINGS
@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 20), st.integers(1, 20), st.integers(1, 19),
       st.sampled_from([(False, False), (True, False), (False, True)]), st.integers(0, 2**16))
def test_resize_bilinear(isa, h, w, out_h, out_w, channels, flags, seed):
    """Coordinates, weights and the order of the sums are the reference's: bitwise equal."""
    operands = [values(seed, (2, h, w, channels)), const(np.array([out_h, out_w], np.int32))]
    check("RESIZE_BILINEAR", operands, ResizeBilinearOptions(*flags), rtol=0)


@st.composite
def transpose_geometry(draw):
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.sampled_from([Padding.SAME, Padding.VALID]))
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    out_h, out_w = (h * sh, w * sw) if padding == Padding.SAME else ((h - 1) * sh + kh, (w - 1) * sw + kw)
    assert (forward_conv_size(out_h, kh, sh, padding), forward_conv_size(out_w, kw, sw, padding)) == (h, w)
    return kh, kw, sh, sw, padding, h, w, out_h, out_w


@SETTINGS
@given(transpose_geometry(), st.integers(1, 2), st.integers(1, 12), st.integers(1, 20), ACTIVATIONS,
       st.booleans(), st.integers(0, 2**16))
def test_transpose_conv(isa, geometry, batch, in_c, out_c, activation, with_bias, seed):
    kh, kw, sh, sw, padding, h, w, out_h, out_w = geometry
    operands = [const(np.array([batch, out_h, out_w, out_c], np.int32)),
                const(values(seed + 1, (out_c, kh, kw, in_c))), values(seed, (batch, h, w, in_c)),
                const(values(seed + 2, (out_c,))) if with_bias else None]
    options = TransposeConvOptions(padding, sw, sh, activation)
    check("TRANSPOSE_CONV", operands, options, terms=kh * kw * in_c, output_dtypes=[np.float32])


@pytest.mark.parametrize("stride", [(2, 2), (3, 2), (1, 1)])
@pytest.mark.parametrize("out_c", [1, 5, 17])
def test_transpose_conv_kernel_equal_to_stride(isa, stride, out_c):
    """The 2x-upsampling case runs as one gemm per output row (no gather)."""
    (sh, sw), shape = stride, (2, 5, 7, 6)
    operands = [const(np.array([2, 5 * sh, 7 * sw, out_c], np.int32)), const(values(1, (out_c, sh, sw, 6))),
                values(0, shape), const(values(2, (out_c,)))]
    check("TRANSPOSE_CONV", operands, TransposeConvOptions(Padding.VALID, sw, sh, Activation.RELU),
          output_dtypes=[np.float32])


@SETTINGS
@given(st.integers(1, 4), st.integers(1, 3), st.sampled_from([1, 2]), st.integers(1, 7), st.integers(1, 9),
       st.integers(1, 17), st.integers(0, 2**16))
def test_convolution2d_transpose_bias(isa, kernel, stride, padding, size, in_c, out_c, seed):
    """MediaPipe's custom op: the same maths with a bias and its own output size."""
    params = TransposeConvParams(padding, stride, stride)
    operands = [values(seed, (1, size, size + 1, in_c)),
                const(values(seed + 1, (out_c, kernel, kernel, in_c))), const(values(seed + 2, (out_c,)))]
    check("CUSTOM", operands, custom_code="Convolution2DTransposeBias", custom_options=params.to_bytes())


@SETTINGS
@given(st.integers(2, 4), st.integers(1, 5), st.integers(1, 4), st.integers(1, 3), st.integers(1, 2),
       st.sampled_from([Padding.SAME, Padding.VALID]), ACTIVATIONS, st.booleans(), st.integers(0, 2**16))
def test_grouped_conv_2d(isa, groups, group_c, per_group_out, kernel, stride, padding, activation, with_bias,
                         seed):
    out_c = groups * per_group_out
    operands = [values(seed, (1, 7, 6, groups * group_c)),
                const(values(seed + 1, (out_c, kernel, kernel, group_c))),
                const(values(seed + 2, (out_c,))) if with_bias else None]
    check_native("CONV_2D", operands, Conv2DOptions(padding, stride, stride, activation))


@SETTINGS
@given(st.integers(2, 4), st.integers(1, 9), st.integers(1, 4), st.integers(1, 2), st.integers(1, 2),
       st.sampled_from([Padding.SAME, Padding.VALID]), ACTIVATIONS, st.integers(0, 2**16))
def test_depthwise_multiplier(isa, multiplier, channels, kernel, stride, dilation, padding, activation, seed):
    oc = channels * multiplier
    operands = [values(seed, (2, 8, 7, channels)), const(values(seed + 1, (1, kernel, kernel, oc))),
                const(values(seed + 2, (oc,)))]
    options = DepthwiseConv2DOptions(padding, stride, stride, multiplier, activation, dilation, dilation)
    check_native("DEPTHWISE_CONV_2D", operands, options)


@pytest.mark.parametrize("kernel", [(5, 5), (2, 3)])
@pytest.mark.parametrize("channels", [32, 45, 77])
def test_depthwise_wide_channels(isa, kernel, channels):
    """Blocks of 32 channels in the any-taps kernel, the strided interior and the bordered edges."""
    operands = [values(channels, (1, 13, 11, channels)), const(values(1, (1, *kernel, channels))),
                const(values(2, (channels,)))]
    check_native("DEPTHWISE_CONV_2D", operands,
                 DepthwiseConv2DOptions(Padding.SAME, 1, 2, 1, Activation.RELU6, 1, 2))


def test_logistic_vector_exp_over_the_whole_range(isa):
    """The AVX2 exp: within 1e-6 of the reference everywhere, NaN and subnormal results included.
    Subnormal results are the correctly rounded ones (as libm's expf); numpy's float32 exp, the
    reference's, can be 2 units of 2**-149 off there."""
    x = np.concatenate([np.linspace(-120, 120, 4001, dtype=np.float32),
                        np.array([np.nan, -87.0, -87.5, 87.5, -0.0], np.float32)]).reshape(1, -1)
    model = single_op_model("LOGISTIC", [x]).to_bytes()
    want, _ = run(model, [x], "reference")
    got, executor = run(model, [x], "native")
    assert all(executor.native)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6, atol=2 * 2.0**-149)
    exact = np.exp(-np.abs(x.astype(np.float64)))
    exact = np.where(x >= 0, 1 / (1 + exact), exact / (1 + exact)).astype(np.float32)
    np.testing.assert_allclose(got[0], exact, rtol=1e-6, atol=0)


@pytest.mark.parametrize("beta", [1.0, 0.3, -0.5])
def test_softmax_wide_rows(isa, beta):
    x = values(3, (3, 1001)) * 60
    x[1, ::5] = -200.0  # exponents far below the vector exp's range
    check_native("SOFTMAX", [x], SoftmaxOptions(beta))


# -- issue 6's coverage list: elementwise, movement, resize ------------------------------------------
BINARY_OPTIONS = {"DIV": DivOptions, "MAXIMUM": lambda activation: MaximumMinimumOptions(),
                  "MINIMUM": lambda activation: MaximumMinimumOptions()}


@SETTINGS
@given(st.sampled_from(sorted(BINARY_OPTIONS)), broadcast_pair(), ACTIVATIONS, st.booleans(),
       st.integers(0, 2**16))
def test_div_maximum_minimum_broadcast(isa, opcode, shapes, activation, b_const, seed):
    """IEEE division and TFLite's `a > b ? a : b` / `a < b ? a : b`: bitwise equal."""
    a, b = values(seed, shapes[0]), values(seed + 1, shapes[1])
    a.flat[::5] = b.flat[0]  # ties
    check(opcode, [a, const(b) if b_const else b], BINARY_OPTIONS[opcode](activation), rtol=0)


def test_binary_special_values(isa):
    x = np.array([[np.nan, 1.0, np.inf, -np.inf, -0.0, 0.0, 2.0, 0.0, np.nan]], np.float32)
    y = np.array([[1.0, np.nan, np.inf, 3.0, 0.0, -0.0, 0.0, 0.0, np.nan]], np.float32)
    for opcode in BINARY_OPTIONS:
        model = single_op_model(opcode, [x, y], BINARY_OPTIONS[opcode](Activation.NONE)).to_bytes()
        want, _ = run(model, [x, y], "reference")
        got, executor = run(model, [x, y], "native")
        assert all(executor.native)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(np.signbit(got[0]), np.signbit(want[0]))


UNARY_OPTIONS = {"TANH": None, "GELU": GeluOptions(False), "GELU tanh": GeluOptions(True),
                 "LEAKY_RELU": LeakyReluOptions(0.2), "LEAKY_RELU negative": LeakyReluOptions(-1.5)}
WIDE = np.concatenate([SPECIAL_VALUES := np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 1e-40,
                                                   0.625, -0.625, 9.0, -9.0, 88.0, -100.0], np.float32),
                       np.linspace(-30, 30, 6001, dtype=np.float32)])


@pytest.mark.parametrize("name", sorted(UNARY_OPTIONS))
@pytest.mark.parametrize("size", [1, 7, 8, 29, WIDE.size])
def test_tanh_gelu_leaky_relu(isa, name, size):
    """Within 1e-5 relative of the reference (absolute floor 1e-5 x the largest |output|), NaN and
    infinities where the reference has them."""
    x = WIDE[:size].reshape(1, -1) if size == WIDE.size else (values(size, (1, size)) * 6)
    opcode = name.split()[0]
    model = single_op_model(opcode, [x], UNARY_OPTIONS[name]).to_bytes()
    want, _ = run(model, [x], "reference")
    got, executor = run(model, [x], "native")
    assert all(executor.native), f"{name} was not lowered"
    atol = 1e-5 * float(np.nanmax(np.abs(np.where(np.isinf(want[0]), 0, want[0]))))
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=max(atol, 1e-30))


@SETTINGS
@given(st.sampled_from(sorted(UNARY_OPTIONS)), st.lists(st.integers(1, 9), min_size=1, max_size=4),
       st.floats(0.5, 20), st.integers(0, 2**16))
def test_unary_shapes(isa, name, shape, scale, seed):
    x = values(seed, tuple(shape)) * np.float32(scale)
    check(name.split()[0], [x], UNARY_OPTIONS[name])


def exact_gelu(x: np.ndarray, approximate: bool) -> np.ndarray:
    """GELU in float64 without cancellation, from the float32 argument the reference computes
    (erfc(z) and sigmoid(2u) amplify an argument's rounding by up to 2z^2 and 2|u|): x * erfc(z) / 2,
    or x * sigmoid(2u) for the tanh form."""
    import math

    f = np.float32
    d = x.astype(np.float64)
    if approximate:
        u = (f(math.sqrt(2 / math.pi)) * (x + f(0.044715) * (x * x * x))).astype(np.float64)
        return d / (1 + np.exp(-2 * u))
    z = (x * f(-math.sqrt(0.5))).astype(np.float64)
    return 0.5 * d * np.vectorize(math.erfc)(z)


@pytest.mark.parametrize("approximate", [False, True])
def test_gelu_vector_kernel_against_float64(isa, approximate):
    """The native GELU is within 1e-6 relative of float64 GELU wherever |y| > 1e-30 (for the tanh
    form the reference's own 1 + tanh(u) cancels for x < -4; the vector kernels use sigmoid(2u),
    the scalar one follows the reference's steps)."""
    if isa == "scalar" and approximate:
        pytest.skip("the scalar kernel computes 1 + tanh(u) as the reference, with its cancellation")
    x = np.linspace(-14, 14, 40001, dtype=np.float32).reshape(1, -1)
    model = single_op_model("GELU", [x], GeluOptions(approximate)).to_bytes()
    got, executor = run(model, [x], "native")
    assert all(executor.native)
    exact = exact_gelu(x, approximate)
    significant = np.abs(exact) > 1e-30
    relative = np.abs(got[0].astype(np.float64) - exact)[significant] / np.abs(exact[significant])
    assert relative.max() < 1e-6, f"max relative error {relative.max():.3g}"


@st.composite
def transposes(draw):
    rank = draw(st.integers(1, 6))
    shape = tuple(draw(st.integers(1, 5)) for _ in range(rank))
    return shape, draw(st.permutations(range(rank)))


@SETTINGS
@given(transposes(), st.integers(0, 2**16))
def test_transpose(isa, case, seed):
    shape, perm = case
    check("TRANSPOSE", [values(seed, shape), const(np.array(perm, np.int32))], rtol=0)


@pytest.mark.parametrize("shape, perm", [((9, 17), (1, 0)), ((2, 9, 17, 3), (0, 3, 1, 2)),
                                         ((2, 9, 17, 3), (0, 2, 1, 3)), ((1, 16, 24, 8), (0, 3, 1, 2)),
                                         ((3, 8, 8), (2, 1, 0)), ((2, 3, 10, 11, 9), (4, 0, 3, 1, 2)),
                                         ((1, 9, 17, 11), (0, 3, 1, 2)), ((12, 8, 10), (2, 1, 0))])
def test_transpose_planes(isa, shape, perm):
    """Planes of at least 8 x 8 go to the blocked transpose kernel (edges included)."""
    check("TRANSPOSE", [values(len(shape), shape), const(np.array(perm, np.int32))], rtol=0)


@SETTINGS
@given(st.integers(1, 2), st.integers(1, 4), st.integers(1, 4), st.integers(1, 5), st.integers(1, 3),
       st.booleans(), st.integers(0, 2**16))
def test_depth_to_space_and_back(isa, n, h, w, c, block, to_space, seed):
    if to_space:
        x = values(seed, (n, h, w, c * block * block))
        check("DEPTH_TO_SPACE", [x], DepthToSpaceOptions(block), rtol=0)
    else:
        x = values(seed, (n, h * block, w * block, c))
        check("SPACE_TO_DEPTH", [x], SpaceToDepthOptions(block), rtol=0)


@SETTINGS
@given(st.lists(st.integers(1, 6), min_size=1, max_size=5), st.data(), st.integers(0, 2**16))
def test_slice(isa, shape, data, seed):
    begin = [data.draw(st.integers(0, d - 1)) for d in shape]
    size = [data.draw(st.sampled_from([-1, *range(1, d - b + 1)])) for d, b in zip(shape, begin, strict=True)]
    operands = [values(seed, tuple(shape)), const(np.array(begin, np.int32)), const(np.array(size, np.int32))]
    check("SLICE", operands, rtol=0)


@SETTINGS
@given(st.lists(st.integers(1, 7), min_size=1, max_size=4), st.data(), st.integers(0, 2**16))
def test_strided_slice(isa, shape, data, seed):
    rank = len(shape)
    begin = [data.draw(st.integers(-d, d)) for d in shape]
    end = [data.draw(st.integers(-d - 1, d + 1)) for d in shape]
    strides = [data.draw(st.sampled_from([-3, -2, -1, 1, 2, 3])) for _ in shape]
    masks = [data.draw(st.integers(0, 2**rank - 1)) for _ in range(2)]
    shrink = data.draw(st.integers(0, 2**rank - 1)) if data.draw(st.booleans()) else 0
    operands = [values(seed, tuple(shape)), *(const(np.array(v, np.int32)) for v in (begin, end, strides))]
    options = StridedSliceOptions(masks[0], masks[1], 0, 0, shrink)
    try:
        model = single_op_model("STRIDED_SLICE", operands, options)
        want, _ = run(model.to_bytes(), graph_feeds(operands), "reference")
    except EdgeliteError:  # geometry the reference itself rejects
        assume(False)
    assume(want[0].size > 0)
    check("STRIDED_SLICE", operands, options, rtol=0)


def test_slices_with_computed_bounds_stay_on_the_reference():
    """begin computed at run time (its output shape is static with `offset`): not lowered."""
    x = values(0, (4, 6))
    operands = [x, np.array([1, 2], np.int32), const(np.array([2, 3], np.int32)),
                const(np.array([1, 1], np.int32))]
    model = single_op_model("STRIDED_SLICE", operands, StridedSliceOptions(offset=True)).to_bytes()
    feeds = graph_feeds(operands)
    want, _ = run(model, feeds, "reference")
    got, executor = run(model, feeds, "native")
    assert executor.native == [False] and "computed at run time" in executor.partition()[0].nodes[0].reason
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[0], x[1:3, 2:5])


@SETTINGS
@given(st.lists(st.integers(1, 5), min_size=1, max_size=4), st.data(), st.integers(0, 2**16))
def test_gather(isa, shape, data, seed):
    """Constant indices of any rank along any axis, with batch dims."""
    rank = len(shape)
    axis = data.draw(st.integers(0, rank - 1))
    batch_dims = data.draw(st.integers(0, axis))
    index_shape = (*shape[:batch_dims], *data.draw(st.lists(st.integers(1, 4), max_size=2)))
    indices = np.random.default_rng(seed).integers(0, shape[axis], index_shape).astype(np.int32)
    negative_axis = data.draw(st.booleans())
    options = GatherOptions(axis - rank if negative_axis else axis, batch_dims)
    check("GATHER", [values(seed, tuple(shape)), const(indices)], options, rtol=0)


def test_gather_with_bad_or_computed_indices_stays_on_the_reference():
    x = values(0, (4, 3))
    for indices, native_ok in ((const(np.array([0, 3, 1], np.int32)), True),
                               (np.array([0, 3, 1], np.int32), False)):
        operands = [x, indices]
        model = single_op_model("GATHER", operands, GatherOptions(0, 0)).to_bytes()
        got, executor = run(model, graph_feeds(operands), "native")
        assert executor.native == [native_ok]
        np.testing.assert_array_equal(got[0], x[[0, 3, 1]])
    model = single_op_model("GATHER", [x, const(np.array([0, 4], np.int32))], GatherOptions(0, 0)).to_bytes()
    interpreter = Interpreter(model_content=model, experimental_executor="native")
    interpreter.allocate_tensors()
    assert interpreter._executor.native == [False]  # out of range: the reference reports it at invoke
    interpreter.set_tensor(0, x)
    with pytest.raises(EdgeliteError, match="out of range"):
        interpreter.invoke()


@pytest.mark.parametrize("bad", [3.0, -1.0, 0.5, np.nan])
def test_validator_rejects_gather_indices_outside_the_axis(bad):
    model = single_op_model("GATHER", [values(0, (3, 2)), const(np.array([0, 2], np.int32))],
                            GatherOptions(0, 0)).to_bytes()
    interpreter = Interpreter(model_content=model, experimental_executor="reference")
    interpreter.allocate_tensors()
    lowering = native.Lowering(interpreter._executor)
    assert lowering.lower(interpreter.plan.nodes[0])
    tensors, nodes = lowering.tables()
    native._engine.Program(tensors, nodes, lowering.buffers, lowering.writable)
    table = next(b for b in lowering.buffers[1:] if b.size == 2)  # the indices, as floats
    table[1] = bad
    with pytest.raises(ValueError, match="index 1 is not an integer"):
        native._engine.Program(tensors, nodes, lowering.buffers, lowering.writable)


@SETTINGS
@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 20), st.integers(1, 20), st.integers(1, 9),
       st.sampled_from([(False, False), (True, False), (False, True), (True, True)]), st.integers(0, 2**16))
def test_resize_nearest_neighbor(isa, h, w, out_h, out_w, channels, flags, seed):
    operands = [values(seed, (2, h, w, channels)), const(np.array([out_h, out_w], np.int32))]
    check("RESIZE_NEAREST_NEIGHBOR", operands, ResizeNearestNeighborOptions(*flags), rtol=0)


@st.composite
def matmul_shapes(draw):
    """Broadcasting batch dims (ranks 2 to 5), M, K, N and the adjoint flags."""
    batch_rank = draw(st.integers(0, 3))
    out_batch = [draw(st.integers(1, 3)) for _ in range(batch_rank)]
    lhs_batch = [d if draw(st.booleans()) else 1 for d in out_batch][draw(st.integers(0, batch_rank)):]
    rhs_batch = [d if draw(st.booleans()) else 1 for d in out_batch][draw(st.integers(0, batch_rank)):]
    m, k, n = draw(st.integers(1, 60)), draw(st.integers(1, 40)), draw(st.integers(1, 40))
    adj_x, adj_y = draw(st.booleans()), draw(st.booleans())
    lhs = (*lhs_batch, *((k, m) if adj_x else (m, k)))
    rhs = (*rhs_batch, *((n, k) if adj_y else (k, n)))
    return lhs, rhs, adj_x, adj_y, k


@SETTINGS
@given(matmul_shapes(), st.booleans(), st.integers(0, 2**16))
def test_batch_matmul(isa, shapes, rhs_const, seed):
    """On the gemm kernels: a constant rhs packed at prepare, a computed one packed per tile."""
    lhs, rhs, adj_x, adj_y, k = shapes
    b = values(seed + 1, rhs)
    check_native("BATCH_MATMUL", [values(seed, lhs), const(b) if rhs_const else b],
                 BatchMatMulOptions(adj_x, adj_y), terms=k)


# -- C-side validation of the new ops' params --------------------------------------------------------
P = 3 + native.MAX_INPUTS  # first param word of a node row
NEW_OP_CORRUPTIONS = {
    "strided copy: negative offset": ("TRANSPOSE", lambda row: row.__setitem__(P, -1)),
    "strided copy: stride past the end": ("TRANSPOSE", lambda row: row.__setitem__(P + 12, 1000)),
    "strided copy: negative reach": ("TRANSPOSE", lambda row: row.__setitem__(P + 12, -1)),
    "strided copy: dims vs output": ("TRANSPOSE", lambda row: row.__setitem__(P + 6, row[P + 6] + 1)),
    "matmul: K": ("BATCH_MATMUL", lambda row: row.__setitem__(P + 3, row[P + 3] + 1)),
    "matmul: batch stride": ("BATCH_MATMUL", lambda row: row.__setitem__(P + 8 + 4, 5)),
    "matmul: mode": ("BATCH_MATMUL", lambda row: row.__setitem__(P, 2)),
    "matmul: adj_y with packed rhs": ("BATCH_MATMUL", lambda row: row.__setitem__(P + 1, 2)),
    "resize nearest: flags": ("RESIZE_NEAREST_NEIGHBOR", lambda row: row.__setitem__(P, 5)),
    "gather: axis size": ("GATHER", lambda row: row.__setitem__(P + 2, row[P + 2] + 1)),
    "unary: op": ("TANH", lambda row: row.__setitem__(P, 99)),
    "binary: op": ("DIV", lambda row: row.__setitem__(P, 7)),
}
NEW_OP_MODELS = {
    "TRANSPOSE": lambda: ([values(0, (3, 4, 5)), const(np.array([2, 0, 1], np.int32))], None),
    "BATCH_MATMUL": lambda: ([values(0, (2, 3, 4)), const(values(1, (2, 4, 5)))], BatchMatMulOptions()),
    "RESIZE_NEAREST_NEIGHBOR": lambda: ([values(0, (1, 3, 4, 2)), const(np.array([5, 7], np.int32))],
                                        ResizeNearestNeighborOptions()),
    "GATHER": lambda: ([values(0, (4, 3)), const(np.array([1, 0], np.int32))], GatherOptions(0, 0)),
    "TANH": lambda: ([values(0, (3, 4))], None),
    "DIV": lambda: ([values(0, (3, 4)), values(1, (3, 4))], DivOptions()),
}


@pytest.mark.parametrize("corruption", sorted(NEW_OP_CORRUPTIONS))
def test_validator_rejects_corrupted_params_of_new_ops(corruption):
    opcode, corrupt = NEW_OP_CORRUPTIONS[corruption]
    operands, options = NEW_OP_MODELS[opcode]()
    model = single_op_model(opcode, operands, options).to_bytes()
    interpreter = Interpreter(model_content=model, experimental_executor="reference")
    interpreter.allocate_tensors()
    lowering = native.Lowering(interpreter._executor)
    assert lowering.lower(interpreter.plan.nodes[0]), lowering.reason
    tensors, nodes = lowering.tables()
    native._engine.Program(tensors, nodes, lowering.buffers, lowering.writable)  # intact: accepted
    corrupt(nodes[0])
    with pytest.raises(ValueError, match="native node 0"):
        native._engine.Program(tensors, nodes, lowering.buffers, lowering.writable)


# -- threads ---------------------------------------------------------------------------------------
def run_threads(model_bytes: bytes, feeds: list[np.ndarray], threads: int) -> list[np.ndarray]:
    interpreter = Interpreter(model_content=model_bytes, experimental_executor="native", num_threads=threads)
    interpreter.allocate_tensors()
    assert interpreter._executor.threads == threads
    assert all(interpreter._executor.native)
    for detail, value in zip(interpreter.get_input_details(), feeds, strict=True):
        interpreter.set_tensor(detail["index"], value)
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]


BIG = (1, 33, 35, 24)  # large enough that every op is split into several tiles
THREADED_OPS = {
    "conv": ("CONV_2D", lambda: [values(0, BIG), const(values(1, (40, 3, 3, 24))), const(values(2, (40,)))],
             Conv2DOptions(Padding.SAME, 1, 1, Activation.RELU6)),
    "conv 1x1": ("CONV_2D", lambda: [values(0, BIG), const(values(1, (70, 1, 1, 24))), None],
                 Conv2DOptions(Padding.SAME, 1, 1)),
    "fully connected": ("FULLY_CONNECTED", lambda: [values(0, (3, 200)), const(values(1, (300, 200))), None],
                        FullyConnectedOptions()),
    "grouped conv": ("CONV_2D", lambda: [values(0, BIG), const(values(1, (12, 3, 3, 8))), None],
                     Conv2DOptions(Padding.VALID, 2, 2)),
    "depthwise": ("DEPTHWISE_CONV_2D", lambda: [values(0, BIG), const(values(1, (1, 3, 3, 24))), None],
                  DepthwiseConv2DOptions(Padding.SAME, 1, 1, 1)),
    "depthwise x2": ("DEPTHWISE_CONV_2D", lambda: [values(0, BIG), const(values(1, (1, 5, 5, 48))), None],
                     DepthwiseConv2DOptions(Padding.SAME, 2, 2, 2)),
    "add": ("ADD", lambda: [values(0, (2, *BIG[1:])), values(1, (2, *BIG[1:]))], AddOptions()),
    "mul broadcast": ("MUL", lambda: [values(0, BIG), const(values(1, (24,)))], MulOptions(Activation.RELU)),
    "prelu": ("PRELU", lambda: [values(0, BIG), const(values(1, (1, 1, 24)))], None),
    "hard swish": ("HARD_SWISH", lambda: [values(0, (3, 11111))], None),
    "logistic": ("LOGISTIC", lambda: [values(0, (3, 11113)) * 20], None),
    "softmax": ("SOFTMAX", lambda: [values(0, (300, 101)) * 10], SoftmaxOptions(1.0)),
    "max pool": ("MAX_POOL_2D", lambda: [values(0, BIG)],
                 Pool2DOptions(Padding.SAME, 2, 2, 3, 3, Activation.NONE)),
    "resize": ("RESIZE_BILINEAR", lambda: [values(0, BIG), const(np.array([50, 61], np.int32))],
               ResizeBilinearOptions(False, True)),
    "transpose conv": ("TRANSPOSE_CONV", lambda: [const(np.array([1, 66, 70, 5], np.int32)),
                                                  const(values(1, (5, 4, 4, 24))), values(0, BIG), None],
                       TransposeConvOptions(Padding.SAME, 2, 2)),
    "div broadcast": ("DIV", lambda: [values(0, BIG), const(values(1, (1, 1, 24)) + 3)], DivOptions()),
    "maximum": ("MAXIMUM", lambda: [values(0, (2, *BIG[1:])), values(1, (2, *BIG[1:]))],
                MaximumMinimumOptions()),
    "batch matmul": ("BATCH_MATMUL", lambda: [values(0, (3, 130, 40)), values(1, (1, 40, 50))],
                     BatchMatMulOptions(False, False)),
    "batch matmul adjoint": ("BATCH_MATMUL", lambda: [values(0, (2, 40, 100)), const(values(1, (2, 50, 40)))],
                             BatchMatMulOptions(True, True)),
    "tanh": ("TANH", lambda: [values(0, (3, 11113)) * 5], None),
    "gelu": ("GELU", lambda: [values(0, (3, 11113)) * 5], GeluOptions(False)),
    "transpose": ("TRANSPOSE", lambda: [values(0, BIG), const(np.array([0, 3, 1, 2], np.int32))], None),
    "transpose planes": ("TRANSPOSE",
                         lambda: [values(0, (4, 33, 35, 24)), const(np.array([0, 2, 3, 1], np.int32))], None),
    "gather": ("GATHER", lambda: [values(0, (40, 30, 20)), const(np.arange(59, dtype=np.int32) % 30)],
               GatherOptions(1, 0)),
    "depth to space": ("DEPTH_TO_SPACE", lambda: [values(0, BIG)], DepthToSpaceOptions(2)),
    "resize nearest": ("RESIZE_NEAREST_NEIGHBOR",
                       lambda: [values(0, BIG), const(np.array([70, 61], np.int32))],
                       ResizeNearestNeighborOptions(False, True)),
    "upsampling conv": ("TRANSPOSE_CONV", lambda: [const(np.array([1, 66, 70, 3], np.int32)),
                                                   const(values(1, (3, 2, 2, 24))), values(0, BIG), None],
                        TransposeConvOptions(Padding.SAME, 2, 2)),
}


@pytest.mark.parametrize("name", sorted(THREADED_OPS))
def test_outputs_identical_for_any_thread_count(name):
    opcode, make, options = THREADED_OPS[name]
    operands = make()
    model = single_op_model(opcode, operands, options, output_dtypes=[np.float32]).to_bytes()
    feeds = graph_feeds(operands)
    one = run_threads(model, feeds, 1)
    for threads in (2, 3):
        for a, b in zip(run_threads(model, feeds, threads), one, strict=True):
            np.testing.assert_array_equal(a, b)


FLOAT_MODELS = ["face_landmark", "selfie_segmentation", "hand_landmark_lite", "face_detection_short_range",
                "mnv2_035_96_float32"]


@pytest.mark.parametrize("stem", FLOAT_MODELS)
def test_float_models_fully_native_and_identical_across_threads(stem):
    path = MODELS / f"{stem}.tflite"
    if not path.is_file():
        pytest.skip(f"shared model {path} missing")
    feeds, outputs = None, []
    for threads in (1, 2):
        interpreter = Interpreter(model_path=str(path), experimental_executor="native", num_threads=threads)
        interpreter.allocate_tensors()
        executor = interpreter._executor
        assert sum(executor.native) == len(executor.plan.nodes), "some nodes stayed on the reference"
        if feeds is None:
            rng = np.random.default_rng(0)
            details = interpreter.get_input_details()
            feeds = [rng.uniform(-1, 1, d["shape"]).astype(d["dtype"]) for d in details]
        for detail, value in zip(interpreter.get_input_details(), feeds, strict=True):
            interpreter.set_tensor(detail["index"], value)
        interpreter.invoke()
        outputs.append([interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()])
    for a, b in zip(*outputs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_thread_count_defaults_to_one():
    assert [native.thread_count(n) for n in (None, -1, 0, 1, 3, 1000)] == [1, 1, 1, 1, 3, native.MAX_THREADS]


def test_validator_sizes_scratch_by_thread_count():
    x = values(0, (1, 9, 9, 4))
    model = single_op_model("CONV_2D", [x, const(values(1, (6, 3, 3, 4))), None], Conv2DOptions()).to_bytes()
    interpreter = Interpreter(model_content=model, experimental_executor="reference")
    interpreter.allocate_tensors()
    lowering = native.Lowering(interpreter._executor)  # threads = 1: scratch for one thread
    assert lowering.lower(interpreter.plan.nodes[0])
    tensors, nodes = lowering.tables()
    native._engine.Program(tensors, nodes, lowering.buffers, lowering.writable, 1)
    with pytest.raises(ValueError, match="scratch"):
        native._engine.Program(tensors, nodes, lowering.buffers, lowering.writable, 2)
    with pytest.raises(ValueError, match="num_threads"):
        native._engine.Program(tensors, nodes, lowering.buffers, lowering.writable, 0)


# -- RESHAPE-like ops alias their input --------------------------------------------------------------
def alias_model() -> Model:
    """a = relu(x); b = reshape(a); c = relu6(b); d = reshape(c); y = add(d, a): a must outlive b."""
    model = Model(subgraphs=[Subgraph(name="main")])
    graph = model.subgraphs[0]
    shapes = {"x": (2, 12), "a": (2, 12), "b": (24,), "c": (24,), "d": (2, 12), "y": (2, 12)}
    for name, shape in shapes.items():
        graph.tensors.append(Tensor(name, shape, TensorType.FLOAT32, 0))
    for name, value in (("s24", [24]), ("s2x12", [2, 12])):
        graph.tensors.append(Tensor(name, (len(value),), TensorType.INT32,
                                    model.add_buffer(np.array(value, np.int32))))
    x, a, b, c, d, y, s24, s2x12 = range(8)
    graph.operators = [Operator("RELU", (x,), (a,)), Operator("RESHAPE", (a, s24), (b,)),
                       Operator("RELU6", (b,), (c,)), Operator("RESHAPE", (c, s2x12), (d,)),
                       Operator("ADD", (d, a), (y,))]
    graph.inputs, graph.outputs = (x,), (y,)
    return model


@pytest.mark.parametrize("executor", ["reference", "native"])
def test_reshape_outputs_share_their_input_bytes(executor):
    interpreter = Interpreter(model_content=alias_model().to_bytes(), experimental_executor=executor)
    interpreter.allocate_tensors()
    offsets = interpreter.plan.arena_offsets
    assert offsets[1] == offsets[2] and offsets[3] == offsets[4] and offsets[1] != offsets[3]
    x = values(0, (2, 12)) * 8
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    want = np.clip(np.maximum(x, 0), 0, 6) + np.maximum(x, 0)
    np.testing.assert_array_equal(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]), want)


def test_reshape_of_graph_inputs_and_outputs_is_not_aliased():
    model = single_op_model("RESHAPE", [values(0, (2, 3, 4)), const(np.array([4, 6], np.int32))]).to_bytes()
    interpreter = Interpreter(model_content=model)
    interpreter.allocate_tensors()
    offsets = interpreter.plan.arena_offsets
    assert offsets[0] != offsets[2]
