"""The compiler's int8 family (native/compile_int8.c) against the Python lowering (runtime/native_int8.py).

Whenever `_engine.compile` accepts a graph, every node row must equal the Python lowering's: op,
params and each operand row resolved to what it points at (dtype, shape, byte count, and the bytes of
packed weights and tables, or the arena offset). The shared int8 models must compile whole; generated
single-op graphs (hypothesis: shapes, scales, zero points, strides, paddings, activations) may defer,
but never differ. Both qgemm formats (native_qgemm.FORMAT / DW_FORMAT) and every isa run.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.native.test_int8_kernels import Quant, conv_case, int8s, quantized_pad_then_conv, quants, window
from tests.ops.harness import Input, const, single_op_model

from edgelite.model import _native
from edgelite.model.ir import Quantization
from edgelite.model.reader import load
from edgelite.ops._common import Activation, Padding
from edgelite.ops._pool import Pool2DOptions
from edgelite.ops._reduce import ReducerOptions
from edgelite.ops.add import AddOptions
from edgelite.ops.concatenation import ConcatenationOptions
from edgelite.ops.conv_2d import Conv2DOptions
from edgelite.ops.depthwise_conv_2d import DepthwiseConv2DOptions
from edgelite.ops.fully_connected import FullyConnectedOptions
from edgelite.ops.leaky_relu import LeakyReluOptions
from edgelite.ops.mul import MulOptions
from edgelite.ops.softmax import SoftmaxOptions
from edgelite.ops.sub import SubOptions
from edgelite.optimize.quantize.api import quantize
from edgelite.runtime import int8_tables, native, native_qgemm
from edgelite.runtime.plan import build_plan

pytestmark = pytest.mark.skipif(native._engine is None or not hasattr(native._engine, "compile"),
                                reason="the native extension (with the compiler) is not built")
MODELS = Path(__file__).parents[2].parent / "shared" / "models"
SHARED = [MODELS / f"{name}.tflite" for name in ("digits_cnn_int8", "digits_cnn_int8_io", "mnv2_035_96_int8")]
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ACTIVATIONS = st.sampled_from([Activation.NONE, Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1])
seeds = st.integers(0, 2**32 - 1)


@pytest.fixture(params=["pairs", "quads"])
def formats(request, monkeypatch):
    """Both packings of QGEMM and QDWCONV weights."""
    monkeypatch.setattr(native_qgemm, "FORMAT", request.param)
    monkeypatch.setattr(native_qgemm, "DW_FORMAT", request.param)
    return request.param


def tables(kind: str, args: tuple) -> bytes:
    return int8_tables.TABLES[kind](*args)


def compiled(data: bytes, threads: int = 1):
    """_engine.compile's result for subgraph 0 (None when it defers) and its reason."""
    raw = native._engine.read_model(memoryview(data), _native._types(), *_native._layouts(),
                                    _native.SCHEMA_VERSION, _native.LUT_METADATA_NAME)
    _, spans, codes, _, subgraphs, _, _, floats, ints = raw
    dw = {"auto": -1, "pairs": native_qgemm.PAIRS, "quads": native_qgemm.QUADS}[native_qgemm.DW_FORMAT]
    result = native._engine.compile(subgraphs[0], codes, spans, floats, ints, data, {}, threads,
                                    int(native_qgemm.prefer_quads()), dw, tables)
    return (None, result[1]) if result[0] is None else (result, None)


def python_lowering(data: bytes, threads: int = 1):
    """The Python path's (lowered per node, tensor rows, node rows, buffers)."""
    plan = build_plan(load(data), 0, {})
    executor = SimpleNamespace(plan=plan, arena=np.zeros(max(plan.arena_size, 64), np.uint8), threads=threads)
    lowering = native.Lowering(executor)
    lowered = [lowering.lower(planned) for planned in plan.nodes]
    tensors, nodes = lowering.tables()
    return lowered, tensors, nodes, lowering.buffers, lowering.fused_pads


def resolve(tensors: np.ndarray, buffers: list, row: int) -> tuple:
    """What a tensor row points at: (dtype, shape, nbytes, arena offset or the bytes)."""
    buffer, offset, nbytes, dtype, rank, *dims = (int(v) for v in tensors[row])
    if buffer == 0:
        return dtype, tuple(dims[:rank]), nbytes, ("arena", offset)
    content = bytes(memoryview(buffers[buffer]).cast("B")[offset:offset + nbytes])
    return dtype, tuple(dims[:rank]), nbytes, content


