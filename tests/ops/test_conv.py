"""Convolution family against LiteRT: CONV_2D (grouped too), DEPTHWISE_CONV_2D, TRANSPOSE_CONV,
FULLY_CONNECTED, BATCH_MATMUL, and MediaPipe's Convolution2DTransposeBias custom op.

Operands are small multiples of 1/8: every product and partial sum is exact in float32, so the
order in which a kernel accumulates cannot matter and the default tolerance holds at any size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from edgelite.errors import EdgeliteError, ModelError, UnsupportedOpError
from edgelite.model.ir import Operator, Tensor, TensorType
from edgelite.ops._common import Activation, Padding
from edgelite.ops.batch_matmul import BatchMatMulOptions
from edgelite.ops.conv_2d import Conv2DOptions
from edgelite.ops.convolution2d_transpose_bias import TransposeConvParams
from edgelite.ops.depthwise_conv_2d import DepthwiseConv2DOptions
from edgelite.ops.fully_connected import FullyConnectedOptions, WeightsFormat
from edgelite.ops.transpose_conv import TransposeConvOptions
from tests.ops.harness import check_op, const, graph_feeds, run_edgelite, run_litert, single_op_model

CUSTOM = "Convolution2DTransposeBias"
SELFIE = Path(__file__).parents[2].parent / "shared" / "models" / "selfie_segmentation.tflite"
EXAMPLES = settings(max_examples=25, deadline=None)

seeds = st.integers(0, 2**32 - 1)
paddings = st.sampled_from(list(Padding))
activations = st.sampled_from(list(Activation))  # TANH and SIGN_BIT included: LiteRT ignores them here
small = st.integers(1, 3)


def values(rng: np.random.Generator, shape) -> np.ndarray:
    """Multiples of 1/8 in [-2, 2]: exact products and sums in float32."""
    return (rng.integers(-16, 17, size=shape) / 8).astype(np.float32)


def rejects(opcode: str, operands: list, options, output_shapes: list, **kwargs) -> None:
    """edgelite refuses the model with an EdgeliteError (at load, prepare or invoke)."""
    model = single_op_model(opcode, operands, options, output_shapes=output_shapes, **kwargs)
    with pytest.raises(EdgeliteError):
        run_edgelite(model.to_bytes(), graph_feeds(operands))


# -- CONV_2D ---------------------------------------------------------------------------------------

@EXAMPLES
@given(seed=seeds, batch=st.integers(1, 2), h=st.integers(1, 8), w=st.integers(1, 8), groups=small,
       group_c=small, per_group=small, kh=small, kw=small, stride_h=small, stride_w=small,
       dilation_h=st.integers(1, 2), dilation_w=st.integers(1, 2), padding=paddings,
       activation=activations)
def test_conv_2d(seed, batch, h, w, groups, group_c, per_group, kh, kw, stride_h, stride_w, dilation_h,
                 dilation_w, padding, activation):
    if padding == Padding.VALID:
        assume((kh - 1) * dilation_h < h and (kw - 1) * dilation_w < w)
    rng = np.random.default_rng(seed)
    x = values(rng, (batch, h, w, groups * group_c))
    weights = values(rng, (groups * per_group, kh, kw, group_c))
    bias = values(rng, groups * per_group)
    options = Conv2DOptions(padding, stride_w, stride_h, activation, dilation_w, dilation_h)
    check_op("CONV_2D", [x, const(weights), const(bias)], options, version=6)


# -- DEPTHWISE_CONV_2D ----------------------------------------------------------------------------

@EXAMPLES
@given(seed=seeds, batch=st.integers(1, 2), h=st.integers(1, 8), w=st.integers(1, 8),
       in_c=st.integers(1, 4), multiplier=small, stated_multiplier=st.integers(0, 3), kh=small, kw=small,
       stride_h=small, stride_w=small, dilation_h=st.integers(1, 2), dilation_w=st.integers(1, 2),
       padding=paddings, activation=activations)
def test_depthwise_conv_2d(seed, batch, h, w, in_c, multiplier, stated_multiplier, kh, kw, stride_h,
                           stride_w, dilation_h, dilation_w, padding, activation):
    if padding == Padding.VALID:
        assume((kh - 1) * dilation_h < h and (kw - 1) * dilation_w < w)
    rng = np.random.default_rng(seed)
    x = values(rng, (batch, h, w, in_c))
    weights = values(rng, (1, kh, kw, in_c * multiplier))
    bias = values(rng, in_c * multiplier)
    # LiteRT derives the multiplier from the shapes; the redundant option may disagree.
    options = DepthwiseConv2DOptions(padding, stride_w, stride_h, stated_multiplier, activation,
                                     dilation_w, dilation_h)
    check_op("DEPTHWISE_CONV_2D", [x, const(weights), const(bias)], options, version=2)


@pytest.mark.parametrize("opcode", ["CONV_2D", "DEPTHWISE_CONV_2D"])
def test_conv_without_bias_is_zero_bias(opcode):
    """LiteRT insists on a bias for these; edgelite also runs a model that omits it."""
    rng = np.random.default_rng(7)
    x = values(rng, (1, 5, 6, 4))
    if opcode == "CONV_2D":
        weights, options = values(rng, (3, 3, 2, 4)), Conv2DOptions(Padding.SAME, 2, 1)
    else:
        weights, options = values(rng, (1, 3, 2, 8)), DepthwiseConv2DOptions(Padding.SAME, 2, 1, 2)
    zero_bias = const(np.zeros(weights.shape[0 if opcode == "CONV_2D" else 3], np.float32))
    expected = run_litert(single_op_model(opcode, [x, const(weights), zero_bias], options).to_bytes(), [x])
    ours = run_edgelite(single_op_model(opcode, [x, const(weights), None], options).to_bytes(), [x])
    np.testing.assert_array_equal(ours[0], expected[0])


# -- TRANSPOSE_CONV -------------------------------------------------------------------------------

@st.composite
def transpose_axis(draw, padding: Padding) -> tuple[int, int, int, int]:
    """Input extent, kernel, stride and an output extent whose forward conv gives the input's."""
    size, kernel, stride = draw(st.integers(1, 5)), draw(st.integers(1, 4)), draw(small)
    if padding == Padding.SAME:  # ceil(out / stride) == size
        out = draw(st.integers((size - 1) * stride + 1, size * stride))
    else:  # (out - kernel + stride) // stride == size
        out = draw(st.integers((size - 1) * stride + kernel, size * stride + kernel - 1))
    return size, kernel, stride, out


