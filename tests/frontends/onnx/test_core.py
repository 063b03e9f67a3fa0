"""The ONNX importer and contract: conversion matches onnxruntime in LiteRT and edgelite, errors
list every unsupported op, dynamic dims, pinned shapes, NHWC I/O, names, the registry."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import edgelite
from edgelite.errors import ConversionError
from edgelite.frontends.onnx import importer
from edgelite.frontends.onnx.context import Context, Unsupported
from tests.frontends.onnx.common import (
    check_onnx,
    edgelite_interpreter,
    litert_interpreter,
    make_model,
    opcodes,
    rng_inputs,
    run_onnxruntime,
    run_tflite,
)

F = TensorProto.FLOAT
RNG = np.random.default_rng(0)


def weights(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def conv_model(attrs: dict, w_shape=(8, 3, 3, 3), x_shape=(1, 3, 9, 9), bias=True, activation="Relu"):
    inputs = ["x", "w", "b"] if bias else ["x", "w"]
    nodes = [helper.make_node("Conv", inputs, ["c" if activation else "y"], **attrs)]
    if activation:
        nodes.append(helper.make_node(activation, ["c"], ["y"]))
    inits = {"w": weights(*w_shape), **({"b": weights(w_shape[0])} if bias else {})}
    return make_model(nodes, [("x", x_shape, F)], ["y"], inits)


@pytest.mark.parametrize("attrs", [
    {},
    {"pads": [1, 1, 1, 1]},
    {"pads": [0, 1, 2, 1], "strides": [2, 2]},
    {"auto_pad": "SAME_UPPER", "strides": [2, 2]},
    {"auto_pad": "SAME_LOWER", "strides": [2, 1]},
    {"auto_pad": "VALID", "strides": [2, 2]},
    {"dilations": [2, 2], "pads": [2, 2, 2, 2]},
], ids=str)
def test_conv_matches_onnxruntime(attrs):
    converted = check_onnx(conv_model(attrs), rng_inputs({"x": (1, 3, 9, 9)}))
    assert opcodes(converted).count("CONV_2D") == 1
    assert "RELU" not in opcodes(converted)  # fused into the conv


@pytest.mark.parametrize("group,w_shape,expected", [
    (3, (6, 1, 3, 3), "DEPTHWISE_CONV_2D"),
    (3, (3, 1, 3, 3), "DEPTHWISE_CONV_2D"),
    (1, (4, 6, 3, 3), "CONV_2D"),
], ids=str)
def test_grouped_and_depthwise_conv(group, w_shape, expected):
    x_shape = (1, 3 if w_shape[1] == 1 else w_shape[1] * group, 8, 8)
    model = conv_model({"group": group, "pads": [1, 1, 1, 1]}, w_shape, x_shape, bias=False, activation=None)
    converted = check_onnx(model, rng_inputs({"x": x_shape}))
    assert expected in opcodes(converted)


def test_grouped_conv_edgelite():
    """Grouped CONV_2D (1 < group < channels): filter depth below input depth."""
    model = conv_model({"group": 2, "pads": [1, 1, 1, 1]}, (4, 2, 3, 3), (1, 4, 6, 6), activation=None)
    check_onnx(model, rng_inputs({"x": (1, 4, 6, 6)}), litert=False)


def test_conv1d():
    model = conv_model({"pads": [1, 1], "strides": [2]}, (4, 3, 3), (1, 3, 10), activation="LeakyRelu")
    check_onnx(model, rng_inputs({"x": (1, 3, 10)}))


@pytest.mark.parametrize("op,attrs", [
    ("Relu", {}), ("Sigmoid", {}), ("Tanh", {}), ("LeakyRelu", {"alpha": 0.2}), ("Elu", {}),
    ("Elu", {"alpha": 0.5}), ("Selu", {}), ("Celu", {"alpha": 2.0}), ("HardSigmoid", {}),
    ("HardSwish", {}), ("Softplus", {}), ("Softsign", {}), ("Mish", {}), ("ThresholdedRelu", {"alpha": 0.3}),
], ids=str)
def test_activations(op, attrs):
    node = helper.make_node(op, ["x"], ["y"], **attrs)
    model = make_model([node], [("x", (2, 3, 4, 5), F)], ["y"], opset=18)
    check_onnx(model, {"x": 3 * rng_inputs({"x": (2, 3, 4, 5)})["x"]})


@pytest.mark.parametrize("low,high,expected", [
    (0.0, 6.0, "RELU6"), (0.0, None, "RELU"), (-1.0, 1.0, "RELU_N1_TO_1"), (-0.5, 2.0, "MINIMUM"),
    (None, 0.25, "MINIMUM"),
], ids=str)
def test_clip(low, high, expected):
    names = ["x", "" if low is None else "low", "" if high is None else "high"]
    inits = {k: np.float32(v) for k, v in (("low", low), ("high", high)) if v is not None}
    model = make_model([helper.make_node("Clip", names, ["y"])], [("x", (2, 8), F)], ["y"], inits)
    converted = check_onnx(model, {"x": 4 * rng_inputs({"x": (2, 8)})["x"]})
    assert expected in opcodes(converted)


def test_clip_opset6_attributes():
    node = helper.make_node("Clip", ["x"], ["y"], min=0.0, max=6.0)
    model = make_model([node], [("x", (4, 4), F)], ["y"], opset=6)
    assert opcodes(check_onnx(model, {"x": 5 * rng_inputs({"x": (4, 4)})["x"]})) == ["RELU6"]


def test_prelu_per_channel():
    model = make_model([helper.make_node("PRelu", ["x", "slope"], ["y"])], [("x", (1, 3, 4, 4), F)], ["y"],
                       {"slope": weights(3, 1, 1)})
    check_onnx(model, rng_inputs({"x": (1, 3, 4, 4)}))


def test_gelu_opset20():
    for approximate in ("none", "tanh"):
        model = make_model([helper.make_node("Gelu", ["x"], ["y"], approximate=approximate)],
                           [("x", (3, 7), F)], ["y"], opset=20)
        check_onnx(model, rng_inputs({"x": (3, 7)}))


def test_every_unsupported_op_in_one_error():
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="relu"),
             helper.make_node("Det", ["a"], ["b"], name="det_1"),
             helper.make_node("Foo", ["b"], ["c"], name="foo_1", domain="example.ops"),
             helper.make_node("Foo", ["c"], ["d"], name="foo_2", domain="example.ops"),
             helper.make_node("Bar", ["d"], ["y"], name="bar", domain="example.ops")]
    model = make_model(nodes, [("x", (3, 3), F)], [("y", (), F)])
    model.opset_import.append(helper.make_opsetid("example.ops", 1))
    with pytest.raises(ConversionError) as error:
        edgelite.convert(model)
    message = str(error.value)
    for expected in ("Det", "example.ops.Foo", "example.ops.Bar", "det_1", "foo_1", "foo_2", "opset 17"):
        assert expected in message
    assert "3 ONNX op type(s)" in message

    kept = edgelite.convert(model, allow_custom_ops=True)
    customs = [op for op in kept.subgraphs[0].operators if op.opcode == "CUSTOM"]
    assert [op.custom_code for op in customs] == ["Det", *["example.ops.Foo"] * 2, "example.ops.Bar"]
    node = onnx.NodeProto.FromString(customs[0].custom_options)
    assert node.op_type == "Det"


def test_unsupported_variant_is_collected():
    model = make_model([helper.make_node("Gelu", ["x"], ["y"], approximate="cubic")], [("x", (3,), F)], ["y"],
                       opset=20)
    with pytest.raises(ConversionError, match="Gelu.*approximate='cubic'"):
        edgelite.convert(model)


def test_dynamic_batch_and_resize():
    model = conv_model({"pads": [1, 1, 1, 1]}, x_shape=("N", 3, 8, 8))
    converted = edgelite.convert(model)
    graph = converted.subgraphs[0]
    x, y = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    assert x.shape == (1, 3, 8, 8) and x.shape_signature == (-1, 3, 8, 8)
    assert y.shape_signature == (-1, 8, 8, 8)
    feeds = rng_inputs({"x": (3, 3, 8, 8)})
    expected = run_onnxruntime(model, feeds)[0]
    for make in (edgelite_interpreter, litert_interpreter):
        got = run_tflite(make(converted.to_bytes()), feeds)[0]
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_input_shapes_pin_symbolic_dims():
    model = conv_model({}, x_shape=("N", 3, "H", "W"))
    converted = edgelite.convert(model, input_shapes={"x": (2, 3, 10, 12)})
    graph = converted.subgraphs[0]
    x = graph.tensors[graph.inputs[0]]
    assert x.shape == (2, 3, 10, 12) and x.shape_signature is None
    assert graph.tensors[graph.outputs[0]].shape == (2, 8, 8, 10)
    with pytest.raises(ConversionError, match="not an input"):
        edgelite.convert(model, input_shapes={"nope": (1,)})


def test_nhwc_io_has_no_transpose():
    model = conv_model({"pads": [1, 1, 1, 1]})
    converted = edgelite.convert(model, nhwc_io=True)
    assert "TRANSPOSE" not in opcodes(converted)
    feeds = rng_inputs({"x": (1, 3, 9, 9)})
    expected = run_onnxruntime(model, feeds)[0].transpose(0, 2, 3, 1)
    got = run_tflite(litert_interpreter(converted.to_bytes()), {"x": feeds["x"].transpose(0, 2, 3, 1)})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_names_and_signature_are_kept():
    nodes = [helper.make_node("Relu", ["image"], ["features"]),
             helper.make_node("Sigmoid", ["features"], ["score"])]
    model = make_model(nodes, [("image", (1, 4), F)], ["features", "score"])
    converted = check_onnx(model, rng_inputs({"image": (1, 4)}))
    graph = converted.subgraphs[0]
    assert [graph.tensors[i].name for i in graph.inputs] == ["image"]
    assert [graph.tensors[i].name for i in graph.outputs] == ["features", "score"]
    (signature,) = converted.signatures
    assert signature.key == "serving_default"
    assert set(signature.inputs) == {"image"} and set(signature.outputs) == {"features", "score"}


def test_output_that_is_an_input_or_a_constant_is_copied():
    constant = helper.make_tensor("v", F, [3], [0, 1, 2])
    nodes = [helper.make_node("Identity", ["x"], ["x_out"]),
             helper.make_node("Constant", [], ["c"], value=constant)]
    model = make_model(nodes, [("x", (2, 2), F)], [("x_out", (2, 2), F), ("c", (3,), F)])
    converted = edgelite.convert(model)
    graph = converted.subgraphs[0]
    assert [graph.tensors[i].name for i in graph.outputs] == ["x_out", "c"]
    x = np.ones((2, 2), np.float32)
    for make in (edgelite_interpreter, litert_interpreter):
        got = run_tflite(make(converted.to_bytes()), {"x": x})
        np.testing.assert_array_equal(got[0], x)
        np.testing.assert_array_equal(got[1], np.arange(3))


def test_registry_merges_and_rejects_duplicates(monkeypatch):
    table = importer.converters()
    assert {"Conv", "Relu", "Sigmoid"} <= set(table)
    import edgelite.frontends.onnx.ops.activation as activation

    importer.converters.cache_clear()
    monkeypatch.setattr(activation, "CONVERTERS", {**activation.CONVERTERS, "Conv": activation.unary("RELU")})
    try:
        with pytest.raises(ConversionError, match="Conv has converters in both"):
            importer.converters()
    finally:
        importer.converters.cache_clear()


def test_context_folds_constant_inputs():
    ctx = Context(17, {})
    a = ctx.constant(np.arange(6, dtype=np.float32).reshape(2, 3), "a")
    (t,) = ctx.emit("TRANSPOSE", [a, ctx.constant(np.asarray([1, 0], np.int32))], outputs=1)
    assert t.is_const and t.shape == (3, 2) and not ctx.graph.operators
    np.testing.assert_array_equal(t.const, np.arange(6).reshape(2, 3).T)
    x = ctx.new_value("x", (1, 3), np.float32, (-1, 3))
    (y,) = ctx.emit("ADD", [x, a], outputs=1)  # broadcast (N, 3) + (2, 3): probe says batch is fixed
    assert y.shape == (2, 3)
    assert len(ctx.graph.operators) == 1


def test_unsupported_is_an_exception_for_converters():
    assert issubclass(Unsupported, Exception)
