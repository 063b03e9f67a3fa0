"""Quantized convolutions against LiteRT, bit-exact: CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV
in int8 (per-tensor and per-channel weights, int32 bias, any input/output zero point) and int16x8
(symmetric int16 activations, int8 weights, int64 bias or int32 bias), plus the hybrid
(dynamic-range) kernels of all three: float32 input, int8 weights, float32 output -- also
compared exactly, as edgelite follows LiteRT's float operation order.

Scales are drawn so that outputs spread over the integer range rather than all saturating: the
output scale is the accumulator's typical real magnitude divided by a drawn number of output steps
(scaled up for int16 outputs).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from edgelite.errors import EdgeliteError
from edgelite.model.ir import Quantization, TensorType
from edgelite.ops._common import Activation, Padding
from edgelite.ops.conv_2d import Conv2DOptions
from edgelite.ops.depthwise_conv_2d import DepthwiseConv2DOptions
from edgelite.ops.transpose_conv import TransposeConvOptions
from tests.ops.harness import Input, check_op, const, graph_feeds, run_edgelite, single_op_model

EXACT = {"rtol": 0, "atol": 0}
EXAMPLES = settings(max_examples=30, deadline=None)

seeds = st.integers(0, 2**32 - 1)
paddings = st.sampled_from(list(Padding))
activations = st.sampled_from(list(Activation))
small = st.integers(1, 3)
scales = st.floats(1e-3, 1.0)
steps = st.floats(8.0, 400.0)  # output integer steps per typical accumulator magnitude
zero_points = st.integers(-128, 127)
int16_biases = st.sampled_from([np.int64, np.int32])


def integers(rng: np.random.Generator, shape, dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)


def weights_and_scales(rng: np.random.Generator, shape, axis: int, per_channel: bool, base: float):
    """Symmetric int8 weights (-127..127) and their Quantization, per channel along `axis` or not."""
    weights = rng.integers(-127, 128, size=shape).astype(np.int8)
    if per_channel:
        scale = (base * rng.uniform(0.25, 4.0, shape[axis])).astype(np.float32)
        return weights, Quantization.of(scale, 0, axis)
    return weights, Quantization.of(base, 0)


def output_scale(x_scale: float, w_scale: float, depth: int, dtype, output_steps: float) -> float:
    """An output scale for which a typical accumulator spans `output_steps` int8 steps (as many
    int16 steps times 256)."""
    typical = np.iinfo(dtype).max * 73.0 * np.sqrt(max(depth, 1)) / 2
    steps_in_type = output_steps * (np.iinfo(dtype).max + 1) / 128
    return float(x_scale * w_scale * typical / steps_in_type)


def bias_values(rng: np.random.Generator, channels: int, x_dtype, depth: int, dtype) -> np.ndarray:
    spread = np.iinfo(x_dtype).max * 73.0 * np.sqrt(max(depth, 1))
    return rng.normal(0, spread, channels).round().astype(dtype)


def valid_window(padding, kernel, dilation, size) -> bool:
    return padding == Padding.SAME or (kernel - 1) * dilation < size


# -- CONV_2D --------------------------------------------------------------------------------------

conv_geometry = st.fixed_dictionaries({
    "batch": st.integers(1, 2), "h": st.integers(1, 7), "w": st.integers(1, 7), "groups": st.integers(1, 2),
    "group_c": st.integers(1, 4), "per_group": st.integers(1, 4), "kh": small, "kw": small,
    "stride_h": small, "stride_w": small, "dilation_h": st.integers(1, 2), "dilation_w": st.integers(1, 2),
    "padding": paddings, "activation": activations})


def conv_operands(rng, g, x_dtype, x_quant, per_channel, w_scale, bias_dtype):
    x = integers(rng, (g["batch"], g["h"], g["w"], g["groups"] * g["group_c"]), x_dtype)
    out_c, depth = g["groups"] * g["per_group"], g["kh"] * g["kw"] * g["group_c"]
    weights, w_quant = weights_and_scales(rng, (out_c, g["kh"], g["kw"], g["group_c"]), 0, per_channel,
                                          w_scale)
    bias = bias_values(rng, out_c, x_dtype, depth, bias_dtype)
    bias_quant = Quantization.of(x_quant.scale[0] * w_quant.scale, 0)
    return [Input(x, x_quant), const(weights, w_quant), const(bias, bias_quant)], depth


def conv_options(g, quantized_bias_type: int = 0) -> Conv2DOptions:
    return Conv2DOptions(g["padding"], g["stride_w"], g["stride_h"], g["activation"], g["dilation_w"],
                         g["dilation_h"], quantized_bias_type)


@EXAMPLES
@given(seed=seeds, g=conv_geometry, per_channel=st.booleans(), x_scale=scales, w_scale=scales,
       output_steps=steps, x_zero=zero_points, out_zero=zero_points)
def test_conv_2d_int8(seed, g, per_channel, x_scale, w_scale, output_steps, x_zero, out_zero):
    assume(valid_window(g["padding"], g["kh"], g["dilation_h"], g["h"]))
    assume(valid_window(g["padding"], g["kw"], g["dilation_w"], g["w"]))
    rng = np.random.default_rng(seed)
    operands, depth = conv_operands(rng, g, np.int8, Quantization.of(x_scale, x_zero), per_channel,
                                    w_scale, np.int32)
    out_quant = Quantization.of(output_scale(x_scale, w_scale, depth, np.int8, output_steps), out_zero)
    check_op("CONV_2D", operands, conv_options(g), output_dtypes=[np.int8], output_quant=[out_quant],
             version=6 if g["groups"] > 1 else 3, **EXACT)


@EXAMPLES
@given(seed=seeds, g=conv_geometry, per_channel=st.booleans(), x_scale=scales, w_scale=scales,
       output_steps=steps, bias_dtype=int16_biases)
def test_conv_2d_int16(seed, g, per_channel, x_scale, w_scale, output_steps, bias_dtype):
    assume(valid_window(g["padding"], g["kh"], g["dilation_h"], g["h"]))
    assume(valid_window(g["padding"], g["kw"], g["dilation_w"], g["w"]))
    rng = np.random.default_rng(seed)
    operands, depth = conv_operands(rng, g, np.int16, Quantization.of(x_scale, 0), per_channel, w_scale,
                                    bias_dtype)
    out_quant = Quantization.of(output_scale(x_scale, w_scale, depth, np.int16, output_steps), 0)
    # An int32 bias must be declared: LiteRT reads int16 kernels' bias as int64 otherwise.
    bias_type = TensorType.INT32 if bias_dtype == np.int32 else 0
    check_op("CONV_2D", operands, conv_options(g, bias_type), output_dtypes=[np.int16],
             output_quant=[out_quant], version=8, **EXACT)


@EXAMPLES
@given(seed=seeds, g=conv_geometry, scale_kind=st.sampled_from(["per_tensor", "per_channel", "equal"]),
       w_scale=scales, x_range=st.floats(0.01, 100.0), x_offset=st.floats(-1.0, 1.0))
def test_conv_2d_hybrid(seed, g, scale_kind, w_scale, x_range, x_offset):
    """Float input, int8 weights: per-channel scales that differ run LiteRT's asymmetric per-batch
    input quantization; one scale (or all equal) the symmetric one."""
    assume(valid_window(g["padding"], g["kh"], g["dilation_h"], g["h"]))
    assume(valid_window(g["padding"], g["kw"], g["dilation_w"], g["w"]))
    assume(g["groups"] == 1 or scale_kind == "per_channel")  # LiteRT fails on other grouped hybrids
    rng = np.random.default_rng(seed)
    shape = (g["batch"], g["h"], g["w"], g["groups"] * g["group_c"])
    x = (rng.uniform(-1, 1, shape) + x_offset).astype(np.float32) * np.float32(x_range)
    out_c = g["groups"] * g["per_group"]
    weights, w_quant = weights_and_scales(rng, (out_c, g["kh"], g["kw"], g["group_c"]), 0,
                                          scale_kind != "per_tensor", w_scale)
    if scale_kind == "equal":
        w_quant = Quantization.of(np.full(out_c, w_scale, np.float32), 0, 0)
    bias = rng.normal(0, x_range * w_scale * 100, out_c).astype(np.float32)
    version = 6 if g["groups"] > 1 else 5 if scale_kind == "per_channel" else 2
    check_op("CONV_2D", [x, const(weights, w_quant), const(bias)], conv_options(g),
             output_dtypes=[np.float32], version=version, **EXACT)



@pytest.mark.parametrize("opcode", ["CONV_2D", "DEPTHWISE_CONV_2D"])
def test_hybrid_input_rounds_before_adding_the_zero_point(opcode):
    """Row [0, 255]: scale 1, zero point -128. 2.5000002 - 128 rounds to -125.5 in float32, so
    round(zero_point + x) would give -126 where LiteRT's round(x) + zero_point gives -125."""
    x = np.array([0.0, 255.0, np.nextafter(np.float32(2.5), np.float32(3)), -0.0] * 2, np.float32)
    x = x.reshape(1, 1, 8, 1)
    weights = np.array([1, -3], np.int8).reshape((2, 1, 1, 1) if opcode == "CONV_2D" else (1, 1, 1, 2))
    w_quant = Quantization.of([0.5, 0.25], 0, 0 if opcode == "CONV_2D" else 3)
    options = Conv2DOptions(Padding.VALID) if opcode == "CONV_2D" else \
        DepthwiseConv2DOptions(Padding.VALID, 1, 1, 2)
    check_op(opcode, [x, const(weights, w_quant), const(np.zeros(2, np.float32))], options,
             output_dtypes=[np.float32], version=6, **EXACT)