def node_entries(tensors: np.ndarray, nodes: np.ndarray, buffers: list) -> list[tuple]:
    rows = []
    for row in nodes:
        op, count = int(row[0]), int(row[1])
        inputs = tuple(resolve(tensors, buffers, int(i)) for i in row[2:2 + count])
        output = resolve(tensors, buffers, int(row[2 + native.MAX_INPUTS]))
        rows.append((native.OPS[op], inputs, output, tuple(int(v) for v in row[3 + native.MAX_INPUTS:])))
    return rows


def check_same(data: bytes, threads: int = 1, must_compile: bool = False) -> bool:
    """Compiled tables equal the Python lowering's whenever the compiler accepts; True if it did."""
    result, reason = compiled(data, threads)
    if result is None:
        assert not must_compile, f"the compiler deferred: {reason}"
        return False
    lowered, tensors, nodes, buffers, fused_pads = python_lowering(data, threads)
    assert set(result[9]) == fused_pads
    assert all(lowered), "the compiler accepted a graph the Python lowering partitions"
    c_tensors = np.frombuffer(result[0], np.int64).reshape(-1, native.TENSOR_WORDS)
    c_nodes = np.frombuffer(result[1], np.int64).reshape(-1, native.NODE_WORDS)
    want, got = node_entries(tensors, nodes, buffers), node_entries(c_tensors, c_nodes, result[2])
    assert len(got) == len(want)
    for k, (a, b) in enumerate(zip(got, want, strict=True)):
        assert a == b, f"node {k} ({b[0]}) differs"
    return True


# -- the shared models ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", SHARED, ids=lambda p: p.stem)
@pytest.mark.parametrize("threads", [1, 2])
def test_shared_models_compile_whole(path, threads, formats, isa):
    if not path.exists():
        pytest.skip(f"{path.name} is not in the shared models")
    check_same(path.read_bytes(), threads, must_compile=True)


FLOAT_MODELS = ("face_detection_short_range", "hand_landmark_lite", "selfie_segmentation", "face_landmark",
                "mnv2_035_96_float32", "digits_cnn_float32")


@pytest.mark.parametrize("name", FLOAT_MODELS)
def test_quantized_float_models_defer_or_agree(name, isa):
    """The float shared models quantized to int8 (random calibration): many int8 and float nodes,
    PADs, concatenations, residual ADDs. The compiler defers (an op the int8 lowering leaves on the
    reference) or agrees; most compile whole."""
    path = MODELS / f"{name}.tflite"
    if not path.exists():
        pytest.skip(f"{name} is not in the shared models")
    source = load(path.read_bytes())
    rng = np.random.default_rng(0)
    shapes = [source.subgraphs[0].tensors[i].shape for i in source.subgraphs[0].inputs]
    calibration = [[rng.uniform(-1, 1, shape).astype(np.float32) for shape in shapes] for _ in range(2)]
    model = quantize(source, "int8", calibration_data=calibration, progress=False).to_bytes()
    accepted = check_same(model)
    assert accepted or name in ("selfie_segmentation", "face_landmark")  # int8 RESIZE_BILINEAR, PRELU


# -- generated graphs -------------------------------------------------------------------------------
def model_bytes(opcode: str, operands: list, options=None, out_quant: Quantization | None = None,
                out_dtype=np.int8) -> bytes:
    model = single_op_model(opcode, operands, options, output_dtypes=[out_dtype],
                            output_quant=[out_quant] if out_quant is not None else None)
    return model.to_bytes()


@SETTINGS
@given(window(), st.integers(1, 2), st.integers(1, 20), st.integers(1, 40), quants(), ACTIVATIONS,
       st.booleans(), seeds)
def test_conv_2d(isa, formats, geometry, batch, in_c, out_c, q, activation, with_bias, seed):
    kh, kw, sh, sw, dilation, padding, h, w = geometry
    operands, out = conv_case(np.random.default_rng(seed), q, (batch, h, w, in_c), (out_c, kh, kw, in_c), 0,
                              kh * kw * in_c, with_bias)
    options = Conv2DOptions(padding, sw, sh, activation, dilation, dilation)
    check_same(model_bytes("CONV_2D", operands, options, out))


