"""The native engine's int8 kernels against edgelite's numpy reference, at every dispatch level
this CPU has: results must be EQUAL (the reference is bit-exact with LiteRT, so the engine is too).

Each case is a one-op model run on the reference and on the native executor, asserting the node
was lowered to C. Hypothesis draws shapes, windows, scales and zero points; channel counts cross
the kernels' 8- and 16-channel blocks so that vector bodies and tails are both exercised. The
shared int8 models and a model quantized by edgelite.quantize must match exactly and run wholly
natively.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.native.test_kernels import pad_then_conv_model, run, values
from tests.ops import test_quant_movement as movement
from tests.ops.harness import Input, const, graph_feeds, single_op_model

from edgelite.model.ir import Quantization
from edgelite.ops._common import Activation, Padding
from edgelite.ops._pool import Pool2DOptions
from edgelite.ops._reduce import ReducerOptions
from edgelite.ops.add import AddOptions
from edgelite.ops.concatenation import ConcatenationOptions
from edgelite.ops.conv_2d import Conv2DOptions
from edgelite.ops.depthwise_conv_2d import DepthwiseConv2DOptions
from edgelite.ops.fully_connected import FullyConnectedOptions
from edgelite.ops.mul import MulOptions
from edgelite.ops.softmax import SoftmaxOptions
from edgelite.ops.sub import SubOptions
from edgelite.optimize.quantize.api import quantize
from edgelite.runtime import native, native_int8, native_qgemm
from edgelite.runtime.interpreter import Interpreter

pytestmark = pytest.mark.skipif(native._engine is None, reason="the native extension is not built "
                                "(no C compiler at install time); the reference executor runs instead")
MODELS = Path(__file__).parents[2].parent / "shared" / "models"
INT8_MODELS = sorted(MODELS.glob("*int8*.tflite")) if MODELS.is_dir() else []
SETTINGS = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ACTIVATIONS = st.sampled_from([Activation.NONE, Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1])
zero_points = st.integers(-128, 127)
seeds = st.integers(0, 2**32 - 1)


@pytest.fixture(params=["pairs", "quads"])
def gemm_format(request, monkeypatch):
    """Pack QGEMM weights as int16 pairs (qgemm kernels) or int8 quads (qgemmc4) at every level."""
    monkeypatch.setattr(native_qgemm, "FORMAT", request.param)
    return request.param


@pytest.fixture(params=["pairs", "quads"])
def dw_format(request, monkeypatch):
    """Pack DEPTHWISE_CONV_2D weights as int16 tap pairs (qdwconv) or int8 tap quads (qdwconvc4)."""
    monkeypatch.setattr(native_qgemm, "DW_FORMAT", request.param)
    return request.param


def check_exact(opcode: str, operands: list, options=None, out_quant: Quantization | None = None,
                out_dtype=np.int8, threads: int | None = None) -> None:
    model = single_op_model(opcode, operands, options, output_dtypes=[out_dtype],
                            output_quant=[out_quant] if out_quant is not None else None)
    feeds = graph_feeds(operands)
    want, _ = run(model.to_bytes(), feeds, "reference")
    got, executor = run(model.to_bytes(), feeds, "native", threads)
    assert all(executor.native), f"{opcode} was not lowered to the native engine"
    for a, b in zip(got, want, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


# `ties` (see Quant): small operands (|x| <= 4, |w| <= 3) and power-of-two scales make the
# requantization multipliers 2^-1 .. 2^-3, so many accumulators fall on rounding ties, where ruy's
# half-up and gemmlowp's half-away-from-zero roundings differ (on negative values: no fused
# activation then): the kernels must use the reference's rounding for each channel.


def int8s(rng: np.random.Generator, shape, small: bool = False) -> np.ndarray:
    if small:
        return rng.integers(-4, 5, size=shape).astype(np.int8)
    x = rng.integers(-128, 128, size=shape).astype(np.int8)
    x.reshape(-1)[:2] = (-128, 127)[:x.size]
    return x


scales = st.floats(1e-3, 1.0)
steps = st.floats(8.0, 400.0)


@dataclass
class Quant:
    """A conv-like case's quantization: scales, zero points, per-channel weights, tie mode."""

    x_scale: float
    w_scale: float
    x_zero: int
    out_zero: int
    per_channel: bool
    ties: bool
    steps: float

    def activation(self, activation: Activation) -> Activation:
        return Activation.NONE if self.ties else activation