@EXAMPLES
@given(seed=seeds, batch=st.integers(1, 2), in_c=st.integers(1, 4), out_c=st.integers(1, 4),
       padding=paddings, data=st.data(), with_bias=st.booleans(), const_weights=st.booleans(),
       activation=activations)
def test_transpose_conv(seed, batch, in_c, out_c, padding, data, with_bias, const_weights, activation):
    in_h, kh, stride_h, out_h = data.draw(transpose_axis(padding))
    in_w, kw, stride_w, out_w = data.draw(transpose_axis(padding))
    rng = np.random.default_rng(seed)
    x = values(rng, (batch, in_h, in_w, in_c))
    weights = values(rng, (out_c, kh, kw, in_c))
    bias = const(values(rng, out_c)) if with_bias else None
    output_shape = const(np.array([batch, out_h, out_w, out_c], np.int32))
    options = TransposeConvOptions(padding, stride_w, stride_h, activation)
    check_op("TRANSPOSE_CONV", [output_shape, const(weights) if const_weights else weights, x, bias],
             options, version=4, output_dtypes=[np.float32])


def test_transpose_conv_dynamic_output_shape():
    """output_shape fed at run time: the output is a dynamic tensor sized at invoke."""
    rng = np.random.default_rng(3)
    x, weights = values(rng, (1, 3, 4, 2)), values(rng, (3, 3, 3, 2))
    output_shape = np.array([1, 6, 8, 3], np.int32)
    check_op("TRANSPOSE_CONV", [output_shape, const(weights), x, const(values(rng, 3))],
             TransposeConvOptions(Padding.SAME, 2, 2), version=3, output_dtypes=[np.float32])


# -- FULLY_CONNECTED ------------------------------------------------------------------------------