@SETTINGS
@given(window(), st.integers(1, 2), st.integers(1, 70), quants(), ACTIVATIONS, st.booleans(), seeds)
def test_depthwise_conv_2d(isa, formats, geometry, batch, channels, q, activation, with_bias, seed):
    kh, kw, sh, sw, dilation, padding, h, w = geometry
    operands, out = conv_case(np.random.default_rng(seed), q, (batch, h, w, channels),
                              (1, kh, kw, channels), 3, kh * kw, with_bias)
    options = DepthwiseConv2DOptions(padding, sw, sh, 1, activation, dilation, dilation)
    check_same(model_bytes("DEPTHWISE_CONV_2D", operands, options, out))


@SETTINGS
@given(st.integers(1, 4), st.integers(1, 60), st.integers(1, 40), quants(), ACTIVATIONS, st.booleans(),
       st.integers(-3, 3), seeds)
def test_fully_connected(isa, formats, rows, depth, units, q, activation, with_bias, w_zero, seed):
    q = Quant(q.x_scale, q.w_scale, q.x_zero, q.out_zero, q.per_channel and w_zero == 0, q.ties, q.steps)
    operands, out = conv_case(np.random.default_rng(seed), q, (rows, depth), (units, depth), 0, depth,
                              with_bias, w_zero)
    check_same(model_bytes("FULLY_CONNECTED", operands, FullyConnectedOptions(activation), out))


SCALES = st.floats(1e-3, 2.0)


def quant_of(draw) -> Quantization:
    return Quantization.of(draw(SCALES), draw(st.integers(-128, 127)))


@st.composite
def broadcast_shapes(draw) -> tuple[tuple, tuple]:
    rank = draw(st.integers(1, 5))
    out = [draw(st.integers(1, 5)) for _ in range(rank)]
    a = tuple(1 if draw(st.booleans()) else d for d in out)
    b = tuple(1 if draw(st.booleans()) else d for d in out)
    return a[draw(st.integers(0, rank - 1)):], b


@SETTINGS
@given(st.sampled_from(["MAXIMUM", "MINIMUM"]), broadcast_shapes(), st.data(), seeds)
def test_maximum_minimum(isa, opcode, shapes, data, seed):
    rng = np.random.default_rng(seed)
    q = quant_of(data.draw)
    operands = [Input(int8s(rng, shapes[0]), q), Input(int8s(rng, shapes[1]), q)]
    check_same(model_bytes(opcode, operands, None, q))


@SETTINGS
@given(st.sampled_from(["ADD", "SUB", "MUL"]), broadcast_shapes(), st.data(), ACTIVATIONS, seeds)
def test_binary(isa, opcode, shapes, data, activation, seed):
    rng = np.random.default_rng(seed)
    qa, qb, qo = (quant_of(data.draw) for _ in range(3))
    operands = [Input(int8s(rng, shapes[0]), qa), Input(int8s(rng, shapes[1]), qb)]
    if data.draw(st.booleans()):
        operands[1] = const(int8s(rng, shapes[1]), qb)
    options = {"ADD": AddOptions, "SUB": SubOptions, "MUL": MulOptions}[opcode](activation)
    check_same(model_bytes(opcode, operands, options, qo))


@SETTINGS
@given(st.sampled_from(["MAX_POOL_2D", "AVERAGE_POOL_2D"]), window(), st.integers(1, 20), st.data(),
       ACTIVATIONS, seeds)
def test_pool(isa, opcode, geometry, channels, data, activation, seed):
    kh, kw, sh, sw, _, padding, h, w = geometry
    q = quant_of(data.draw)
    x = Input(int8s(np.random.default_rng(seed), (1, h, w, channels)), q)
    check_same(model_bytes(opcode, [x], Pool2DOptions(padding, sw, sh, kw, kh, activation), q))


@SETTINGS
@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 40), st.booleans(), st.data(), seeds)
def test_mean(isa, h, w, channels, keep_dims, data, seed):
    x = Input(int8s(np.random.default_rng(seed), (1, h, w, channels)), quant_of(data.draw))
    axes = const(np.array(data.draw(st.sampled_from([[1, 2], [2, 1], [-3, -2], [1]])), np.int32))
    check_same(model_bytes("MEAN", [x, axes], ReducerOptions(keep_dims), quant_of(data.draw)))