@st.composite
def quants(draw) -> Quant:
    ties = draw(st.booleans())
    x_scale, w_scale, x_zero = draw(scales), draw(scales), draw(zero_points)
    if ties:
        x_scale, w_scale, x_zero = tie_scale(x_scale), tie_scale(w_scale), x_zero % 5 - 2
    return Quant(x_scale, w_scale, x_zero, draw(zero_points), draw(st.booleans()), ties, draw(steps))


def tie_scale(scale: float) -> float:
    return float(2.0 ** np.floor(np.log2(scale)))


def conv_case(rng, q: Quant, x_shape, w_shape, axis: int, depth: int, with_bias: bool = True,
              w_zero: int = 0) -> tuple[list, Quantization]:
    """[input, weights, bias or None] and the output quantization of a conv-like op."""
    values = rng.integers(-3 if q.ties else -127, 4 if q.ties else 128, size=w_shape).astype(np.int8)
    if q.per_channel:
        channels = w_shape[axis]
        factors = 2.0 ** -rng.integers(0, 3, channels) if q.ties else rng.uniform(0.25, 4.0, channels)
        w_quant = Quantization.of((q.w_scale * factors).astype(np.float32), 0, axis)
    else:
        w_quant = Quantization.of(q.w_scale, w_zero)
    typical = (4 * 3.0 if q.ties else 127 * 73.0) * np.sqrt(max(depth, 1))
    bias = None
    if with_bias:
        bias_values = rng.normal(0, typical, w_shape[axis]).round().astype(np.int32)
        bias = const(bias_values, Quantization.of(q.x_scale * w_quant.scale, 0))
    ratio = 2.0 if q.ties else typical / 2 / q.steps  # ties: multipliers 2^-1 .. 2^-3
    out = Quantization.of(float(q.x_scale * q.w_scale * ratio), q.out_zero)
    x = Input(int8s(rng, x_shape, q.ties), Quantization.of(q.x_scale, q.x_zero))
    return [x, const(values, w_quant), bias], out


@st.composite
def window(draw, max_kernel: int = 3):
    kh, kw = draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel))
    sh, sw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    dilation = draw(st.integers(1, 2))
    padding = draw(st.sampled_from([Padding.SAME, Padding.VALID]))
    h, w = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    if padding == Padding.VALID:
        h, w = h + (kh - 1) * dilation, w + (kw - 1) * dilation
    return kh, kw, sh, sw, dilation, padding, h, w


@SETTINGS
@given(window(), st.integers(1, 2), st.integers(1, 20), st.integers(1, 40), quants(), ACTIVATIONS,
       st.booleans(), seeds)
def test_conv_2d(isa, gemm_format, geometry, batch, in_c, out_c, q, activation, with_bias, seed):
    kh, kw, sh, sw, dilation, padding, h, w = geometry
    operands, out = conv_case(np.random.default_rng(seed), q, (batch, h, w, in_c), (out_c, kh, kw, in_c), 0,
                              kh * kw * in_c, with_bias)
    options = Conv2DOptions(padding, sw, sh, q.activation(activation), dilation, dilation)
    check_exact("CONV_2D", operands, options, out)


@SETTINGS
@given(st.integers(1, 70), st.integers(1, 50), st.integers(1, 40), quants(), seeds,
       st.sampled_from([None, 2, 3]))
def test_conv_1x1_is_a_gemm(isa, gemm_format, pixels, in_c, out_c, q, seed, threads):
    rng = np.random.default_rng(seed)
    operands, out = conv_case(rng, q, (1, pixels, 1, in_c), (out_c, 1, 1, in_c), 0, in_c)
    options = Conv2DOptions(Padding.SAME, 1, 1, q.activation(Activation.RELU6))
    check_exact("CONV_2D", operands, options, out, threads=threads)


@SETTINGS
@given(st.integers(1, 20), st.integers(1, 13), st.integers(1, 40), st.sampled_from([-128, 127, 0]),
       st.sampled_from([-128, 127, 3]), st.sampled_from([2.0**-24, 2.0**-9, 0.5, 64.0, 2.0**27]), seeds)
