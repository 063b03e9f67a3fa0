"""Gemm, MatMul and the normalizations (Batch, Instance, Layer, Lp) against onnxruntime in LiteRT
and edgelite: FULLY_CONNECTED for constant matrices, BATCH_MATMUL otherwise, BN folded away."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

from edgelite.errors import ConversionError
from tests.frontends.onnx.common import check_onnx, make_model, opcodes, rng_inputs

F = TensorProto.FLOAT
RNG = np.random.default_rng(4)


def w(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


# -- Gemm ------------------------------------------------------------------------------------

@pytest.mark.parametrize("attrs,c_shape", [
    ({}, (5,)),
    ({"transB": 1}, (5,)),
    ({"transB": 1, "alpha": 0.5, "beta": 2.0}, (1, 5)),
    ({"transA": 1}, ()),
    ({"transB": 1}, (3, 5)),
    ({"transB": 1}, (3, 1)),
    ({"beta": 0.0}, (5,)),
    ({}, None),
], ids=str)
def test_gemm_constant_b_is_fully_connected(attrs, c_shape):
    a_shape = (4, 3) if attrs.get("transA") else (3, 4)
    b = w(5, 4) if attrs.get("transB") else w(4, 5)
    inits = {"b": b, **({"c": w(*c_shape)} if c_shape is not None else {})}
    node = helper.make_node("Gemm", ["a", "b", "c"] if c_shape is not None else ["a", "b"], ["y"], **attrs)
    converted = check_onnx(make_model([node], [("a", a_shape, F)], ["y"], inits), rng_inputs({"a": a_shape}))
    ops = opcodes(converted)
    assert ops.count("FULLY_CONNECTED") == 1 and "BATCH_MATMUL" not in ops
    if c_shape in ((5,), (1, 5), ()):
        assert "ADD" not in ops  # C became the bias


@pytest.mark.parametrize("attrs", [{}, {"transA": 1, "transB": 1, "alpha": 2.0, "beta": 0.5}], ids=str)
def test_gemm_runtime_b_is_batch_matmul(attrs):
    a_shape = (4, 3) if attrs.get("transA") else (3, 4)
    b_shape = (5, 4) if attrs.get("transB") else (4, 5)
    node = helper.make_node("Gemm", ["a", "b", "c"], ["y"], **attrs)
    model = make_model([node], [("a", a_shape, F), ("b", b_shape, F), ("c", (5,), F)], ["y"])
    converted = check_onnx(model, rng_inputs({"a": a_shape, "b": b_shape, "c": (5,)}))
    assert "BATCH_MATMUL" in opcodes(converted)


def test_gemm_dynamic_batch():
    node = helper.make_node("Gemm", ["a", "b", "c"], ["y"], transB=1)
    model = make_model([node], [("a", ("N", 6), F)], ["y"], {"b": w(3, 6), "c": w(3)})
    converted = check_onnx(model, rng_inputs({"a": (5, 6)}))
    assert opcodes(converted) == ["FULLY_CONNECTED"]


# -- MatMul ----------------------------------------------------------------------------------

@pytest.mark.parametrize("a_shape,b_shape", [
    ((3, 4), (4, 5)),
    ((2, 3, 4), (4, 5)),
    ((2, 2, 3, 4), (1, 4, 5)),
    ((4,), (4, 5)),
    ((2, 3, 4), (4,)),
], ids=str)
def test_matmul_constant_b_is_fully_connected(a_shape, b_shape):
    node = helper.make_node("MatMul", ["a", "b"], ["y"])
    converted = check_onnx(make_model([node], [("a", a_shape, F)], ["y"], {"b": w(*b_shape)}),
                           rng_inputs({"a": a_shape}))
    assert "FULLY_CONNECTED" in opcodes(converted) and "BATCH_MATMUL" not in opcodes(converted)


@given(batch_a=st.lists(st.integers(1, 3), max_size=2), batch_b=st.lists(st.integers(1, 3), max_size=2),
       m=st.integers(1, 4), k=st.integers(1, 5), n=st.integers(1, 4),
       vector_a=st.booleans(), vector_b=st.booleans())
@settings(max_examples=12, deadline=None)
def test_matmul_runtime_operands_broadcast(batch_a, batch_b, m, k, n, vector_a, vector_b):
    """numpy matmul semantics: broadcast batch dims, 1-D operands promoted then squeezed."""
    batch_b = _broadcastable(batch_a, batch_b)
    a_shape = (k,) if vector_a else (*batch_a, m, k)
    b_shape = (k,) if vector_b else (*batch_b, k, n)
    node = helper.make_node("MatMul", ["a", "b"], ["y"])
    model = make_model([node], [("a", a_shape, F), ("b", b_shape, F)], ["y"])
    check_onnx(model, rng_inputs({"a": a_shape, "b": b_shape}))


def _broadcastable(batch_a: list[int], batch_b: list[int]) -> list[int]:
    """batch_b with dims clashing against batch_a (right-aligned) set to 1."""
    out = list(batch_b)
    for i in range(1, min(len(batch_a), len(batch_b)) + 1):
        if out[-i] != batch_a[-i] and batch_a[-i] != 1:
            out[-i] = 1
    return out


def test_matmul_then_add_dynamic_sequence():
    """A transformer projection: [N, T, D] @ const [D, E] + bias, with symbolic batch and sequence."""
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Add", ["h", "b"], ["y"])]
    model = make_model(nodes, [("x", ("N", "T", 8), F)], ["y"], {"w": w(8, 6), "b": w(6)})
    converted = check_onnx(model, rng_inputs({"x": (2, 5, 8)}))
    assert opcodes(converted) == ["FULLY_CONNECTED"]


def test_integer_matmul_is_unsupported():
    node = helper.make_node("MatMul", ["a", "b"], ["y"])
    model = make_model([node], [("a", (2, 3), TensorProto.INT32), ("b", (3, 2), TensorProto.INT32)],
                       [("y", None, TensorProto.INT32)])
    with pytest.raises(ConversionError, match="MatMul"):
        check_onnx(model, {})


# -- BatchNormalization ----------------------------------------------------------------------

def bn_inits(c: int) -> dict[str, np.ndarray]:
    return {"scale": 1 + 0.1 * w(c), "bias": w(c), "mean": w(c), "var": 1 + np.abs(w(c))}


@pytest.mark.parametrize("x_shape", [(2, 3), (1, 3, 7), (2, 3, 4, 5)], ids=str)
def test_batch_norm_alone(x_shape):
    node = helper.make_node("BatchNormalization", ["x", "scale", "bias", "mean", "var"], ["y"], epsilon=1e-3)
    model = make_model([node], [("x", x_shape, F)], ["y"], bn_inits(3))
    converted = check_onnx(model, rng_inputs({"x": x_shape}))
    assert opcodes(converted) == ["MUL", "ADD"]


def test_batch_norm_folds_into_conv_and_gemm():
    nodes = [helper.make_node("Conv", ["x", "cw"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "scale", "bias", "mean", "var"], ["bn"]),
             helper.make_node("Relu", ["bn"], ["r"]),
             helper.make_node("GlobalAveragePool", ["r"], ["g"]),
             helper.make_node("Flatten", ["g"], ["f"]),
             helper.make_node("Gemm", ["f", "gw"], ["h"], transB=1),
             helper.make_node("BatchNormalization", ["h", "s2", "b2", "m2", "v2"], ["y"])]
    inits = {"cw": w(3, 2, 3, 3), **bn_inits(3), "gw": w(4, 3),
             **{k[0] + "2": v for k, v in bn_inits(4).items()}}
    converted = check_onnx(make_model(nodes, [("x", (1, 2, 6, 6), F)], ["y"], inits),
                           rng_inputs({"x": (1, 2, 6, 6)}))
    ops = opcodes(converted)
    assert "MUL" not in ops and "ADD" not in ops, ops


def test_batch_norm_runtime_statistics():
    node = helper.make_node("BatchNormalization", ["x", "scale", "bias", "mean", "var"], ["y"])
    model = make_model([node], [("x", (2, 3, 4), F), ("mean", (3,), F)], ["y"],
                       {k: v for k, v in bn_inits(3).items() if k != "mean"})
    check_onnx(model, rng_inputs({"x": (2, 3, 4), "mean": (3,)}))


def test_batch_norm_training_outputs_are_unsupported():
    node = helper.make_node("BatchNormalization", ["x", "scale", "bias", "mean", "var"],
                            ["y", "running_mean", "running_var"], training_mode=1)
    model = make_model([node], [("x", (2, 3, 4), F)], ["y", "running_mean", "running_var"], bn_inits(3))
    with pytest.raises(ConversionError, match="training"):
        check_onnx(model, {})


# -- Instance / Layer / Lp normalization -----------------------------------------------------

@pytest.mark.parametrize("x_shape", [(2, 3, 5), (1, 3, 4, 6)], ids=str)
def test_instance_norm(x_shape):
    node = helper.make_node("InstanceNormalization", ["x", "scale", "bias"], ["y"], epsilon=1e-4)
    check_onnx(make_model([node], [("x", x_shape, F)], ["y"], {"scale": w(3), "bias": w(3)}),
               rng_inputs({"x": x_shape}))


@pytest.mark.parametrize("x_shape,axis,with_bias", [
    ((2, 5, 8), -1, True),
    ((2, 5, 8), 1, True),
    ((3, 8), -1, False),
    ((2, 3, 4, 5), 2, True),
], ids=str)
def test_layer_norm(x_shape, axis, with_bias):
    normalized = x_shape[axis:] if axis >= 0 else x_shape[axis:]
    inputs = ["x", "scale", "bias"] if with_bias else ["x", "scale"]
    node = helper.make_node("LayerNormalization", inputs, ["y"], axis=axis, epsilon=1e-5)
    inits = {"scale": w(*normalized), **({"bias": w(*normalized)} if with_bias else {})}
    converted = check_onnx(make_model([node], [("x", x_shape, F)], ["y"], inits), rng_inputs({"x": x_shape}))
    expected = ["MEAN", "SUB", "SQUARED_DIFFERENCE", "MEAN", "ADD", "RSQRT", "MUL", "MUL"]
    expected += ["ADD"] if with_bias else []
    assert opcodes(converted) == expected


def test_layer_norm_statistics_outputs_and_dynamic_dims():
    node = helper.make_node("LayerNormalization", ["x", "scale", "bias"], ["y", "mean", "inv_std"])
    model = make_model([node], [("x", ("N", "T", 6), F)], ["y", "mean", "inv_std"],
                       {"scale": w(6), "bias": w(6)}, opset=17)
    check_onnx(model, rng_inputs({"x": (3, 4, 6)}))


@pytest.mark.parametrize("x_shape,axis,p", [
    ((2, 6), -1, 2), ((2, 3, 4), -1, 2), ((2, 3, 4), 1, 2), ((2, 3, 4), 0, 1), ((2, 5), -1, 1),
], ids=str)
def test_lp_normalization(x_shape, axis, p):
    node = helper.make_node("LpNormalization", ["x"], ["y"], axis=axis, p=p)
    converted = check_onnx(make_model([node], [("x", x_shape, F)], ["y"]), rng_inputs({"x": x_shape}))
    if p == 2 and axis == -1:
        assert opcodes(converted) == ["L2_NORMALIZATION"]
