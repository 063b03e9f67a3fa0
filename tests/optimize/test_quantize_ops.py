"""Every op of the full-integer rule table, as a one-op float model quantized by edgelite:
LiteRT accepts and runs the result (op versions, scale restrictions, bias types), its output is
close to the float model's, and edgelite's kernels (where they exist) give identical integers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import edgelite
from edgelite.errors import UnsupportedOpError
from edgelite.ops.registry import options_class
from edgelite.optimize.quantize.modes._rules import RULES
from tests.ops.harness import Input, const, run_edgelite, run_litert, single_op_model

RNG = np.random.default_rng(7)


def rand(*shape, low=-1.0, high=1.0):
    return RNG.uniform(low, high, shape).astype(np.float32)


def ints(*values):
    return const(np.array(values, np.int32))


def options(op: str, **fields):
    cls = options_class(op)
    return None if cls is None else dataclasses.replace(cls(), **fields)


X4 = (1, 6, 6, 4)
CONV = {"padding": 0, "stride_w": 1, "stride_h": 1}
# op -> (operands: Input arrays are graph inputs, const() are constants; options; model kwargs)
CASES = {
    "CONV_2D": ([Input(rand(*X4)), const(rand(5, 3, 3, 4)), const(rand(5))],
                options("CONV_2D", **CONV, fused_activation_function=3), {}),
    "DEPTHWISE_CONV_2D": ([Input(rand(*X4)), const(rand(1, 3, 3, 4)), const(rand(4))],
                          options("DEPTHWISE_CONV_2D", **CONV, depth_multiplier=1), {}),
    "TRANSPOSE_CONV": ([ints(1, 12, 12, 3), const(rand(3, 3, 3, 4)), Input(rand(*X4)), const(rand(3))],
                       options("TRANSPOSE_CONV", padding=0, stride_w=2, stride_h=2),
                       {"output_dtypes": [np.float32]}),
    "FULLY_CONNECTED": ([Input(rand(2, 8)), const(rand(5, 8)), const(rand(5))],
                        options("FULLY_CONNECTED", fused_activation_function=1), {}),
    "BATCH_MATMUL": ([Input(rand(2, 3, 8)), Input(rand(2, 8, 5))], options("BATCH_MATMUL"), {}),
    "ADD": ([Input(rand(*X4)), Input(rand(*X4, low=-3, high=2))], options("ADD"), {}),
    "SUB": ([Input(rand(*X4)), const(rand(4))], options("SUB"), {}),
    "MUL": ([Input(rand(*X4)), Input(rand(*X4, low=0, high=4))], options("MUL"), {}),
    "SQUARED_DIFFERENCE": ([Input(rand(*X4)), Input(rand(*X4))], None, {}),
    "MEAN": ([Input(rand(*X4)), ints(1, 2)], options("MEAN", keep_dims=False), {}),
    "SUM": ([Input(rand(*X4)), ints(1, 2)], options("SUM", keep_dims=True), {}),
    "SOFTMAX": ([Input(rand(2, 10, low=-4, high=4))], options("SOFTMAX", beta=1.0), {}),
    "LOG_SOFTMAX": ([Input(rand(2, 10, low=-4, high=4))], options("LOG_SOFTMAX"), {}),
    "LOGISTIC": ([Input(rand(*X4, low=-6, high=6))], None, {}),
    "TANH": ([Input(rand(*X4, low=-3, high=3))], None, {}),
    "HARD_SWISH": ([Input(rand(*X4, low=-5, high=5))], None, {}),
    "GELU": ([Input(rand(*X4, low=-3, high=3))], options("GELU"), {}),
    "RELU": ([Input(rand(*X4))], None, {}),
    "RELU6": ([Input(rand(*X4, low=-2, high=8))], None, {}),
    "LEAKY_RELU": ([Input(rand(*X4))], options("LEAKY_RELU", alpha=0.2), {}),
    "PRELU": ([Input(rand(*X4)), const(rand(4, low=0, high=0.5))], None, {}),
    "MAX_POOL_2D": ([Input(rand(*X4))], options("MAX_POOL_2D", padding=1, stride_w=2, stride_h=2,
                                                 filter_width=2, filter_height=2), {}),
    "AVERAGE_POOL_2D": ([Input(rand(*X4))], options("AVERAGE_POOL_2D", padding=0, stride_w=1, stride_h=1,
                                                     filter_width=3, filter_height=3), {}),
    "REDUCE_MAX": ([Input(rand(*X4)), ints(3)], options("REDUCE_MAX"), {}),
    "RESHAPE": ([Input(rand(*X4)), ints(1, 36, 4)], options("RESHAPE"), {}),
    "SQUEEZE": ([Input(rand(1, 6, 1, 4))], options("SQUEEZE", squeeze_dims=[2]), {}),
    "EXPAND_DIMS": ([Input(rand(6, 4)), ints(0)], options("EXPAND_DIMS"), {}),
    "TRANSPOSE": ([Input(rand(*X4)), ints(0, 3, 1, 2)], options("TRANSPOSE"), {}),
    "PAD": ([Input(rand(*X4)), const(np.array([[0, 0], [1, 1], [2, 0], [0, 0]], np.int32))],
            options("PAD"), {}),
    "STRIDED_SLICE": ([Input(rand(*X4)), ints(0, 1, 0, 0), ints(1, 5, 6, 4), ints(1, 2, 1, 1)],
                      options("STRIDED_SLICE"), {}),
    "GATHER": ([Input(rand(5, 4)), ints(4, 0, 2)], options("GATHER", axis=0), {}),
    "RESIZE_BILINEAR": ([Input(rand(*X4)), ints(9, 9)], options("RESIZE_BILINEAR"), {}),
    "RESIZE_NEAREST_NEIGHBOR": ([Input(rand(*X4)), ints(12, 12)], options("RESIZE_NEAREST_NEIGHBOR"), {}),
    "CONCATENATION": ([Input(rand(*X4)), Input(rand(*X4, low=-3, high=0.5))],
                      options("CONCATENATION", axis=3), {}),
    "MAXIMUM": ([Input(rand(*X4)), Input(rand(*X4, low=-2, high=2))], None, {}),
    "SPLIT": ([ints(3), Input(rand(*X4))], options("SPLIT", num_splits=2),
              {"num_outputs": 2, "output_dtypes": [np.float32] * 2}),
    "ARG_MAX": ([Input(rand(*X4)), ints(3)], options("ARG_MAX", output_type=2),
                {"output_dtypes": [np.int32]}),
    "ARG_MIN": ([Input(rand(*X4)), ints(3)], options("ARG_MIN", output_type=2),
                {"output_dtypes": [np.int32]}),
    "REDUCE_MIN": ([Input(rand(*X4)), ints(1)], options("REDUCE_MIN", keep_dims=True), {}),
    "MINIMUM": ([Input(rand(*X4)), const(rand(4))], None, {}),
    "SLICE": ([Input(rand(*X4)), ints(0, 1, 2, 0), ints(1, 3, 4, 4)], None, {}),
    "PADV2": ([Input(rand(*X4)), const(np.array([[0, 0], [1, 1], [0, 2], [0, 0]], np.int32)),
               const(np.array(0.25, np.float32))], None, {}),
    "MIRROR_PAD": ([Input(rand(*X4)), const(np.array([[0, 0], [1, 1], [2, 2], [0, 0]], np.int32))],
                   options("MIRROR_PAD"), {}),
    "SPACE_TO_DEPTH": ([Input(rand(*X4))], options("SPACE_TO_DEPTH", block_size=2), {}),
    "DEPTH_TO_SPACE": ([Input(rand(*X4))], options("DEPTH_TO_SPACE", block_size=2), {}),
    "SPACE_TO_BATCH_ND": ([Input(rand(*X4)), ints(2, 2), const(np.zeros((2, 2), np.int32))], None, {}),
    "BATCH_TO_SPACE_ND": ([Input(rand(4, 3, 3, 4)), ints(2, 2), const(np.zeros((2, 2), np.int32))],
                          None, {}),
    "TILE": ([Input(rand(2, 3, 4)), ints(1, 2, 1)], None, {}),
    "BROADCAST_TO": ([Input(rand(1, 3, 4)), ints(2, 3, 4)], None, {"version": 2}),
    "SPLIT_V": ([Input(rand(*X4)), ints(1, 3), ints(3)], options("SPLIT_V", num_splits=2),
                {"num_outputs": 2}),
    "UNPACK": ([Input(rand(*X4))], options("UNPACK", num=4, axis=3), {"num_outputs": 4}),
    "PACK": ([Input(rand(2, 4)), Input(rand(2, 4, low=-3, high=3))], options("PACK", values_count=2, axis=0),
             {}),
}


def test_every_rule_has_a_case() -> None:
    assert sorted(RULES) == sorted(CASES)


def float_model(op: str):
    operands, opts, kwargs = CASES[op]
    return single_op_model(op, operands, opts, **kwargs), [o.value for o in operands if isinstance(o, Input)]


def calibration(feeds: list[np.ndarray]) -> list[list[np.ndarray]]:
    """The test input itself plus scaled copies, so that its range is covered."""
    return [[f * s for f in feeds] for s in (1.0, 0.9, 0.5)]


@pytest.mark.parametrize("mode", ["int8", "int16x8"])
@pytest.mark.parametrize("op", sorted(CASES))
def test_quantized_op_runs_in_litert(op: str, mode: str) -> None:
    model, feeds = float_model(op)
    quantized, report = edgelite.quantize(model, mode, calibration_data=calibration(feeds),
                                          return_report=True, progress=False)
    expected = ("int16" if mode == "int16x8" else "int8") in RULES[op].types
    assert report.ops[0].quantized == expected, report
    theirs = run_litert(quantized.to_bytes(), feeds)
    reference = run_litert(model.to_bytes(), feeds)
    for got, want in zip(theirs, reference, strict=True):
        tolerance = 0.06 if mode == "int8" else 0.01
        assert np.abs(got.astype(np.float64) - want).max() <= tolerance * (np.ptp(want) or 1.0) + 1e-6, op
    if not expected:  # the op stayed float: float kernels agree within rounding
        for a, b in zip(run_edgelite(model.to_bytes(), feeds), reference, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["int8", "int16x8"])
@pytest.mark.parametrize("op", sorted(CASES))
def test_edgelite_runs_the_quantized_op_identically(op: str, mode: str) -> None:
    """With integer model I/O the graph is the quantized op alone: edgelite's kernel vs LiteRT's."""
    if ("int16" if mode == "int16x8" else "int8") not in RULES[op].types:
        pytest.skip(f"{op} stays float in {mode}")
    model, feeds = float_model(op)
    io_type = np.int8 if mode == "int8" else np.int16
    quantized = edgelite.quantize(model, mode, calibration_data=calibration(feeds), input_type=io_type,
                                  output_type=io_type, progress=False)
    nodes = [node.opcode for node in quantized.subgraphs[0].operators]
    assert op in nodes and set(nodes) <= {op, "QUANTIZE"}  # requantized inputs of same-scale ops
    content = quantized.to_bytes()
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    details = litert.Interpreter(model_content=content).get_input_details()
    integer_feeds = [quantize_feed(f, d) for f, d in zip(feeds, details, strict=True)]
    theirs, ours = run_both(content, integer_feeds)
    if ours is None:
        pytest.skip(f"edgelite cannot run it yet: {MISSING[-1]}")
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=f"{op} {mode}")


def quantize_feed(value: np.ndarray, detail: dict) -> np.ndarray:
    if detail["dtype"] == np.float32:
        return value
    scale, zero = detail["quantization"]
    info = np.iinfo(detail["dtype"])
    return np.clip(np.round(value / scale) + zero, info.min, info.max).astype(detail["dtype"])


def run_both(content: bytes, feeds: list[np.ndarray]) -> tuple[list, list | None]:
    """LiteRT's outputs and edgelite's (None while edgelite lacks a kernel)."""
    theirs = run_litert(content, feeds)
    try:
        return theirs, run_edgelite(content, feeds)
    except UnsupportedOpError as error:
        MISSING.append(str(error))
        return theirs, None


MISSING: list[str] = []  # why edgelite could not run a model (the latest last)


@pytest.mark.parametrize("mode", ["int8", "int16x8"])
@pytest.mark.parametrize("op", ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"])
def test_per_tensor_weights(op: str, mode: str) -> None:
    model, feeds = float_model(op)
    quantized = edgelite.quantize(model, mode, calibration_data=calibration(feeds), per_channel=False,
                                  progress=False)
    graph = quantized.subgraphs[0]
    weights = [t for t in graph.tensors if t.type == edgelite.model.ir.TensorType.INT8 and
               quantized.constant(t) is not None]
    assert weights and all(t.quantization.scale.size == 1 for t in weights)
    theirs, ours = run_both(quantized.to_bytes(), feeds)
    want = run_litert(model.to_bytes(), feeds)[0]
    assert np.abs(theirs[0] - want).max() <= 0.06 * np.ptp(want)
    if ours is not None:
        np.testing.assert_array_equal(ours[0], theirs[0])


@pytest.mark.parametrize("mode", ["int8", "int16x8"])
def test_batch_matmul_with_constant_rhs(mode: str) -> None:
    x = rand(2, 3, 8)
    model = single_op_model("BATCH_MATMUL", [Input(x), const(rand(8, 5))], options("BATCH_MATMUL"))
    quantized = edgelite.quantize(model, mode, calibration_data=calibration([x]), progress=False)
    theirs, ours = run_both(quantized.to_bytes(), [x])
    want = run_litert(model.to_bytes(), [x])[0]
    assert np.abs(theirs[0] - want).max() <= 0.06 * np.ptp(want)
    if ours is not None:
        np.testing.assert_array_equal(ours[0], theirs[0])


@pytest.mark.parametrize("io_type", ["int8", "uint8"])
def test_integer_model_io(io_type: str) -> None:
    model, feeds = float_model("CONV_2D")
    quantized = edgelite.quantize(model, "int8", calibration_data=calibration(feeds), input_type=io_type,
                                  output_type=io_type, progress=False)
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    interpreter = litert.Interpreter(model_content=quantized.to_bytes())
    detail_in, detail_out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    assert detail_in["dtype"] == detail_out["dtype"] == np.dtype(io_type)
    theirs, ours = run_both(quantized.to_bytes(), [quantize_feed(feeds[0], detail_in)])
    scale, zero = detail_out["quantization"]
    want = run_litert(model.to_bytes(), feeds)[0]
    assert np.abs((theirs[0].astype(np.float64) - zero) * scale - want).max() <= 0.06 * np.ptp(want)
    if ours is not None:
        np.testing.assert_array_equal(ours[0], theirs[0])


HYBRID = {
    "CONV_2D": [Input(rand(1, 8, 8, 16)), const(rand(8, 3, 3, 16)), const(rand(8))],
    "DEPTHWISE_CONV_2D": [Input(rand(1, 8, 8, 128)), const(rand(1, 3, 3, 128)), const(rand(128))],
    "FULLY_CONNECTED": [Input(rand(2, 64)), const(rand(32, 64)), const(rand(32))],
    "BATCH_MATMUL": [Input(rand(2, 3, 64)), const(rand(64, 32))],
}
HYBRID_OPTIONS = {"CONV_2D": CONV, "DEPTHWISE_CONV_2D": {**CONV, "depth_multiplier": 1}}


@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize("op", sorted(HYBRID))
def test_dynamic_range_op(op: str, per_channel: bool) -> None:
    operands = HYBRID[op]
    model = single_op_model(op, operands, options(op, **HYBRID_OPTIONS.get(op, {})))
    feeds = [o.value for o in operands if isinstance(o, Input)]
    quantized, report = edgelite.quantize(model, "dynamic", per_channel=per_channel, return_report=True)
    assert report.ops[0].quantized, report
    theirs, ours = run_both(quantized.to_bytes(), feeds)
    want = run_litert(model.to_bytes(), feeds)[0]
    assert np.abs(theirs[0] - want).max() <= 0.03 * np.ptp(want)
    if ours is not None:
        np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5, atol=1e-5 * np.ptp(want))