# -- DEPTHWISE_CONV_2D ----------------------------------------------------------------------------

depthwise_geometry = st.fixed_dictionaries({
    "batch": st.integers(1, 2), "h": st.integers(1, 7), "w": st.integers(1, 7), "in_c": st.integers(1, 4),
    "multiplier": small, "kh": small, "kw": small, "stride_h": small, "stride_w": small,
    "dilation_h": st.integers(1, 2), "dilation_w": st.integers(1, 2), "padding": paddings,
    "activation": activations})


def depthwise_case(g) -> tuple[DepthwiseConv2DOptions, int, int]:
    assume(valid_window(g["padding"], g["kh"], g["dilation_h"], g["h"]))
    assume(valid_window(g["padding"], g["kw"], g["dilation_w"], g["w"]))
    options = DepthwiseConv2DOptions(g["padding"], g["stride_w"], g["stride_h"], g["multiplier"],
                                     g["activation"], g["dilation_w"], g["dilation_h"])
    return options, g["in_c"] * g["multiplier"], g["kh"] * g["kw"]


@EXAMPLES
@given(seed=seeds, g=depthwise_geometry, x_dtype=st.sampled_from([np.int8, np.int16]),
       per_channel=st.booleans(), x_scale=scales, w_scale=scales, output_steps=steps, x_zero=zero_points,
       out_zero=zero_points)