@SETTINGS
@given(st.integers(1, 30), st.floats(0.1, 2.0), st.data(), seeds)
def test_softmax(isa, size, beta, data, seed):
    x = Input(int8s(np.random.default_rng(seed), (2, size)), quant_of(data.draw))
    check_same(model_bytes("SOFTMAX", [x], SoftmaxOptions(beta), Quantization.of(1 / 256, -128)))


@SETTINGS
@given(st.sampled_from(["float32", "int8"]), st.integers(1, 40), st.data(), seeds)
def test_quantize(isa, source, size, data, seed):
    rng = np.random.default_rng(seed)
    if source == "float32":
        x = Input(rng.normal(0, 3, (1, size)).astype(np.float32))
    else:
        x = Input(int8s(rng, (1, size)), quant_of(data.draw))
    check_same(model_bytes("QUANTIZE", [x], None, quant_of(data.draw)))


@SETTINGS
@given(st.integers(1, 40), st.data(), seeds)
def test_dequantize(isa, size, data, seed):
    x = Input(int8s(np.random.default_rng(seed), (3, size)), quant_of(data.draw))
    check_same(model_bytes("DEQUANTIZE", [x], None, out_dtype=np.float32))


@SETTINGS
@given(st.sampled_from(int8_tables.TABLE_OPS), st.integers(1, 30), st.floats(0.01, 0.9), st.data(), seeds)
def test_table_activations(opname, size, alpha, data, seed):
    options = LeakyReluOptions(alpha) if opname == "LEAKY_RELU" else None
    out = Quantization.of(1 / 256, -128) if opname == "LOGISTIC" and data.draw(st.booleans()) \
        else quant_of(data.draw)
    x = Input(int8s(np.random.default_rng(seed), (1, size)), quant_of(data.draw))
    try:
        data_bytes = model_bytes(opname, [x], options, out)
    except Exception:  # the reference rejects this quantization when building the model's shapes
        return
    check_same(data_bytes)


MOVED = st.sampled_from([np.int8, np.int16])


def moved_values(rng: np.random.Generator, shape: tuple, dtype) -> np.ndarray:
    """int8 or int16 values (the byte movers take both)."""
    if dtype == np.int8:
        return int8s(rng, shape)
    return rng.integers(-32768, 32768, size=shape).astype(np.int16)


def moved_quant(draw, dtype) -> Quantization:
    return quant_of(draw) if dtype == np.int8 else Quantization.of(draw(SCALES), 0)  # int16: symmetric


@SETTINGS
@given(st.sampled_from(["RESHAPE", "SQUEEZE", "EXPAND_DIMS"]), st.integers(1, 12), MOVED, seeds)
def test_copies(opcode, size, dtype, seed):
    q = Quantization.of(0.5, 3 if dtype == np.int8 else 0)
    x = Input(moved_values(np.random.default_rng(seed), (1, size), dtype), q)
    operands = {"RESHAPE": [x, const(np.array([size, 1], np.int32))], "SQUEEZE": [x],
                "EXPAND_DIMS": [x, const(np.array([0], np.int32))]}[opcode]
    check_same(model_bytes(opcode, operands, None, q, dtype))


@SETTINGS
@given(st.integers(1, 4), st.integers(-3, 2), MOVED, st.data(), seeds)
def test_concatenation(count, axis, dtype, data, seed):
    rng = np.random.default_rng(seed)
    q = moved_quant(data.draw, dtype)
    shapes = [(2, data.draw(st.integers(1, 4)), 3) for _ in range(count)]
    if axis not in (1, -2):
        shapes = [(2, shapes[0][1], 3)] * count
    operands = [Input(moved_values(rng, s, dtype), q) for s in shapes]
    check_same(model_bytes("CONCATENATION", operands, ConcatenationOptions(axis, Activation.NONE), q, dtype))


