"""The native engine's hybrid (dynamic-range) kernels against edgelite's numpy reference at every
dispatch level this CPU has: float32 input quantized at run time, int8 weights, float32 output.

The reference computes the int32 accumulators exactly and scales them with the same float32
operations in the same order, so the results must be EQUAL (not merely close). Hypothesis draws
shapes, windows, per-tensor or per-channel scales, biases, activations and input ranges
(including all-zero and one-signed inputs, which take the quantizers' special cases).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.native.test_int8_kernels import window
from tests.native.test_kernels import run
from tests.ops.harness import Input, const, graph_feeds, single_op_model

from edgelite.model.ir import Quantization, TensorType
from edgelite.ops._common import Activation, Padding
from edgelite.ops.add import AddOptions
from edgelite.ops.batch_matmul import BatchMatMulOptions
from edgelite.ops.conv_2d import Conv2DOptions
from edgelite.ops.depthwise_conv_2d import DepthwiseConv2DOptions
from edgelite.ops.fully_connected import FullyConnectedOptions
from edgelite.runtime import native
from edgelite.runtime.interpreter import Interpreter

pytestmark = pytest.mark.skipif(native._engine is None, reason="the native extension is not built "
                                "(no C compiler at install time); the reference executor runs instead")
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ACTIVATIONS = st.sampled_from([Activation.NONE, Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1])
RANGES = st.sampled_from(["mixed", "positive", "negative", "zero", "wide"])
seeds = st.integers(0, 2**32 - 1)


def floats(rng: np.random.Generator, shape, kind: str) -> np.ndarray:
    """A float32 input whose range exercises the input quantizers' cases."""
    x = rng.normal(0, 1, shape).astype(np.float32)
    if kind == "positive":
        x = np.abs(x)
    elif kind == "negative":
        x = -np.abs(x)
    elif kind == "zero":
        x[...] = 0
    elif kind == "wide":
        x = (x * rng.uniform(1e-3, 1e3)).astype(np.float32)
    return x


def weights(rng: np.random.Generator, shape, axis: int, per_channel: bool) -> tuple[np.ndarray, Quantization]:
    values = rng.integers(-127, 128, size=shape).astype(np.int8)
    if per_channel:
        scales = rng.uniform(1e-3, 0.05, shape[axis]).astype(np.float32)
        return values, Quantization.of(scales, 0, axis)
    return values, Quantization.of(float(rng.uniform(1e-3, 0.05)), 0)


def check_equal(opcode: str, operands: list, options, threads: int | None = None) -> None:
    model = single_op_model(opcode, operands, options, output_dtypes=[np.float32]).to_bytes()
    feeds = graph_feeds(operands)
    want, _ = run(model, feeds, "reference")
    got, executor = run(model, feeds, "native", threads)
    assert all(executor.native), f"hybrid {opcode} was not lowered to the native engine"
    for a, b in zip(got, want, strict=True):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_array_equal(a, b)


@SETTINGS
@given(st.integers(1, 5), st.integers(1, 70), st.integers(1, 40), st.booleans(), st.booleans(), st.booleans(),
       ACTIVATIONS, RANGES, seeds, st.sampled_from([None, 2, 3]))
def test_fully_connected(isa, rows, depth, units, per_channel, asymmetric, with_bias, activation, kind, seed,
                         threads):
    rng = np.random.default_rng(seed)
    w, w_quant = weights(rng, (units, depth), 0, per_channel)
    bias = const(rng.normal(0, 1, units).astype(np.float32)) if with_bias else None
    operands = [Input(floats(rng, (rows, depth), kind)), const(w, w_quant), bias]
    options = FullyConnectedOptions(activation, asymmetric_quantize_inputs=asymmetric)
    check_equal("FULLY_CONNECTED", operands, options, threads)


@SETTINGS
@given(window(), st.integers(1, 3), st.integers(1, 20), st.integers(1, 40), st.booleans(), st.booleans(),
       ACTIVATIONS, RANGES, seeds, st.sampled_from([None, 2]))
def test_conv_2d(isa, geometry, batch, in_c, out_c, per_channel, with_bias, activation, kind, seed, threads):
    kh, kw, sh, sw, dilation, padding, h, w = geometry
    rng = np.random.default_rng(seed)
    values, w_quant = weights(rng, (out_c, kh, kw, in_c), 0, per_channel)
    bias = const(rng.normal(0, 1, out_c).astype(np.float32)) if with_bias else None
    operands = [Input(floats(rng, (batch, h, w, in_c), kind)), const(values, w_quant), bias]
    options = Conv2DOptions(padding, sw, sh, activation, dilation, dilation)
    check_equal("CONV_2D", operands, options, threads)