@EXAMPLES
@given(seed=seeds, shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), keep_num_dims=st.booleans(),
       other_in_size=st.integers(1, 6), units=st.integers(1, 5), with_bias=st.booleans(),
       const_weights=st.booleans(),
       activation=st.sampled_from([Activation.NONE, Activation.RELU, Activation.RELU_N1_TO_1,
                                   Activation.RELU6]))
def test_fully_connected(seed, shape, keep_num_dims, other_in_size, units, with_bias, const_weights,
                         activation):
    # Without keep_num_dims the input is flattened to [-1, in]; `in` need not divide its size
    # (TFLite then leaves the remainder unread).
    in_size = shape[-1] if keep_num_dims else other_in_size
    assume(keep_num_dims or np.prod(shape) >= in_size)
    rng = np.random.default_rng(seed)
    x = values(rng, shape)
    weights = values(rng, (units, in_size))
    bias = const(values(rng, units)) if with_bias else None
    options = FullyConnectedOptions(activation, keep_num_dims=keep_num_dims)
    check_op("FULLY_CONNECTED", [x, const(weights) if const_weights else weights, bias], options,
             version=6)


# -- BATCH_MATMUL ---------------------------------------------------------------------------------

@st.composite
def batch_dims(draw, out_batch: list[int]) -> list[int]:
    """Batch dims broadcastable to out_batch: a suffix of it with some dims set to 1."""
    keep = draw(st.integers(0, len(out_batch)))
    suffix = out_batch[len(out_batch) - keep:]
    return [d if draw(st.booleans()) else 1 for d in suffix]


@EXAMPLES
@given(seed=seeds, out_batch=st.lists(st.integers(1, 3), max_size=3), rows=st.integers(1, 4),
       depth=st.integers(1, 5), cols=st.integers(1, 4), adj_x=st.booleans(), adj_y=st.booleans(),
       const_rhs=st.booleans(), data=st.data())
def test_batch_matmul(seed, out_batch, rows, depth, cols, adj_x, adj_y, const_rhs, data):
    lhs_shape = [*data.draw(batch_dims(out_batch)), *((depth, rows) if adj_x else (rows, depth))]
    rhs_shape = [*data.draw(batch_dims(out_batch)), *((cols, depth) if adj_y else (depth, cols))]
    rng = np.random.default_rng(seed)
    lhs, rhs = values(rng, lhs_shape), values(rng, rhs_shape)
    check_op("BATCH_MATMUL", [lhs, const(rhs) if const_rhs else rhs], BatchMatMulOptions(adj_x, adj_y),
             version=4)


# -- Convolution2DTransposeBias (MediaPipe custom op) ---------------------------------------------

def mediapipe_reference(x, weights, bias, padding: int, stride_w: int, stride_h: int) -> np.ndarray:
    """Independent numpy statement of MediaPipe's transpose_conv_bias.cc: scatter every input
    pixel through the kernel onto a full canvas, then crop the SAME padding."""
    n, in_h, in_w, _ = x.shape
    out_c, kh, kw, _ = weights.shape
    pads = [max(0, k - (size - 1) % s - 1) if padding == 1 else 0
            for k, size, s in ((kh, in_h, stride_h), (kw, in_w, stride_w))]
    canvas = np.zeros((n, (in_h - 1) * stride_h + kh, (in_w - 1) * stride_w + kw, out_c), np.float64)
    for y in range(in_h):
        for x_ in range(in_w):
            patch = np.einsum("nc,oijc->nijo", x[:, y, x_].astype(np.float64), weights)
            canvas[:, y * stride_h:y * stride_h + kh, x_ * stride_w:x_ * stride_w + kw] += patch
    out_h, out_w = canvas.shape[1] - pads[0], canvas.shape[2] - pads[1]
    top, left = pads[0] // 2, pads[1] // 2
    return (canvas[:, top:top + out_h, left:left + out_w] + bias).astype(np.float32)


@EXAMPLES
@given(seed=seeds, batch=st.integers(1, 2), in_h=st.integers(1, 5), in_w=st.integers(1, 5),
       in_c=st.integers(1, 4), out_c=st.integers(1, 4), kh=st.integers(1, 4), kw=st.integers(1, 4),
       stride_h=small, stride_w=small, padding=st.sampled_from([0, 1, 2]))