@SETTINGS
@given(st.integers(1, 4), st.data(), seeds)
def test_pad(rank, data, seed):
    shape = tuple(data.draw(st.integers(1, 4)) for _ in range(rank))
    pairs = np.array([[data.draw(st.integers(0, 2)) for _ in range(2)] for _ in range(rank)],
                     data.draw(st.sampled_from([np.int32, np.int64])))
    dtype = data.draw(MOVED)
    q = moved_quant(data.draw, dtype)
    x = Input(moved_values(np.random.default_rng(seed), shape, dtype), q)
    check_same(model_bytes("PAD", [x, const(pairs)], None, q, dtype))


@SETTINGS
@given(st.lists(st.integers(0, 2), min_size=4, max_size=4), st.sampled_from(["CONV_2D", "DEPTHWISE_CONV_2D"]),
       st.integers(1, 3), st.integers(1, 2), st.sampled_from([Padding.VALID, Padding.SAME]),
       st.integers(1, 20), seeds)
def test_pad_fused_into_the_next_convolution(isa, formats, pads, opcode, kernel, stride, padding, channels,
                                             seed):
    """An int8 PAD of height and width read through by the next convolution: the same fused PADs."""
    model, _ = quantized_pad_then_conv(pads, opcode, kernel, stride, padding, channels, seed)
    assert check_same(model, must_compile=True)


def odd_quantization(draw, tensor) -> Quantization | None:
    """A quantization the Python path may refuse, partition, or take as it is."""
    channels = tensor.shape[-1] if tensor.shape else 1
    kind = draw(st.sampled_from(["none", "per_channel", "scale", "zero", "weights_zero"]))
    if kind == "none":
        return None
    if kind == "per_channel":
        axis = draw(st.integers(0, max(len(tensor.shape) - 1, 0)))
        count = draw(st.sampled_from([2, channels, tensor.shape[axis] if tensor.shape else 1]))
        return Quantization.of(np.linspace(0.01, 0.05, count, dtype=np.float32), 0, axis)
    if kind == "scale":
        return Quantization.of(draw(st.sampled_from([0.0, -0.5, np.inf, 1e-30, 1e-12, 1e12, 3e38])), 0)
    zero = draw(st.sampled_from([-300, 200, 128, -129])) if kind == "zero" else draw(st.integers(-3, 3))
    return Quantization.of(0.05, zero)


def small_case(opcode: str, rng: np.random.Generator):
    """A valid single-op int8 model of `opcode` (operands, options, output quantization)."""
    q = Quantization.of(0.05, 3)
    x4 = Input(int8s(rng, (1, 4, 5, 3)), q)
    weights = Quantization.of(0.02, 0)
    if opcode in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        shape, axis = ((4, 3, 3, 3), 0) if opcode == "CONV_2D" else ((1, 3, 3, 3), 3)
        operands = [x4, const(int8s(rng, shape), weights),
                    const(np.arange(shape[axis], dtype=np.int32), Quantization.of(0.001, 0))]
        options = Conv2DOptions(Padding.SAME, 1, 1) if opcode == "CONV_2D" else \
            DepthwiseConv2DOptions(Padding.SAME, 1, 1, 1)
        return operands, options, Quantization.of(0.1, -2)
    if opcode == "FULLY_CONNECTED":
        operands = [Input(int8s(rng, (2, 6)), q), const(int8s(rng, (5, 6)), weights),
                    const(np.arange(5, dtype=np.int32), Quantization.of(0.001, 0))]
        return operands, FullyConnectedOptions(), Quantization.of(0.1, -2)
    if opcode in ("ADD", "SUB", "MUL", "MAXIMUM"):
        options = {"ADD": AddOptions, "SUB": SubOptions, "MUL": MulOptions}.get(opcode, lambda: None)()
        y = Input(int8s(rng, (1, 1, 5, 3)), Quantization.of(0.07, -1))
        return [x4, y], options, Quantization.of(0.1, 1)
    if opcode in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
        return [x4], Pool2DOptions(Padding.VALID, 1, 1, 2, 2), q
    if opcode == "MEAN":
        return [x4, const(np.array([1, 2], np.int32))], ReducerOptions(False), Quantization.of(0.03, 0)
    if opcode == "SOFTMAX":
        return [x4], SoftmaxOptions(1.0), Quantization.of(1 / 256, -128)
    if opcode == "PAD":
        return [x4, const(np.array([[0, 0], [1, 1], [2, 0], [0, 0]], np.int32))], None, q
    if opcode == "CONCATENATION":
        return [x4, Input(int8s(rng, (1, 4, 5, 2)), q)], ConcatenationOptions(3), q
    return [x4], None, Quantization.of(0.04, 5)  # QUANTIZE, RELU, TANH