def test_gemm_extremes(isa, gemm_format, rows, depth, units, x_zero, out_zero, ratio, seed):
    """Zero points at the int8 ends, every K tail of the pair and quad formats, multipliers from
    far above one (left shifts, wrapping) to about 2^-30 (right shifts near 31)."""
    rng = np.random.default_rng(seed)
    q = Quant(0.05, 0.01, x_zero, out_zero, True, False, 100.0)
    operands, _ = conv_case(rng, q, (1, rows, 1, depth), (units, 1, 1, depth), 0, depth)
    weights = operands[1].value.reshape(-1)
    weights[: min(2, weights.size)] = (-128, 127)[: min(2, weights.size)]
    out = Quantization.of(float(0.05 * 0.01 * ratio), out_zero)
    check_exact("CONV_2D", operands, Conv2DOptions(Padding.SAME, 1, 1, Activation.NONE), out)


def lowered_params(model_bytes: bytes) -> list[int]:
    """The first node's params in the native node table."""
    interpreter = Interpreter(model_content=model_bytes, experimental_executor="native")
    interpreter.allocate_tensors()
    executor = interpreter._executor
    lowering = native.Lowering(executor)
    assert lowering.lower(executor.plan.nodes[0])
    _, nodes = lowering.tables()
    return list(nodes[0][19:])


@pytest.mark.parametrize("w_zero", [0, 9])
def test_gemm_format_follows_the_level_and_the_weight_range(isa, w_zero):
    """Quads (vpdpbusd) where the level has VNNI and the centred weights fit int8, else pairs."""
    q = Quant(0.1, 0.02, 3, 0, False, False, 100.0)
    operands, out = conv_case(np.random.default_rng(1), q, (2, 20), (24, 20), 0, 20, True, w_zero)
    operands[1].value.reshape(-1)[0] = -128  # centred by w_zero = 9: -137, outside int8
    model = single_op_model("FULLY_CONNECTED", operands, FullyConnectedOptions(), output_dtypes=[np.int8],
                            output_quant=[out]).to_bytes()
    want_quads = isa == "avx512vnni" and w_zero == 0
    assert lowered_params(model)[15] == (native_qgemm.QUADS if want_quads else native_qgemm.PAIRS)
    check_exact("FULLY_CONNECTED", operands, FullyConnectedOptions(), out)


@SETTINGS
@given(window(max_kernel=5), st.integers(1, 2), st.integers(1, 40), quants(), ACTIVATIONS, st.booleans(),
       seeds)
def test_depthwise_conv_2d(isa, dw_format, geometry, batch, channels, q, activation, with_bias, seed):
    kh, kw, sh, sw, dilation, padding, h, w = geometry
    rng = np.random.default_rng(seed)
    operands, out = conv_case(rng, q, (batch, h, w, channels), (1, kh, kw, channels), 3, kh * kw, with_bias)
    options = DepthwiseConv2DOptions(padding, sw, sh, 1, q.activation(activation), dilation, dilation)
    check_exact("DEPTHWISE_CONV_2D", operands, options, out)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("channels", [8, 13, 24, 32, 56, 64, 77, 136])
def test_depthwise_3x3(isa, dw_format, stride, channels, ties):
    q = Quant(2.0**-4, 2.0**-5, 1, -5, True, ties, 60.0)
    rng = np.random.default_rng(channels)
    operands, out = conv_case(rng, q, (1, 11, 9, channels), (1, 3, 3, channels), 3, 9)
    options = DepthwiseConv2DOptions(Padding.SAME, stride, stride, 1, q.activation(Activation.RELU6))
    check_exact("DEPTHWISE_CONV_2D", operands, options, out, threads=2)


@pytest.mark.parametrize("channels", [48, 64, 128])
def test_depthwise_format_follows_the_level_and_the_block(isa, channels):
    """Depthwise quads (vpdpbusd) where the level has VNNI and the channels fill 64-channel blocks."""
    q = Quant(2.0**-4, 2.0**-5, -128, 127, True, False, 60.0)
    shapes = (1, 5, 6, channels), (1, 3, 3, channels)
    operands, out = conv_case(np.random.default_rng(channels), q, *shapes, 3, 9)
    options = DepthwiseConv2DOptions(Padding.SAME, 1, 1, 1, Activation.NONE)
    model = single_op_model("DEPTHWISE_CONV_2D", operands, options, output_dtypes=[np.int8],
                            output_quant=[out]).to_bytes()
    want_quads = isa == "avx512vnni" and channels % 64 == 0
    assert lowered_params(model)[12] == (native_qgemm.QUADS if want_quads else native_qgemm.PAIRS)
    check_exact("DEPTHWISE_CONV_2D", operands, options, out)