def test_convolution2d_transpose_bias(seed, batch, in_h, in_w, in_c, out_c, kh, kw, stride_h, stride_w,
                                      padding):
    rng = np.random.default_rng(seed)
    x = values(rng, (batch, in_h, in_w, in_c))
    weights, bias = values(rng, (out_c, kh, kw, in_c)), values(rng, out_c)
    params = TransposeConvParams(padding, stride_w, stride_h)
    model = single_op_model("CUSTOM", [x, const(weights), const(bias)], custom_code=CUSTOM,
                            custom_options=params.to_bytes())
    (ours,) = run_edgelite(model.to_bytes(), [x])
    np.testing.assert_allclose(ours, mediapipe_reference(x, weights, bias, padding, stride_w, stride_h),
                               rtol=1e-5, atol=1e-6)
    # The same maths is LiteRT's TRANSPOSE_CONV with a bias, asked for MediaPipe's output shape.
    builtin_padding = Padding.SAME if padding == 1 else Padding.VALID
    output_shape = const(np.array(ours.shape, np.int32))
    builtin = single_op_model("TRANSPOSE_CONV", [output_shape, const(weights), x, const(bias)],
                              TransposeConvOptions(builtin_padding, stride_w, stride_h), version=3,
                              output_dtypes=[np.float32])
    (theirs,) = run_litert(builtin.to_bytes(), [x])
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_transpose_conv_params_layout():
    """Three little-endian int32: TfLitePadding (1 = SAME), stride_width, stride_height."""
    params = TransposeConvParams.from_bytes(bytes.fromhex("010000000300000002000000"))
    assert params == TransposeConvParams(padding=1, stride_width=3, stride_height=2)
    assert params.to_bytes().hex() == "010000000300000002000000"


@pytest.mark.skipif(not SELFIE.exists(), reason="selfie_segmentation.tflite not available")
def test_selfie_segmentation_matches_litert_with_builtin_transpose_conv():
    """MediaPipe's model end to end: edgelite runs it as is; LiteRT runs a copy whose
    Convolution2DTransposeBias nodes are rewritten as TRANSPOSE_CONV with bias."""
    import edgelite

    ours = edgelite.Interpreter(model_path=SELFIE, experimental_preserve_all_tensors=True)
    ours.allocate_tensors()
    model = edgelite.load(SELFIE)
    graph = model.subgraphs[0]
    custom = [k for k, op in enumerate(graph.operators) if op.custom_code == CUSTOM]
    assert custom
    for k in custom:
        op = graph.operators[k]
        params = TransposeConvParams.from_bytes(op.custom_options)
        out = graph.tensors[op.outputs[0]]
        assert ours.plan.shapes[op.outputs[0]] == out.shape  # the shape function agrees with the file
        graph.tensors.append(Tensor(f"output_shape_{k}", (4,), TensorType.INT32,
                                    model.add_buffer(np.array(out.shape, np.int32))))
        x, weights, bias = op.inputs
        padding = Padding.SAME if params.padding == 1 else Padding.VALID
        graph.operators[k] = Operator("TRANSPOSE_CONV", (len(graph.tensors) - 1, weights, x, bias),
                                      op.outputs, TransposeConvOptions(padding, params.stride_width,
                                                                       params.stride_height), version=3)
    image = np.random.default_rng(0).random(ours.get_input_details()[0]["shape"]).astype(np.float32)
    (mask,) = run_edgelite(model.to_bytes(), [image])  # the rewritten copy runs in edgelite too
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    theirs = litert.Interpreter(model_content=model.to_bytes(), experimental_preserve_all_tensors=True,
                                experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    for interpreter in (ours, theirs):
        interpreter.allocate_tensors()
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image)
        interpreter.invoke()
    # ~250 float ops in a row accumulate in different orders: compare relative to each tensor's scale.
    for k in custom:
        index = graph.operators[k].outputs[0]
        a, b = ours.get_tensor(index), theirs.get_tensor(index)
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5 * np.abs(b).max())
    np.testing.assert_allclose(ours.get_tensor(ours.get_output_details()[0]["index"]), mask, atol=1e-6)