MODELS = Path(__file__).parents[2].parent / "shared" / "models"
MODEL_FILES = sorted(MODELS.glob("*.tflite")) if MODELS.is_dir() else []
_QUANTIZED = {TensorType.INT8, TensorType.INT16}


def _quantized(node) -> bool:
    """A node with an int8 / int16 operand (int8 and int16x8 kernels, hybrid weights)."""
    return any(t is not None and t.type in _QUANTIZED for t in (*node.input_tensors, *node.output_tensors))


@pytest.mark.skipif(not MODEL_FILES, reason=f"no shared models in {MODELS}")
@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.stem)
def test_no_quantized_node_of_a_shared_model_falls_back(path):
    interpreter = Interpreter(model_path=str(path), experimental_executor="native")
    interpreter.allocate_tensors()
    executor = interpreter._executor
    nodes = zip(executor.plan.nodes, executor.native, strict=True)
    left = [planned.opdef.name for planned, is_native in nodes if not is_native and _quantized(planned.node)]
    assert not left, f"quantized nodes left on the reference executor: {left}"


@pytest.mark.skipif(not (MODELS / "digits_cnn_dynamic_int8.tflite").is_file(), reason="shared model missing")
def test_dynamic_range_model_runs_natively_and_matches_the_reference():
    """Every node native; outputs within float tolerance (the float layers around the hybrid ones
    accumulate in another order than numpy), over several random inputs."""
    model = str(MODELS / "digits_cnn_dynamic_int8.tflite")
    rng = np.random.default_rng(5)
    for _ in range(5):
        x = rng.uniform(0, 1, (1, 16, 16, 1)).astype(np.float32)
        want, _ = run(Path(model).read_bytes(), [x], "reference")
        got, executor = run(Path(model).read_bytes(), [x], "native")
        assert all(executor.native)
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * float(np.max(np.abs(b))))


@SETTINGS
@given(st.sampled_from([(), (1,), (3,)]), st.integers(1, 6), st.integers(1, 40), st.integers(1, 40),
       st.booleans(), st.booleans(), st.booleans(), RANGES, seeds)
def test_batch_matmul_with_constant_rhs(isa, batch, rows, depth, columns, adj_y, per_channel, asymmetric,
                                        kind, seed):
    rng = np.random.default_rng(seed)
    shape = (columns, depth) if adj_y else (depth, columns)
    rhs, quant = weights(rng, shape, 0 if adj_y else 1, per_channel)
    operands = [Input(floats(rng, (*batch, rows, depth), kind)), const(rhs, quant)]
    check_equal("BATCH_MATMUL", operands, BatchMatMulOptions(False, adj_y, asymmetric))


@SETTINGS
@given(window(max_kernel=4), st.integers(1, 2), st.integers(1, 20), st.sampled_from([1, 2, 3]), st.booleans(),
       st.booleans(), ACTIVATIONS, RANGES, seeds, st.sampled_from([None, 2]))
def test_depthwise_conv_2d(isa, geometry, batch, channels, multiplier, per_channel, with_bias, activation,
                           kind, seed, threads):
    operands, options = depthwise_case(geometry, batch, channels, multiplier, per_channel, with_bias,
                                       activation, kind, seed)
    check_equal("DEPTHWISE_CONV_2D", operands, options, threads)


def depthwise_case(geometry: tuple, batch: int, channels: int, multiplier: int, per_channel: bool,
                   with_bias: bool, activation: int, kind: str, seed: int) -> tuple[list, object]:
    """The operands and options of a hybrid DEPTHWISE_CONV_2D node."""
    kh, kw, sh, sw, dilation, padding, h, w = geometry
    rng = np.random.default_rng(seed)
    out_c = channels * multiplier
    values, w_quant = weights(rng, (1, kh, kw, out_c), 3, per_channel)
    bias = const(rng.normal(0, 1, out_c).astype(np.float32)) if with_bias else None
    operands = [Input(floats(rng, (batch, h, w, channels), kind)), const(values, w_quant), bias]
    return operands, DepthwiseConv2DOptions(padding, sw, sh, multiplier, activation, dilation, dilation)