ODD_OPS = ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "SUB", "MUL", "MAXIMUM", "MAX_POOL_2D",
           "AVERAGE_POOL_2D", "MEAN", "SOFTMAX", "PAD", "CONCATENATION", "QUANTIZE", "RELU", "TANH"]


@SETTINGS
@given(st.sampled_from(ODD_OPS), st.data(), seeds)
def test_odd_quantizations_defer_or_agree(isa, opcode, data, seed):
    """One tensor's quantization made odd (absent, per channel, zero / negative / huge scales, zero
    points out of range, weight zero points): the compiler defers, or agrees with the Python path
    (which then must accept the model)."""
    operands, options, out = small_case(opcode, np.random.default_rng(seed))
    model = single_op_model(opcode, operands, options, output_dtypes=[np.int8], output_quant=[out])
    graph = model.subgraphs[0]
    tensor = graph.tensors[data.draw(st.integers(0, len(graph.tensors) - 1))]
    tensor.quantization = odd_quantization(data.draw, tensor)
    data_bytes = model.to_bytes()
    try:
        result, _ = compiled(data_bytes)
    except ValueError:  # the reader rejects the file (e.g. per-channel scales that fit no dimension)
        return
    if result is not None:
        check_same(data_bytes)


ODD_ACTIVATIONS = st.sampled_from([0, 1, 2, 3, 4, 5, 6, 9])


def odd_options(draw, opcode: str, options):
    """The op's options with odd values (unknown activations and paddings, other multipliers,
    formats, betas, axes), or none at all."""
    if options is None or draw(st.integers(0, 5)) == 0:
        return None
    fields = {}
    for name in options.__dataclass_fields__:
        if name == "fused_activation_function":
            fields[name] = draw(ODD_ACTIVATIONS)
        elif name == "padding":
            fields[name] = draw(st.sampled_from([0, 1, 2]))
        elif name in ("depth_multiplier", "weights_format", "quantized_bias_type"):
            fields[name] = draw(st.sampled_from([0, 1, 2, 9]))
        elif name in ("keep_dims", "keep_num_dims", "pot_scale_int16", "asymmetric_quantize_inputs"):
            fields[name] = draw(st.booleans())
        elif name == "beta":
            fields[name] = draw(st.sampled_from([0.0, -1.0, 1.0, 1e30, 0.5]))
        elif name == "axis":
            fields[name] = draw(st.integers(-5, 4))
    return dataclasses.replace(options, **fields)


@SETTINGS
@given(st.sampled_from(ODD_OPS), st.data(), seeds)
def test_odd_options_defer_or_agree(isa, opcode, data, seed):
    """Odd option values: the compiler defers, or agrees with the Python path."""
    operands, options, out = small_case(opcode, np.random.default_rng(seed))
    try:
        model = single_op_model(opcode, operands, odd_options(data.draw, opcode, options),
                                output_dtypes=[np.int8], output_quant=[out])
        data_bytes = model.to_bytes()
        result, _ = compiled(data_bytes)
    except Exception:  # noqa: BLE001 -- edgelite's shape function or the reader refuses the model
        return
    if result is not None:
        check_same(data_bytes)


def test_tables_match_the_python_lowerers():
    """The table kinds are the bytes the Python lowerers put in their QLUT / QSOFTMAX tables."""
    assert int8_tables.TABLES["requantize"](0.5, 3, 0.25, -7) == \
        int8_tables.requantize_array(0.5, 3, 0.25, -7).tobytes()
    assert len(int8_tables.dequantize_table(0.1, 5)) == 512 * 4
    assert len(int8_tables.softmax_exp_table(0.2, 1.0)) == 256 * 4
    with pytest.raises(Exception):  # noqa: B017 -- LOGISTIC int8 needs output scale 1/256: the check refuses
        int8_tables.activation_table("LOGISTIC", 0.1, 0, 0.5, 0)




def test_padding_enum_is_what_the_window_reads():
    assert (Padding.SAME, Padding.VALID) == (0, 1)
