"""ONNX shape ops (ops/shape.py): Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Shape, Size,
Expand, Tile, ConstantOfShape, Range — static, computed and dynamic shapes, across opsets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

import edgelite
from edgelite.errors import ConversionError
from tests.frontends.onnx.common import check_onnx, make_model, opcodes, rng_inputs

F, I64 = TensorProto.FLOAT, TensorProto.INT64


def ints(*values: int) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def one_node(op: str, x_shape, inputs=(), attrs=None, inits=None, opset=17, y_type=F):
    node = helper.make_node(op, ["x", *inputs], ["y"], **(attrs or {}))
    return make_model([node], [("x", x_shape, F)], [("y", None, y_type)], inits, opset=opset)


def feeds_for(shape) -> dict:
    return rng_inputs({"x": shape})


# -- Reshape --------------------------------------------------------------------------------------
@pytest.mark.parametrize("x_shape,target", [
    ((2, 3, 4), (6, 4)), ((2, 3, 4), (0, -1)), ((2, 3, 4), (-1,)), ((2, 3, 4), (0, 0, 2, 2)),
    ((2, 3, 4), (4, -1, 3)), ((1, 1), ()), ((6,), (1, 2, 1, 3)),
], ids=str)
def test_reshape_constant(x_shape, target):
    model = one_node("Reshape", x_shape, ["s"], inits={"s": ints(*target)})
    assert opcodes(check_onnx(model, feeds_for(x_shape))) == ["RESHAPE"]


def test_reshape_allowzero():
    model = one_node("Reshape", (2, 3), ["s"], {"allowzero": 1}, {"s": ints(3, 2)}, opset=14)
    check_onnx(model, feeds_for((2, 3)))
    model = one_node("Reshape", (2, 3), ["s"], {"allowzero": 1}, {"s": ints(0, 6)}, opset=14)
    with pytest.raises(ConversionError, match="allowzero"):
        edgelite.convert(model)


def test_reshape_opset1_attribute():
    node = helper.make_node("Reshape", ["x"], ["y"], shape=[3, -1])
    model = make_model([node], [("x", (2, 3, 2), F)], [("y", (3, 4), F)], opset=4)
    check_onnx(model, feeds_for((2, 3, 2)))


@pytest.mark.parametrize("x_shape,target,ops", [
    (("N", 3, 4), (0, -1), ["RESHAPE"]),      # one dynamic dim copied, -1 resolved from static dims
    (("N", "S", 4), (0, 0, 2, 2), None),      # two dynamic dims copied: the shape is built at run time
    (("N", "S", 4), (0, -1), None),
    (("N", "S", 4), (-1, 4), ["RESHAPE"]),
], ids=str)
def test_reshape_dynamic(x_shape, target, ops):
    model = one_node("Reshape", x_shape, ["s"], inits={"s": ints(*target)})
    converted = check_onnx(model, feeds_for((3, 3, 4)))
    if ops is not None:
        assert opcodes(converted) == ops
    check_onnx(model, feeds_for((2, 3, 4)))


def test_reshape_computed_shape():
    """Shape -> Slice -> Concat -> Reshape with two dynamic dims: RESHAPE by a runtime shape."""
    nodes = [helper.make_node("Shape", ["x"], ["shape"]),
             helper.make_node("Slice", ["shape", "zero", "two"], ["lead"]),
             helper.make_node("Concat", ["lead", "tail"], ["target"], axis=0),
             helper.make_node("Reshape", ["x", "target"], ["y"])]
    inits = {"zero": ints(0), "two": ints(2), "tail": ints(2, 3)}
    model = make_model(nodes, [("x", ("N", "S", 6), F)], ["y"], inits)
    check_onnx(model, feeds_for((2, 3, 6)))
    check_onnx(model, feeds_for((4, 1, 6)))


def test_reshape_shape_from_input_copies_zeros():
    node = helper.make_node("Reshape", ["x", "s"], ["y"])
    model = make_model([node], [("x", (2, 3, 4), F), ("s", (2,), I64)], ["y"])
    for target in (ints(0, -1), ints(4, 6), ints(-1, 2)):
        check_onnx(model, {**feeds_for((2, 3, 4)), "s": target})


@pytest.mark.parametrize("axis", [0, 1, 2, -1, 3])
def test_flatten(axis):
    model = one_node("Flatten", (2, 3, 2, 2), attrs={"axis": axis}, opset=13)
    assert opcodes(check_onnx(model, feeds_for((2, 3, 2, 2)))) == ["RESHAPE"]


def test_flatten_dynamic():
    model = one_node("Flatten", ("N", "C", 2), attrs={"axis": 2})
    check_onnx(model, feeds_for((2, 3, 2)))
    check_onnx(model, feeds_for((4, 1, 2)))
    model = one_node("Flatten", ("N", 3, 2), attrs={"axis": 1})
    assert opcodes(check_onnx(model, feeds_for((5, 3, 2)))) == ["RESHAPE"]


# -- Squeeze / Unsqueeze / Transpose -----------------------------------------------------------
@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("axes", [None, [1], [-1, 1]], ids=str)
def test_squeeze(opset, axes):
    inits, inputs, attrs = {}, [], {}
    if axes is not None and opset >= 13:
        inputs, inits = ["axes"], {"axes": ints(*axes)}
    elif axes is not None:
        attrs = {"axes": axes}
    model = one_node("Squeeze", (2, 1, 3, 1), inputs, attrs, inits, opset=opset)
    check_onnx(model, feeds_for((2, 1, 3, 1)))


@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("axes", [[0], [-1], [0, 3], [1, -1, 2]], ids=str)
def test_unsqueeze(opset, axes):
    inputs, inits, attrs = (["axes"], {"axes": ints(*axes)}, {}) if opset >= 13 else ([], {}, {"axes": axes})
    model = one_node("Unsqueeze", (2, 3), inputs, attrs, inits, opset=opset)
    check_onnx(model, feeds_for((2, 3)))


def test_unsqueeze_dynamic_dims():
    model = one_node("Unsqueeze", ("N", "S"), ["axes"], inits={"axes": ints(0, 2)})
    check_onnx(model, feeds_for((2, 3)))
    check_onnx(model, feeds_for((4, 5)))
    model = one_node("Squeeze", ("N", 1, "S"), ["axes"], inits={"axes": ints(1)})
    check_onnx(model, feeds_for((3, 1, 2)))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations(range(4)), st.booleans())
def test_transpose_hypothesis(perm, default):
    attrs = {} if default else {"perm": list(perm)}
    model = one_node("Transpose", (2, 3, 4, 5), attrs=attrs)
    check_onnx(model, feeds_for((2, 3, 4, 5)))


# -- Shape / Size ------------------------------------------------------------------------------
@pytest.mark.parametrize("attrs", [
    {}, {"start": 1}, {"end": -1}, {"start": -2, "end": 10}, {"start": 1, "end": 2},
], ids=str)
def test_shape_attributes(attrs):
    model = one_node("Shape", ("N", 3, "H", 5), attrs=attrs, y_type=I64, opset=15)
    converted = check_onnx(model, feeds_for((2, 3, 4, 5)))
    check_onnx(model, feeds_for((1, 3, 7, 5)))
    static = attrs == {"start": 1, "end": 2}  # only dim 1 (static): a constant, even with N and H dynamic
    assert ("SHAPE" not in opcodes(converted)) == static


def test_shape_static_folds():
    nodes = [helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Reshape", ["x", "s"], ["y"])]
    model = make_model(nodes, [("x", (2, 3), F)], ["y"])
    assert opcodes(check_onnx(model, feeds_for((2, 3)))) == ["RESHAPE"]


def test_size():
    for shape in ((2, 3, 4), ("N", 3)):
        model = one_node("Size", shape, y_type=I64)
        check_onnx(model, feeds_for((2, 3, 4) if shape[0] == 2 else (5, 3)))


# -- Expand / Tile / ConstantOfShape / Range ---------------------------------------------------
@pytest.mark.parametrize("x_shape,target", [
    ((3, 1), (3, 4)), ((3, 1), (2, 1, 4)), ((1,), (2, 3)), ((2, 3), (1, 1)), ((2, 1, 3), (4, 1)),
], ids=str)
def test_expand(x_shape, target):
    model = one_node("Expand", x_shape, ["s"], inits={"s": ints(*target)})
    check_onnx(model, feeds_for(x_shape))


def test_expand_dynamic_and_computed():
    model = one_node("Expand", ("N", 1), ["s"], inits={"s": ints(1, 4)})
    check_onnx(model, feeds_for((3, 1)))
    nodes = [helper.make_node("Shape", ["like"], ["s"]), helper.make_node("Expand", ["x", "s"], ["y"])]
    model = make_model(nodes, [("x", (1, 3), F), ("like", ("N", 3), F)], ["y"])
    check_onnx(model, rng_inputs({"x": (1, 3), "like": (4, 3)}))


@pytest.mark.parametrize("repeats", [(1, 1), (2, 3), (1, 4)], ids=str)
def test_tile(repeats):
    model = one_node("Tile", (2, 3), ["r"], inits={"r": ints(*repeats)})
    check_onnx(model, feeds_for((2, 3)))


def test_tile_runtime_repeats():
    node = helper.make_node("Tile", ["x", "r"], ["y"])
    model = make_model([node], [("x", (2, 3), F), ("r", (2,), I64)], ["y"])
    check_onnx(model, {**feeds_for((2, 3)), "r": ints(2, 2)})


@pytest.mark.parametrize("value", [None, np.asarray([1.5], np.float32), np.asarray([7], np.int64)], ids=str)
def test_constant_of_shape(value):
    attrs = {}
    if value is not None:
        elem = helper.np_dtype_to_tensor_dtype(value.dtype)
        attrs = {"value": helper.make_tensor("v", elem, [1], value.tolist())}
    out_type = I64 if value is not None and value.dtype == np.int64 else F
    fill = helper.make_node("ConstantOfShape", ["s"], ["y"], **attrs)
    shape = helper.make_node("Shape", ["x"], ["s"])
    model = make_model([shape, fill], [("x", ("N", 3), F)], [("y", None, out_type)])
    check_onnx(model, feeds_for((2, 3)))
    static = make_model([fill, helper.make_node("Identity", ["x"], ["unused"])], [("x", (1,), F)],
                        [("y", None, out_type)], {"s": ints(2, 2)})
    check_onnx(static, feeds_for((1,)))


@pytest.mark.parametrize("dtype,values", [
    (np.int64, (0, 10, 3)), (np.int32, (10, 0, -2)), (np.float32, (0.5, 3.0, 0.25)), (np.int64, (5, 1, 1)),
], ids=str)
def test_range(dtype, values):
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    node = helper.make_node("Range", ["start", "limit", "delta"], ["y"])
    model = make_model([node], [("start", (), elem), ("limit", (), elem)], [("y", None, elem)],
                       {"delta": np.asarray(values[2], dtype)})
    feeds = {"start": np.asarray(values[0], dtype), "limit": np.asarray(values[1], dtype)}
    if values[:2] != (5, 1):  # an empty range: TFLite has no zero-sized tensors
        check_onnx(model, feeds)
    inits = {"start": feeds["start"], "limit": feeds["limit"], "delta": np.asarray(values[2], dtype)}
    constant = make_model([node, helper.make_node("Relu", ["x"], ["z"])], [("x", (1,), F)],
                          [("y", None, elem), "z"], inits)
    if values[:2] != (5, 1):
        assert sorted(opcodes(check_onnx(constant, feeds_for((1,))))) == ["RELU", "RESHAPE"]  # y copied
    else:
        assert "RANGE" not in opcodes(edgelite.convert(constant))


# -- Shape chains with dynamic dims (ops/_symbols.py) -------------------------------------------
def _view_model(x_shape, picks, tail):
    """x.view(x.size(p0), x.size(p1), ..., *tail) as a torch export writes it."""
    nodes = [helper.make_node("Shape", ["x"], ["shape"])]
    parts = []
    for k in range(len(picks)):
        nodes += [helper.make_node("Gather", ["shape", f"i{k}"], [f"d{k}"], axis=0),
                  helper.make_node("Unsqueeze", [f"d{k}", "zero"], [f"u{k}"])]
        parts.append(f"u{k}")
    nodes += [helper.make_node("Concat", [*parts, "tail"], ["target"], axis=0),
              helper.make_node("Reshape", ["x", "target"], ["y"])]
    inits = {"zero": ints(0), "tail": ints(*tail)}
    inits.update({f"i{k}": np.asarray(axis, np.int64) for k, axis in enumerate(picks)})
    return make_model(nodes, [("x", x_shape, F)], ["y"], inits)


@pytest.mark.parametrize("x_shape,picks,tail,expected", [
    (("N", 3, 4), [0], [-1], ["RESHAPE"]),                 # x.view(x.size(0), -1)
    (("N", 3, 4), [0, 1], [2, 2], ["RESHAPE"]),            # one dynamic dim: -1 in a constant shape
    (("N", "S", 8), [0, 1], [2, 4], None),                 # two dynamic dims: assembled from SHAPE(x)
    (("N", "S", 8), [0, -2], [-1], None),
], ids=str)
def test_shape_chain_with_dynamic_dims(x_shape, picks, tail, expected):
    model = _view_model(x_shape, picks, tail)
    converted = check_onnx(model, feeds_for((2, 3, 4) if x_shape[1] == 3 else (2, 3, 8)))
    check_onnx(model, feeds_for((5, 3, 4) if x_shape[1] == 3 else (1, 6, 8)))
    if expected is not None:
        assert opcodes(converted) == expected
    else:
        assert opcodes(converted).count("RESHAPE") == 1 and "SELECT_V2" not in opcodes(converted)


def test_static_dims_of_a_dynamic_shape_fold():
    """x.size(1) of an (N, 3, 4) tensor is 3: Gather/Slice of its shape become constants."""
    nodes = [helper.make_node("Shape", ["x"], ["shape"]),
             helper.make_node("Slice", ["shape", "one", "three"], ["tail"]),
             helper.make_node("Gather", ["shape", "minus_one"], ["last"], axis=0),
             helper.make_node("Unsqueeze", ["last", "zero"], ["last_1d"]),
             helper.make_node("Concat", ["tail", "last_1d"], ["target"], axis=0),
             helper.make_node("ConstantOfShape", ["target"], ["y"])]
    inits = {"one": ints(1), "three": ints(3), "zero": ints(0), "minus_one": np.asarray(-1, np.int64)}
    model = make_model(nodes, [("x", ("N", 3, 4), F)], ["y"], inits)
    assert "SHAPE" not in opcodes(check_onnx(model, feeds_for((2, 3, 4))))
