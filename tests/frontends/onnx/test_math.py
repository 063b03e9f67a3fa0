"""ONNX elementwise maths (ops/math.py): binary ops with broadcasting, Pow's special exponents,
the unary ops, Erf's approximation, variadic Max/Min/Sum/Mean, int64 paths and unsupported types."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

from edgelite.errors import ConversionError
from edgelite.frontends.onnx.importer import convert
from tests.frontends.onnx.common import (
    check_onnx,
    edgelite_interpreter,
    litert_interpreter,
    make_model,
    opcodes,
    run_tflite,
)

RNG = np.random.default_rng(0)


def node_model(op_type: str, feeds: Mapping[str, np.ndarray], out_dtype=np.float32, opset: int = 17,
               initializers: Mapping[str, np.ndarray] | None = None, n_outputs: int = 1, **attrs):
    """A one-node model over `feeds` (graph inputs) and `initializers` (in that input order)."""
    initializers = dict(initializers or {})
    names = [*feeds, *initializers]
    inputs = [(k, v.shape, helper.np_dtype_to_tensor_dtype(v.dtype)) for k, v in feeds.items()]
    out_type = helper.np_dtype_to_tensor_dtype(np.dtype(out_dtype))
    outputs = [(f"y{k}", None, out_type) for k in range(n_outputs)]
    node = helper.make_node(op_type, names, [o[0] for o in outputs], **attrs)
    return make_model([node], inputs, outputs, initializers, opset=opset)


def check_node(op_type: str, feeds: Mapping[str, np.ndarray], out_dtype=np.float32, opset: int = 17,
               initializers: Mapping[str, np.ndarray] | None = None, rtol: float = 1e-4, **attrs):
    return check_onnx(node_model(op_type, feeds, out_dtype, opset, initializers, **attrs), feeds, rtol=rtol)


def normal(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def integers(*shape: int, dtype=np.int32, low: int = -20, high: int = 20) -> np.ndarray:
    return RNG.integers(low, high, shape).astype(dtype)


BROADCAST_PAIRS = [((2, 3, 4), (2, 3, 4)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 1)), ((1, 3, 1), (2, 1, 5)),
                   ((5,), ()), ((), (2, 2)), ((2, 1, 3, 1), (1, 4, 1, 2))]


@pytest.mark.parametrize("op_type", ["Add", "Sub", "Mul", "Div", "Max", "Min"])
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_binary_float_broadcasting(op_type, shapes):
    a, b = normal(*shapes[0]), normal(*shapes[1])
    if op_type == "Div":
        b = np.where(np.abs(b) < 0.1, 1.0, b).astype(np.float32)
    check_node(op_type, {"a": a, "b": b})


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(1, 3), min_size=1, max_size=5), st.data())
def test_binary_broadcasting_hypothesis(shape, data):
    """Random numpy-broadcastable pairs: b drops leading dims and sets some dims to 1."""
    drop = data.draw(st.integers(0, len(shape)))
    other = [1 if data.draw(st.booleans()) else d for d in shape[drop:]]
    op_type = data.draw(st.sampled_from(["Add", "Sub", "Mul", "Max"]))
    a, b = normal(*shape), normal(*other)
    if data.draw(st.booleans()):
        a, b = b, a
    check_node(op_type, {"a": a, "b": b})


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("op_type", ["Add", "Sub", "Mul", "Div", "Max", "Min"])
def test_binary_integers(op_type, dtype):
    a, b = integers(2, 3, 4, dtype=dtype), integers(3, 1, dtype=dtype)
    if op_type == "Div":
        b = np.where(b == 0, 3, b).astype(dtype)
    check_node(op_type, {"a": a, "b": b}, out_dtype=dtype)


@pytest.mark.parametrize("op_type", ["Add", "Sub", "Mul", "Div", "Max", "Min"])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.uint16, np.uint32])
def test_narrow_integers_widen_exactly(op_type, dtype):
    """Types TFLite's arithmetic lacks run widened between CASTs; overflow wraps as in ONNX."""
    info = np.iinfo(dtype)
    if op_type == "Div" and dtype == np.uint32:
        pytest.skip("uint32 Div would need int64 DIV")
    if op_type in ("Max", "Min") and dtype in (np.int16, np.uint16):
        pytest.skip("onnxruntime has no 16-bit Max/Min")
    a = RNG.integers(info.min, info.max, (3, 4), endpoint=True).astype(dtype)
    b = RNG.integers(max(info.min, -100), min(info.max, 100), (4,), endpoint=True).astype(dtype)
    b[b == 0] = 1
    converted = check_node(op_type, {"a": a, "b": b}, out_dtype=dtype)
    assert "CAST" in opcodes(converted)