@SETTINGS
@given(st.integers(1, 9), st.integers(1, 70), st.integers(1, 40), quants(), zero_points, ACTIVATIONS,
       st.booleans(), seeds)
def test_fully_connected(isa, gemm_format, batch, depth, units, q, w_zero, activation, with_bias, seed):
    w_zero = w_zero % 5 - 2 if q.ties else w_zero  # LiteRT's per-tensor int8 kernel takes a weight zero point
    rng = np.random.default_rng(seed)
    operands, out = conv_case(rng, q, (batch, depth), (units, depth), 0, depth, with_bias, w_zero)
    check_exact("FULLY_CONNECTED", operands, FullyConnectedOptions(q.activation(activation)), out)


@st.composite
def broadcast_pair(draw) -> tuple[tuple, tuple]:
    """Two shapes that broadcast (LiteRT's rules: trailing alignment, 1 stretches), with rows
    long enough to cross the 8- and 16-lane vector loops."""
    rank = draw(st.integers(1, 4))
    out = [draw(st.integers(1, 5)) for _ in range(rank - 1)] + [draw(st.integers(1, 40))]
    shapes = []
    for _ in range(2):
        shape = [d if draw(st.booleans()) else 1 for d in out]
        shapes.append(tuple(shape[draw(st.integers(0, rank - 1)):]))
    return shapes[0], shapes[1]


BINARY_OPS = st.sampled_from([("ADD", AddOptions), ("SUB", SubOptions), ("MUL", MulOptions)])


@SETTINGS
@given(BINARY_OPS, broadcast_pair(), ACTIVATIONS, scales, scales, scales, zero_points, zero_points,
       zero_points, seeds)
def test_add_sub_mul_broadcast(isa, op, shapes, activation, a_scale, b_scale, o_scale, a_zero, b_zero, o_zero,
                               seed):
    name, options = op
    rng = np.random.default_rng(seed)
    if name != "MUL":  # TFLite needs the rescaling multipliers below one
        o_scale = max(o_scale, 2 * max(a_scale, b_scale) / 2**20 * 1.01)
    operands = [Input(int8s(rng, shapes[0]), Quantization.of(a_scale, a_zero)),
                Input(int8s(rng, shapes[1]), Quantization.of(b_scale, b_zero))]
    check_exact(name, operands, options(activation), Quantization.of(o_scale, o_zero))


@pytest.mark.parametrize("name", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("shapes", [((2, 3, 33), (2, 3, 33)), ((4, 1, 24), (4, 5, 24)), ((3, 5, 17), (17,)),
                                    ((2, 19), (2, 1)), ((1, 1), (3, 40)), ((6, 1, 1), (1, 5, 9)),
                                    ((2, 1, 3, 16), (2, 4, 1, 16))])
def test_broadcast_patterns(isa, name, shapes):
    """LiteRT's five-fold patterns: rows of the elementwise loop, scalar-broadcast rows, the rest."""
    rng = np.random.default_rng(len(shapes[0]) * 100 + shapes[0][-1])
    options = {"ADD": AddOptions, "SUB": SubOptions, "MUL": MulOptions}[name]
    operands = [Input(int8s(rng, shapes[0]), Quantization.of(0.05, 3)),
                Input(int8s(rng, shapes[1]), Quantization.of(0.02, -7))]
    check_exact(name, operands, options(Activation.NONE), Quantization.of(0.06, -2))
    check_exact(name, operands[::-1], options(Activation.RELU), Quantization.of(0.06, -2))


SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 1e30, -1e30, 127.5, -128.5,
                    3e9, -3e9], np.float32)