# -- the C side validates what the lowering wrote -------------------------------------------------
P = 3 + native.MAX_INPUTS  # first param word of a node row


def lowered(model_bytes: bytes):
    interpreter = Interpreter(model_content=model_bytes, experimental_executor="reference")
    interpreter.allocate_tensors()
    lowering = native.Lowering(interpreter._executor)
    assert all(lowering.lower(planned) for planned in interpreter.plan.nodes)
    tensors, nodes = lowering.tables()
    return tensors, nodes, lowering


def hybrid_conv_model() -> bytes:
    rng = np.random.default_rng(0)
    values, quant = weights(rng, (5, 3, 3, 4), 0, True)
    operands = [Input(floats(rng, (1, 6, 6, 4), "mixed")), const(values, quant)]
    return single_op_model("CONV_2D", operands, Conv2DOptions(Padding.SAME, 1, 1),
                           output_dtypes=[np.float32]).to_bytes()


def hybrid_depthwise_model() -> bytes:
    rng = np.random.default_rng(0)
    values, quant = weights(rng, (1, 3, 3, 8), 3, True)
    operands = [Input(floats(rng, (1, 5, 5, 4), "mixed")), const(values, quant)]
    options = DepthwiseConv2DOptions(Padding.SAME, 1, 1, 2)
    return single_op_model("DEPTHWISE_CONV_2D", operands, options, output_dtypes=[np.float32]).to_bytes()


def int8_transpose_model() -> bytes:
    x = Input(np.arange(24, dtype=np.int8).reshape(2, 3, 4), Quantization.of(0.1, 2))
    operands = [x, const(np.array([2, 0, 1], np.int32))]
    return single_op_model("TRANSPOSE", operands, None, output_dtypes=[np.int8],
                           output_quant=[Quantization.of(0.1, 2)]).to_bytes()


def int8_add_model() -> bytes:
    operands = [Input(np.zeros((3, 1, 5), np.int8), Quantization.of(0.1, 2)),
                Input(np.zeros((4, 5), np.int8), Quantization.of(0.2, -1))]
    return single_op_model("ADD", operands, AddOptions(), output_dtypes=[np.int8],
                           output_quant=[Quantization.of(0.3, 0)]).to_bytes()


def gather_entry(tensors, nodes, lw):
    lw.buffers[tensors[nodes[0, 3], 0]][5] = 24


def read_only_values(tensors, nodes, lw):
    lw.writable[tensors[nodes[0, 4], 0]] = False


CORRUPTIONS = {
    "hgemm K": (hybrid_conv_model, lambda t, n, lw: n.__setitem__((0, P + 9), 35)),
    "hgemm N": (hybrid_conv_model, lambda t, n, lw: n.__setitem__((0, P + 10), 17)),
    "hgemm quantization mode": (hybrid_conv_model, lambda t, n, lw: n.__setitem__((0, P + 11), 3)),
    "hgemm stride": (hybrid_conv_model, lambda t, n, lw: n.__setitem__((0, P + 3), 0)),
    "hgemm read-only values": (hybrid_conv_model, read_only_values),
    "hgemm clamp": (hybrid_conv_model, lambda t, n, lw: n.__setitem__((0, P + 12), native.f32_bits(np.nan))),
    "hdwconv multiplier": (hybrid_depthwise_model, lambda t, n, lw: n.__setitem__((0, P + 8), 3)),
    "hdwconv blocked channels": (hybrid_depthwise_model, lambda t, n, lw: n.__setitem__((0, P + 11), 9)),
    "qgather table entry": (int8_transpose_model, gather_entry),
    "qgather fill": (int8_transpose_model, lambda t, n, lw: n.__setitem__((0, P), 128)),
    "qbinary stride reach": (int8_add_model, lambda t, n, lw: n.__setitem__((0, P + 16 + 4 + 2), 2)),
    "qbinary row": (int8_add_model, lambda t, n, lw: n.__setitem__((0, P + 14), 7)),
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_validator_rejects_corrupted_tables(corruption):
    make, corrupt = CORRUPTIONS[corruption]
    tensors, nodes, lowering = lowered(make())
    native._engine.Program(tensors, nodes, lowering.buffers, lowering.writable)  # the intact tables pass
    corrupt(tensors, nodes, lowering)
    with pytest.raises(ValueError, match="native"):
        native._engine.Program(tensors, nodes, lowering.buffers, lowering.writable)