# -- models edgelite must refuse ------------------------------------------------------------------

def test_rejects_bad_models():
    rng = np.random.default_rng(0)
    x = values(rng, (1, 4, 4, 4))
    # CONV_2D: input depth 4 is not a multiple of filter depth 3.
    rejects("CONV_2D", [x, const(values(rng, (2, 3, 3, 3))), const(values(rng, 2))],
            Conv2DOptions(), [(1, 4, 4, 2)])
    # CONV_2D: 3 filters cannot be split into 2 groups.
    rejects("CONV_2D", [x, const(values(rng, (3, 3, 3, 2))), const(values(rng, 3))],
            Conv2DOptions(), [(1, 4, 4, 3)])
    # CONV_2D: bias size differs from the filter count; stride 0.
    rejects("CONV_2D", [x, const(values(rng, (2, 3, 3, 4))), const(values(rng, 3))],
            Conv2DOptions(), [(1, 4, 4, 2)])
    rejects("CONV_2D", [x, const(values(rng, (2, 3, 3, 4))), const(values(rng, 2))],
            Conv2DOptions(stride_w=0), [(1, 4, 4, 2)])
    # DEPTHWISE_CONV_2D: filter depth 6 is not a multiple of input depth 4; filter dim 0 is not 1.
    rejects("DEPTHWISE_CONV_2D", [x, const(values(rng, (1, 3, 3, 6))), const(values(rng, 6))],
            DepthwiseConv2DOptions(Padding.SAME, 1, 1, 1), [(1, 4, 4, 6)])
    rejects("DEPTHWISE_CONV_2D", [x, const(values(rng, (2, 3, 3, 4))), const(values(rng, 4))],
            DepthwiseConv2DOptions(Padding.SAME, 1, 1, 1), [(1, 4, 4, 4)])
    # TRANSPOSE_CONV: an output_shape whose forward conv is not the input's extent.
    rejects("TRANSPOSE_CONV", [const(np.array([1, 5, 8, 2], np.int32)), const(values(rng, (2, 3, 3, 4))), x],
            TransposeConvOptions(Padding.SAME, 2, 2), [(1, 5, 8, 2)], output_dtypes=[np.float32])
    # FULLY_CONNECTED: keep_num_dims with a last dimension that is not the weights' input size.
    rejects("FULLY_CONNECTED", [x, const(values(rng, (3, 16))), None],
            FullyConnectedOptions(keep_num_dims=True), [(1, 4, 4, 3)])
    # BATCH_MATMUL: contracted sizes differ; batch dims do not broadcast.
    rejects("BATCH_MATMUL", [values(rng, (2, 3, 4)), values(rng, (2, 5, 6))], BatchMatMulOptions(),
            [(2, 3, 6)])
    rejects("BATCH_MATMUL", [values(rng, (2, 3, 4)), values(rng, (3, 4, 6))], BatchMatMulOptions(),
            [(2, 3, 6)])
    # Convolution2DTransposeBias: custom options too short; weights depth differs from the input's.
    for options, weights in [(b"\x01\x00\x00\x00", values(rng, (2, 2, 2, 4))),
                             (TransposeConvParams().to_bytes(), values(rng, (2, 2, 2, 3)))]:
        rejects("CUSTOM", [x, const(weights), const(values(rng, 2))], None, [(1, 8, 8, 2)],
                custom_code=CUSTOM, custom_options=options)


@pytest.mark.parametrize("options, error", [
    (FullyConnectedOptions(weights_format=WeightsFormat.SHUFFLED4x16INT8), UnsupportedOpError),
    (FullyConnectedOptions(Activation.TANH), ModelError),  # LiteRT's float kernel refuses it too
])
def test_fully_connected_refuses(options, error):
    rng = np.random.default_rng(1)
    x = values(rng, (2, 4))
    model = single_op_model("FULLY_CONNECTED", [x, const(values(rng, (3, 4))), None], options,
                            output_shapes=[(2, 3)])
    with pytest.raises(error):
        run_edgelite(model.to_bytes(), [x])