@pytest.mark.parametrize("size", [1, 7, 8, 16, 29])
@pytest.mark.parametrize("scale", [1.0, 0.1, 0.0078125])
def test_quantize_from_float(isa, size, scale):
    x = np.concatenate([SPECIAL, np.random.default_rng(size).uniform(-2, 2, size).astype(np.float32)])
    x[-3:] = np.float32(scale) * np.array([0.5, 1.5, -2.5], np.float32)  # ties in the scalar tail
    check_exact("QUANTIZE", [x.reshape(1, -1)], None, Quantization.of(scale, 7))


@pytest.mark.parametrize("scales", [(0.05, 0.03), (0.025, 0.05)])  # the second: ties on odd values
@pytest.mark.parametrize("size", [1, 15, 16, 40])
def test_requantize_and_dequantize(isa, size, scales):
    x = int8s(np.random.default_rng(size), (size,))
    check_exact("QUANTIZE", [Input(x, Quantization.of(scales[0], 4))], None, Quantization.of(scales[1], -9))
    check_exact("DEQUANTIZE", [Input(x, Quantization.of(scales[0], 4))], None, None, np.float32)


TABLES = {"LOGISTIC": Quantization.of(1 / 256, -128), "TANH": Quantization.of(1 / 128, 0),
          "HARD_SWISH": Quantization.of(0.03, -20), "RELU": Quantization.of(0.02, -128),
          "RELU6": Quantization.of(0.03, -128), "LEAKY_RELU": Quantization.of(0.04, 5),
          "ELU": Quantization.of(0.03, 10)}


@pytest.mark.parametrize("op", sorted(TABLES))
def test_table_activations(isa, op):
    x = np.arange(-128, 128).astype(np.int8).reshape(2, 128)
    check_exact(op, [Input(x, Quantization.of(0.05, -3))], None, TABLES[op])


@SETTINGS
@given(window(), st.sampled_from(["MAX_POOL_2D", "AVERAGE_POOL_2D"]), st.integers(1, 19), ACTIVATIONS, seeds)
def test_pool(isa, geometry, opcode, channels, activation, seed):
    kh, kw, sh, sw, _, padding, h, w = geometry
    x = int8s(np.random.default_rng(seed), (2, h, w, channels))
    quant = Quantization.of(0.1, -7)
    check_exact(opcode, [Input(x, quant)], Pool2DOptions(padding, sw, sh, kw, kh, activation), quant)


@pytest.mark.parametrize("opcode", ["MAX_POOL_2D", "AVERAGE_POOL_2D"])
def test_pool_window_larger_than_a_kernel_call(isa, opcode):
    """81 taps: the kernel runs the window in chunks of 64 (int32 partial results in between)."""
    x = int8s(np.random.default_rng(3), (1, 10, 11, 21))
    quant = Quantization.of(0.1, 5)
    check_exact(opcode, [Input(x, quant)], Pool2DOptions(Padding.SAME, 2, 1, 9, 9, Activation.NONE), quant)


@pytest.mark.parametrize("scales", [(0.1, 0.07), (0.5, 0.5)])  # the second: ties (x / 4, 2 x 2 windows)
@pytest.mark.parametrize("keep_dims", [False, True])
@pytest.mark.parametrize("channels", [5, 16, 37])
def test_mean_over_height_width(isa, keep_dims, channels, scales):
    x = int8s(np.random.default_rng(channels), (2, 2, 2, channels))
    operands = [Input(x, Quantization.of(scales[0], 12)), const(np.array([1, 2], np.int32))]
    check_exact("MEAN", operands, ReducerOptions(keep_dims), Quantization.of(scales[1], -3))


@pytest.mark.parametrize("beta", [1.0, 0.5])
@pytest.mark.parametrize("shape", [(1, 10), (3, 7), (2, 2, 33)])
def test_softmax(isa, beta, shape):
    x = int8s(np.random.default_rng(len(shape)), shape)
    out = Quantization.of(1 / 256, -128)
    check_exact("SOFTMAX", [Input(x, Quantization.of(0.1, 3))], SoftmaxOptions(beta), out)


def test_reshape_moves_bytes(isa):
    x = int8s(np.random.default_rng(0), (2, 3, 4))
    quant = Quantization.of(0.1, 0)
    check_exact("RESHAPE", [Input(x, quant), const(np.array([4, 6], np.int32))], None, quant)