@pytest.mark.parametrize("op_type", ["Add", "Mul", "Div", "Max", "Sqrt", "Neg", "Floor", "Sum", "Mean"])
def test_float16_computes_in_float32(op_type):
    feeds = {"a": np.abs(normal(3, 4)).astype(np.float16) + np.float16(0.5)}
    if op_type not in ("Sqrt", "Neg", "Floor"):
        feeds["b"] = np.abs(normal(4)).astype(np.float16) + np.float16(0.5)
    converted = check_node(op_type, feeds, out_dtype=np.float16, rtol=1e-3)
    assert opcodes(converted)[-1] == "CAST"


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_integer_div_truncates_toward_zero(dtype):
    a = np.asarray([7, -7, 7, -7, 0, 5, -9], dtype)
    b = np.asarray([2, 2, -2, -2, 3, 5, 4], dtype)
    converted = check_node("Div", {"a": a, "b": b}, out_dtype=dtype)
    if dtype == np.int64:  # TFLite's DIV has no int64: it runs in int32 between casts
        assert opcodes(converted) == ["CAST", "CAST", "DIV", "CAST"]


def test_div_by_constant():
    check_node("Div", {"a": normal(2, 5)}, initializers={"b": np.asarray(4.0, np.float32)})


@pytest.mark.parametrize("exponent,expected", [
    (np.asarray(2.0, np.float32), "SQUARE"),
    (np.asarray(0.5, np.float32), "SQRT"),
    (np.asarray([3.0], np.float32), "POW"),
    (np.asarray(2, np.int64), "SQUARE"),  # the exponent's type may differ from the base's since opset 12
    (np.asarray([1.5, 2.0, 3.0], np.float32), "POW"),
], ids=str)
def test_pow_constant_exponents(exponent, expected):
    converted = check_node("Pow", {"x": np.abs(normal(2, 3)) + 0.1}, initializers={"e": exponent})
    assert expected in opcodes(converted)


def test_pow_exponent_one_is_identity():
    x = normal(2, 3)
    converted = check_node("Pow", {"x": x}, initializers={"e": np.asarray(1.0, np.float32)})
    assert "POW" not in opcodes(converted)  # the output is the input (a graph-output copy at most)


def test_pow_runtime_exponent_of_another_type():
    check_node("Pow", {"x": np.abs(normal(2, 3)) + 0.5, "e": integers(2, 3, low=-2, high=4)})


def test_pow_integer_base_float_exponent():
    base = integers(2, 3, low=1, high=6)
    check_node("Pow", {"x": base}, out_dtype=np.int32, initializers={"e": np.asarray([3.0], np.float32)})
    half = np.asarray([0.5], np.float32)  # computed in float32, truncated back: sqrt of squares
    check_node("Pow", {"x": base * base}, out_dtype=np.int32, initializers={"e": half})
    check_node("Pow", {"x": base, "e": np.asarray([[0.5], [2.0]], np.float32)}, out_dtype=np.int32)


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_pow_integers(dtype):
    base, exponent = integers(2, 3, dtype=dtype, low=-5, high=5), integers(2, 3, dtype=dtype, low=0, high=4)
    check_node("Pow", {"x": base, "e": exponent}, out_dtype=dtype)
    check_node("Pow", {"x": base}, out_dtype=dtype, initializers={"e": np.asarray(2, dtype)})


UNARY = {
    "Sqrt": lambda s: np.abs(normal(*s)) + 0.01,
    "Exp": lambda s: normal(*s),
    "Log": lambda s: np.abs(normal(*s)) + 0.01,
    "Abs": lambda s: normal(*s),
    "Neg": lambda s: normal(*s),
    "Reciprocal": lambda s: np.abs(normal(*s)) + 0.5,
    "Floor": lambda s: normal(*s) * 4,
    "Ceil": lambda s: normal(*s) * 4,
    "Round": lambda s: np.asarray([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49, -0.51, 3.7, -3.2], np.float32),
    "Sign": lambda s: np.asarray([-2.0, 0.0, 3.0, -0.0, 1e-30, -1e-30], np.float32),
    "Sin": lambda s: normal(*s) * 3,
    "Cos": lambda s: normal(*s) * 3,
    "Erf": lambda s: normal(*s) * 2,
}