def test_depthwise_conv_2d_quantized(seed, g, x_dtype, per_channel, x_scale, w_scale, output_steps, x_zero,
                                     out_zero):
    options, out_c, depth = depthwise_case(g)
    if x_dtype == np.int16:
        x_zero = out_zero = 0
    rng = np.random.default_rng(seed)
    x = integers(rng, (g["batch"], g["h"], g["w"], g["in_c"]), x_dtype)
    weights, w_quant = weights_and_scales(rng, (1, g["kh"], g["kw"], out_c), 3, per_channel, w_scale)
    bias = bias_values(rng, out_c, x_dtype, depth, np.int32 if x_dtype == np.int8 else np.int64)
    out_quant = Quantization.of(output_scale(x_scale, w_scale, depth, x_dtype, output_steps), out_zero)
    check_op("DEPTHWISE_CONV_2D", [Input(x, Quantization.of(x_scale, x_zero)), const(weights, w_quant),
                                   const(bias, Quantization.of(x_scale * w_quant.scale, 0))],
             options, output_dtypes=[x_dtype], output_quant=[out_quant],
             version=3 if x_dtype == np.int8 else 5, **EXACT)


@EXAMPLES
@given(seed=seeds, g=depthwise_geometry, w_scale=scales, x_range=st.floats(0.01, 100.0),
       x_offset=st.floats(-1.0, 1.0))
def test_depthwise_conv_2d_hybrid(seed, g, w_scale, x_range, x_offset):
    options, out_c, _ = depthwise_case(g)
    rng = np.random.default_rng(seed)
    x = (rng.uniform(-1, 1, (g["batch"], g["h"], g["w"], g["in_c"])) + x_offset).astype(np.float32)
    x *= np.float32(x_range)
    weights, w_quant = weights_and_scales(rng, (1, g["kh"], g["kw"], out_c), 3, True, w_scale)
    bias = rng.normal(0, x_range * w_scale * 30, out_c).astype(np.float32)
    check_op("DEPTHWISE_CONV_2D", [x, const(weights, w_quant), const(bias)], options,
             output_dtypes=[np.float32], version=6, **EXACT)


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


@st.composite
def transpose_geometry(draw) -> dict:
    padding = draw(paddings)
    in_h, kh, stride_h, out_h = draw(transpose_axis(padding))
    in_w, kw, stride_w, out_w = draw(transpose_axis(padding))
    return {"batch": draw(st.integers(1, 2)), "in_c": draw(st.integers(1, 4)),
            "out_c": draw(st.integers(1, 10)), "in_hw": (in_h, in_w), "out_hw": (out_h, out_w),
            "kernel": (kh, kw), "stride": (stride_h, stride_w), "padding": padding,
            "activation": draw(activations), "with_bias": draw(st.booleans())}