def test_corrupt_group_header_is_rejected():
    """The C side recomputes every group header word from the shifts and rejects a mismatch."""
    q = Quant(0.1, 0.02, 0, 0, False, False, 100.0)
    operands, out = conv_case(np.random.default_rng(0), q, (1, 2, 2, 3), (4, 1, 1, 3), 0, 3)
    model = single_op_model("CONV_2D", operands, Conv2DOptions(), output_dtypes=[np.int8], output_quant=[out])
    _, executor = run(model.to_bytes(), graph_feeds(operands), "native")
    program = executor.program
    assert program is not None
    lowering = native.Lowering(executor)
    assert lowering.lower(executor.plan.nodes[0])
    tensors, nodes = lowering.tables()
    buffer, offset = tensors[nodes[0][3]][:2]  # the node's input 1: its channel groups
    np.frombuffer(lowering.buffers[buffer], np.uint8)[offset + 256] ^= 1  # the first rounding constant
    with pytest.raises(ValueError, match="header word"):
        native._engine.Program(tensors, nodes, lowering.buffers, lowering.writable)


def run_model(model: bytes | str, executor: str):
    interpreter = Interpreter(model_path=model, experimental_executor=executor) if isinstance(model, str) \
        else Interpreter(model_content=model, experimental_executor=executor)
    interpreter.allocate_tensors()
    rng = np.random.default_rng(0)
    for detail in interpreter.get_input_details():
        dtype, shape = detail["dtype"], detail["shape"]
        floating = np.issubdtype(dtype, np.floating)
        value = rng.uniform(-1, 1, shape) if floating else rng.integers(-128, 128, shape)
        interpreter.set_tensor(detail["index"], value.astype(dtype))
    interpreter.invoke()
    outputs = [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]
    return outputs, interpreter._executor


def assert_all_native_and_equal(model: bytes | str) -> None:
    want, _ = run_model(model, "reference")
    got, executor = run_model(model, "native")
    names = [planned.opdef.name for planned in executor.plan.nodes]
    left = [name for name, is_native in zip(names, executor.native, strict=True) if not is_native]
    assert not left, f"left on the reference executor: {left}"
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(not INT8_MODELS, reason=f"no shared models in {MODELS}")
@pytest.mark.parametrize("path", [p for p in INT8_MODELS if "dynamic" not in p.stem], ids=lambda p: p.stem)
def test_shared_int8_models_run_natively_and_exactly(isa, path):
    assert_all_native_and_equal(str(path))


@pytest.mark.skipif(not (MODELS / "digits_cnn_float32.tflite").is_file(), reason="shared model missing")
def test_model_quantized_by_edgelite_runs_natively_and_exactly():
    import edgelite

    rng = np.random.default_rng(1)
    calibration = [[rng.uniform(0, 1, (1, 16, 16, 1)).astype(np.float32)] for _ in range(8)]
    model = edgelite.quantize(str(MODELS / "digits_cnn_float32.tflite"), "int8", calibration_data=calibration,
                              progress=False)
    assert_all_native_and_equal(model.to_bytes())


@SETTINGS
@given(st.sampled_from(["MAXIMUM", "MINIMUM"]), broadcast_pair(), seeds)
def test_maximum_minimum_broadcast(isa, name, shapes, seed):
    """Raw int8 values compared (the reference ignores the scales, as LiteRT)."""
    rng = np.random.default_rng(seed)
    quant = Quantization.of(0.05, 3)
    operands = [Input(int8s(rng, shapes[0]), quant), Input(int8s(rng, shapes[1]), quant)]
    check_exact(name, operands, None, quant)


@SETTINGS
@given(st.integers(1, 4), st.data(), st.sampled_from([np.int8, np.int16]), seeds)
def test_concatenation(isa, rank, data, dtype, seed):
    rng = np.random.default_rng(seed)
    shape = [data.draw(st.integers(1, 5)) for _ in range(rank)]
    axis = data.draw(st.integers(-rank, rank - 1))
    quant = Quantization.of(0.05, -3 if dtype == np.int8 else 0)
    operands = []
    for _ in range(data.draw(st.integers(1, 4))):
        part = list(shape)
        part[axis] = data.draw(st.integers(1, 4))
        info = np.iinfo(dtype)
        operands.append(Input(rng.integers(info.min, info.max, part, endpoint=True).astype(dtype), quant))
    check_exact("CONCATENATION", operands, ConcatenationOptions(axis), quant, dtype)