@pytest.mark.parametrize("op_type", sorted(UNARY))
def test_unary_float(op_type):
    check_node(op_type, {"x": UNARY[op_type]((2, 3, 5))})


@pytest.mark.parametrize("op_type", ["Abs", "Neg", "Sign"])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_unary_integers(op_type, dtype):
    x = np.asarray([-5, 0, 7, -1, 2**30], dtype)
    if dtype == np.int64:
        x = np.concatenate([x, np.asarray([-(2**40), 2**40], dtype)])
    check_node(op_type, {"x": x}, out_dtype=dtype)


def test_erf_is_accurate_to_1e6():
    """Erf has no TFLite op: its rational approximation stays within 1e-6 everywhere."""
    x = np.concatenate([np.linspace(-6, 6, 4001), [-np.inf, np.inf, 1e-8, -1e-8, 0.0]]).astype(np.float32)
    model = node_model("Erf", {"x": x})
    data = convert(model).to_bytes()
    want = np.asarray([math.erf(float(v)) for v in x])
    for make in (edgelite_interpreter, litert_interpreter):
        got = run_tflite(make(data), {"x": x})[0]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
        small = np.abs(x) < 1e-3  # and keeps its relative accuracy near 0
        np.testing.assert_allclose(got[small], want[small], rtol=1e-5, atol=0)


@pytest.mark.parametrize("op_type", ["Max", "Min", "Sum", "Mean"])
@pytest.mark.parametrize("shapes", [[(2, 3)], [(2, 3), (2, 3)], [(2, 3), (2, 3), (2, 3)],
                                    [(2, 1, 3), (4, 1), (3,)], [(3,), (2, 3), (), (1, 3)]], ids=str)
def test_variadic(op_type, shapes):
    feeds = {f"x{k}": normal(*s) for k, s in enumerate(shapes)}
    converted = check_node(op_type, feeds)
    if op_type == "Sum" and len(shapes) == 3 and len(set(shapes)) == 1:
        assert opcodes(converted) == ["ADD_N"]


@pytest.mark.parametrize("op_type", ["Max", "Min"])  # ONNX Sum/Mean are float-only
def test_variadic_integers(op_type):
    feeds = {f"x{k}": integers(2, 3, dtype=np.int64) for k in range(3)}
    check_node(op_type, feeds, out_dtype=np.int64)


def test_constant_inputs_fold():
    nodes = [helper.make_node("Add", ["a", "b"], ["c"]), helper.make_node("Mul", ["x", "c"], ["y"])]
    model = make_model(nodes,
                       [("x", (2,), TensorProto.FLOAT)], ["y"],
                       {"a": np.asarray([1.0, 2.0], np.float32), "b": np.asarray([3.0, 4.0], np.float32)})
    converted = check_onnx(model, {"x": normal(2)})
    assert opcodes(converted) == ["MUL"]


def test_legacy_broadcast_with_axis():
    """Opset 6: broadcast=1, axis=1 lines b (3,) up with dim 1 of a (2, 3, 4)."""
    a, b = normal(2, 3, 4), normal(3)
    model = node_model("Add", {"a": a, "b": b}, opset=6, broadcast=1, axis=1)
    data = convert(model).to_bytes()
    for make in (edgelite_interpreter, litert_interpreter):
        got = run_tflite(make(data), {"a": a, "b": b})[0]
        np.testing.assert_allclose(got, a + b[:, None], rtol=1e-6)


@pytest.mark.parametrize("op_type,dtype", [("Sqrt", np.int32), ("Add", np.float64), ("Erf", np.int64),
                                           ("Div", np.uint32), ("Mul", np.uint64), ("Floor", np.float64)])
def test_unsupported_types_are_listed(op_type, dtype):
    feeds = {"a": np.ones((2,), dtype)} if op_type in ("Sqrt", "Erf", "Floor") else \
        {"a": np.ones((2,), dtype), "b": np.ones((2,), dtype)}
    with pytest.raises(ConversionError, match=f"{op_type}.*{np.dtype(dtype).name}"):
        convert(node_model(op_type, feeds, out_dtype=dtype))