def transpose_operands(g, x_operand, weights, w_quant, bias, bias_quant=None) -> list:
    output_shape = const(np.array([g["batch"], *g["out_hw"], g["out_c"]], np.int32))
    return [output_shape, const(weights, w_quant), x_operand,
            const(bias, bias_quant) if g["with_bias"] else None]


def transpose_options(g, quantized_bias_type: int = 0) -> TransposeConvOptions:
    return TransposeConvOptions(g["padding"], g["stride"][1], g["stride"][0], g["activation"],
                                quantized_bias_type)


@EXAMPLES
@given(seed=seeds, g=transpose_geometry(), x_dtype=st.sampled_from([np.int8, np.int16]),
       per_channel=st.booleans(), x_scale=scales, w_scale=scales, output_steps=steps, x_zero=zero_points,
       out_zero=zero_points, int16_bias=int16_biases)
def test_transpose_conv_quantized(seed, g, x_dtype, per_channel, x_scale, w_scale, output_steps, x_zero,
                                  out_zero, int16_bias):
    if x_dtype == np.int16:
        x_zero = out_zero = 0
    rng = np.random.default_rng(seed)
    x = integers(rng, (g["batch"], *g["in_hw"], g["in_c"]), x_dtype)
    weights, w_quant = weights_and_scales(rng, (g["out_c"], *g["kernel"], g["in_c"]), 0, per_channel,
                                          w_scale)
    # Each output sums about kh * kw * in_c / (stride_h * stride_w) products.
    depth = max(1, g["kernel"][0] * g["kernel"][1] * g["in_c"] // (g["stride"][0] * g["stride"][1]))
    bias_dtype = np.int32 if x_dtype == np.int8 else int16_bias
    bias = bias_values(rng, g["out_c"], x_dtype, depth, bias_dtype)
    out_quant = Quantization.of(output_scale(x_scale, w_scale, depth, x_dtype, output_steps), out_zero)
    bias_type = TensorType.INT32 if x_dtype == np.int16 and bias_dtype == np.int32 else 0
    operands = transpose_operands(g, Input(x, Quantization.of(x_scale, x_zero)), weights, w_quant, bias,
                                  Quantization.of(x_scale * w_quant.scale, 0))
    check_op("TRANSPOSE_CONV", operands, transpose_options(g, bias_type), output_dtypes=[x_dtype],
             output_quant=[out_quant], version=5, **EXACT)


@EXAMPLES
@given(seed=seeds, g=transpose_geometry(), per_channel=st.booleans(), w_scale=scales,
       x_range=st.floats(0.01, 100.0), x_offset=st.floats(-1.0, 1.0))
def test_transpose_conv_hybrid(seed, g, per_channel, w_scale, x_range, x_offset):
    rng = np.random.default_rng(seed)
    x = (rng.uniform(-1, 1, (g["batch"], *g["in_hw"], g["in_c"])) + x_offset).astype(np.float32)
    x *= np.float32(x_range)
    weights, w_quant = weights_and_scales(rng, (g["out_c"], *g["kernel"], g["in_c"]), 0, per_channel,
                                          w_scale)
    bias = rng.normal(0, x_range * w_scale * 30, g["out_c"]).astype(np.float32)
    check_op("TRANSPOSE_CONV", transpose_operands(g, x, weights, w_quant, bias), transpose_options(g),
             output_dtypes=[np.float32], version=4, **EXACT)


# -- models edgelite must refuse ------------------------------------------------------------------

def rejects(opcode: str, operands: list, options, output_shape, output_dtype, output_quant=None,
            match: str = "") -> None:
    model = single_op_model(opcode, operands, options, output_shapes=[output_shape],
                            output_dtypes=[output_dtype], output_quant=[output_quant], version=8)
    with pytest.raises(EdgeliteError, match=match):
        run_edgelite(model.to_bytes(), graph_feeds(operands))


def test_rejects_bad_quantized_convs():
    rng = np.random.default_rng(0)
    x8, x16 = integers(rng, (1, 4, 4, 2), np.int8), integers(rng, (1, 4, 4, 2), np.int16)
    weights = integers(rng, (3, 1, 1, 2), np.int8)
    w_quant, out_quant = Quantization.of(0.1), Quantization.of(0.5)
    b32, b64 = const(np.zeros(3, np.int32)), const(np.zeros(3, np.int64))
    conv = Conv2DOptions(Padding.VALID)
    shape = (1, 4, 4, 3)
    # int16 activations must be symmetric.
    rejects("CONV_2D", [Input(x16, Quantization.of(0.1, 3)), const(weights, w_quant), b64], conv, shape,
            np.int16, out_quant, "symmetric")
    # An int32 bias with int16 activations needs quantized_bias_type INT32 (LiteRT reads int64).
    rejects("CONV_2D", [Input(x16, Quantization.of(0.1)), const(weights, w_quant), b32], conv, shape,
            np.int16, out_quant, "quantized_bias_type")
    # Weights must be symmetric; per-channel scales must lie on the output-channel axis.
    rejects("CONV_2D", [Input(x8, Quantization.of(0.1)), const(weights, Quantization.of(0.1, 2)), b32],
            conv, shape, np.int8, out_quant, "zero points")
    rejects("CONV_2D", [Input(x8, Quantization.of(0.1)), const(weights, Quantization.of([0.1, 0.2], 0, 3)),
                        b32], conv, shape, np.int8, out_quant, "scales")
    # Quantized operands need quantization parameters; int8 takes an int32 bias; uint8 is not done.
    rejects("CONV_2D", [x8, const(weights, w_quant), b32], conv, shape, np.int8, out_quant, "quantization")
    rejects("CONV_2D", [Input(x8, Quantization.of(0.1)), const(weights, w_quant), b64], conv, shape,
            np.int8, out_quant, "bias")
    rejects("CONV_2D", [Input(x8.view(np.uint8), Quantization.of(0.1, 128)),
                        const(weights.view(np.uint8), Quantization.of(0.1, 128)), b32], conv, shape,
            np.uint8, out_quant, "UINT8")
    # LiteRT's int16 and hybrid depthwise kernels read depth_multiplier from the options.
    dw_weights, dw_bias = integers(rng, (1, 1, 1, 4), np.int8), const(np.zeros(4, np.int64))
    rejects("DEPTHWISE_CONV_2D", [Input(x16, Quantization.of(0.1)), const(dw_weights, w_quant), dw_bias],
            DepthwiseConv2DOptions(Padding.VALID, 1, 1, 1), (1, 4, 4, 4), np.int16, out_quant,
            "depth_multiplier")
    # TRANSPOSE_CONV: int8 input with float weights.
    rejects("TRANSPOSE_CONV", [const(np.array([1, 4, 4, 3], np.int32)), const(weights.astype(np.float32)),
                               Input(x8, Quantization.of(0.1)), None],
            TransposeConvOptions(Padding.VALID, 1, 1), shape, np.int8, out_quant, "FLOAT32 weights")


# -- the TensorFlow converter's models, node by node ----------------------------------------------

SHARED = Path(__file__).parents[2].parent / "shared" / "models"
CONVS = {"CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV"}


@pytest.mark.parametrize("name", ["mnv2_035_96_int8.tflite", "digits_cnn_int8.tflite",
                                  "digits_cnn_dynamic_int8.tflite"])
def test_converter_models_conv_nodes(name):
    """Every conv node with int8 weights in a converter-made model, run alone on the input LiteRT
    gave it, matches LiteRT's output for that node exactly (int8 and hybrid alike)."""
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    import edgelite

    model = edgelite.load(str(path))
    graph = model.subgraphs[0]
    oracle = litert.Interpreter(model_path=str(path), experimental_preserve_all_tensors=True,
                                experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    oracle.allocate_tensors()
    detail = oracle.get_input_details()[0]
    x = np.random.default_rng(0).random(detail["shape"]).astype(np.float32)
    if detail["dtype"] != np.float32:
        scale, zero_point = detail["quantization"]
        x = np.clip(np.round(x / scale) + zero_point, -128, 127).astype(detail["dtype"])
    oracle.set_tensor(detail["index"], x)
    oracle.invoke()
    nodes = [op for op in graph.operators
             if op.opcode in CONVS and graph.tensors[op.inputs[1]].type == TensorType.INT8]
    assert nodes
    for op in nodes:
        operands = []
        for i in op.inputs:
            tensor = graph.tensors[i]
            value = model.constant(tensor)
            operands.append(const(value, tensor.quantization) if value is not None
                            else Input(oracle.get_tensor(i).copy(), tensor.quantization))
        out = graph.tensors[op.outputs[0]]
        single = single_op_model(op.opcode, operands, op.options, output_shapes=[out.shape],
                                 output_dtypes=[out.dtype], output_quant=[out.quantization],
                                 version=op.version)
        (ours,) = run_edgelite(single.to_bytes(), graph_feeds(operands))
        np.testing.assert_array_equal(ours, oracle.get_tensor(op.outputs[0]), err_msg=out.name)