@pytest.mark.parametrize("op", sorted(native_int8.GATHER_OPS))
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(dtype=st.sampled_from([np.int8, np.int16]), data=st.data(), seed=seeds)
def test_movement_ops_gather(isa, op, dtype, data, seed):
    """Movement ops run as a gather through the reference kernel's own index table, drawn as
    tests/ops/test_quant_movement.py draws them (permutations, slices, paddings, resizes, ...)."""
    if dtype == np.int16 and op in movement.NO_INT16:
        return
    quant = movement.QUANT[dtype]
    operands, kwargs = movement.build(op, dtype, data.draw, seed, quant, quant)
    model = single_op_model(op, operands, **kwargs)
    if any(0 in model.subgraphs[0].tensors[i].shape for i in model.subgraphs[0].outputs):
        return  # an empty output: nothing to lower
    feeds = graph_feeds(operands)
    want, _ = run(model.to_bytes(), feeds, "reference")
    got, executor = run(model.to_bytes(), feeds, "native")
    assert all(executor.native), f"{op} was not lowered to the native engine"
    for a, b in zip(got, want, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_movement_op_with_a_runtime_operand_stays_on_the_reference(isa):
    """A gather table needs constant index operands: a STRIDED_SLICE whose begin is a graph input
    (offset=True: the output shape is static) runs on the reference kernels, with its result."""
    from edgelite.ops.strided_slice import StridedSliceOptions

    quant = Quantization.of(0.05, -7)
    x = Input(int8s(np.random.default_rng(0), (4, 6)), quant)
    begin = Input(np.array([1, 2], np.int32))
    operands = [x, begin, const(np.array([2, 3], np.int32)), const(np.array([1, 1], np.int32))]
    model = single_op_model("STRIDED_SLICE", operands, StridedSliceOptions(offset=True),
                            output_dtypes=[np.int8], output_quant=[quant]).to_bytes()
    feeds = graph_feeds(operands)
    want, _ = run(model, feeds, "reference")
    got, executor = run(model, feeds, "native")
    assert not any(executor.native)
    np.testing.assert_array_equal(got[0], want[0])


def quantized_pad_then_conv(pads: list[int], opcode: str, kernel: int, stride: int, padding: int,
                            channels: int, seed: int) -> tuple[bytes, np.ndarray]:
    """An int8 model (quantized by edgelite) of a PAD of height / width then a convolution, and an input."""
    x = values(seed, (1, 4 + seed % 5, 3 + seed % 7, channels))
    if opcode == "CONV_2D":
        weights, bias = values(seed + 1, (5, kernel, kernel, channels)), values(seed + 2, (5,))
        options = Conv2DOptions(padding, stride, stride)
    else:
        weights, bias = values(seed + 1, (1, kernel, kernel, channels)), values(seed + 2, (channels,))
        options = DepthwiseConv2DOptions(padding, stride, stride, 1, Activation.RELU6)
    calibration = [values(seed + 3 + i, x.shape) for i in range(4)]
    model = quantize(pad_then_conv_model(x, pads, opcode, weights, bias, options), "int8",
                     calibration_data=calibration, progress=False)
    return model.to_bytes(), x


@SETTINGS
@given(st.lists(st.integers(0, 2), min_size=4, max_size=4), st.sampled_from(["CONV_2D", "DEPTHWISE_CONV_2D"]),
       st.integers(1, 3), st.integers(1, 2), st.sampled_from([Padding.VALID, Padding.SAME]),
       st.integers(1, 20), seeds)
def test_int8_padding_fused_into_the_next_convolution(isa, pads, opcode, kernel, stride, padding, channels,
                                                      seed):
    """An int8 PAD (its fill the zero point) right before a convolution is done by the convolution,
    bit-exact with the reference."""
    model, x = quantized_pad_then_conv(pads, opcode, kernel, stride, padding, channels, seed)
    want, _ = run(model, [x], "reference")
    got, executor = run(model, [x], "native")
    assert all(executor.native) and len(executor.fused_pads) == 1
    np.testing.assert_array_equal(got[0], want[0])
