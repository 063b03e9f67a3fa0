"""ONNX reductions, ArgMax/ArgMin, Softmax/LogSoftmax (ops/reduce.py) and comparisons, logic,
Where, IsNaN/IsInf, Cast (ops/logic.py): attribute and opset variants against onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

from edgelite.errors import ConversionError
from edgelite.frontends.onnx.importer import convert
from tests.frontends.onnx.common import check_onnx, make_model, opcodes
from tests.frontends.onnx.test_math import check_node, integers, node_model, normal

F = TensorProto.FLOAT
REDUCTIONS = ["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
              "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp"]
POSITIVE = {"ReduceLogSum"}  # needs a positive sum


def reduce_model(op_type: str, x: np.ndarray, axes, keepdims: int | None, opset: int, noop: int | None = None,
                 out_dtype=np.float32):
    axes_as_input = opset >= (13 if op_type == "ReduceSum" else 18)
    attrs = {} if keepdims is None else {"keepdims": keepdims}
    if noop is not None:
        attrs["noop_with_empty_axes"] = noop
    inits = {}
    if axes is not None and axes_as_input:
        inits["axes"] = np.asarray(axes, np.int64)
    elif axes is not None:
        attrs["axes"] = list(axes)
    return node_model(op_type, {"x": x}, out_dtype, opset, inits, **attrs)


def reduction_input(op_type: str, shape) -> np.ndarray:
    x = normal(*shape)
    return np.abs(x) + 0.1 if op_type in POSITIVE else x


@pytest.mark.parametrize("op_type", REDUCTIONS)
@pytest.mark.parametrize("opset", [13, 18])
@pytest.mark.parametrize("axes,keepdims", [((1,), 1), ((1,), 0), ((0, 2), 0), ((-1,), 1), (None, 1),
                                           (None, 0), ((-3, 2, 0), 0)], ids=str)
def test_reductions(op_type, opset, axes, keepdims):
    x = reduction_input(op_type, (2, 3, 4))
    check_onnx(reduce_model(op_type, x, axes, keepdims, opset), {"x": x})


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.data())
def test_reductions_hypothesis(shape, data):
    op_type = data.draw(st.sampled_from(REDUCTIONS))
    axes = data.draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=len(shape)))
    keepdims = data.draw(st.sampled_from([0, 1, None]))
    opset = data.draw(st.sampled_from([11, 18]))
    x = reduction_input(op_type, shape)
    check_onnx(reduce_model(op_type, x, axes, keepdims, opset), {"x": x})


@pytest.mark.parametrize("op_type", ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceL2", "ReduceSumSquare"])
def test_noop_with_empty_axes(op_type):
    x = normal(2, 3)
    converted = check_onnx(reduce_model(op_type, x, None, 1, 18, noop=1), {"x": x})
    assert not {"SUM", "MEAN", "REDUCE_MAX"} & set(opcodes(converted))
    check_onnx(reduce_model(op_type, x, [], 0, 18, noop=0), {"x": x})  # empty axes, no noop: all


@pytest.mark.parametrize("op_type", ["ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceMean",
                                     "ReduceSumSquare", "ReduceL1"])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_integer_reductions(op_type, dtype):
    x = integers(2, 3, 4, dtype=dtype, low=-5, high=6)
    check_onnx(reduce_model(op_type, x, [1], 0, 18, out_dtype=dtype), {"x": x})


@pytest.mark.parametrize("op_type", ["ReduceMax", "ReduceMin"])
def test_bool_max_min(op_type):
    x = np.asarray([[True, False, True], [False, False, False]])
    model = reduce_model(op_type, x, [1], 0, 20, out_dtype=np.bool_)
    converted = check_onnx(model, {"x": x})
    assert opcodes(converted) == ["REDUCE_ANY" if op_type == "ReduceMax" else "REDUCE_ALL"]


@pytest.mark.parametrize("op_type", ["ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd", "ReduceLogSumExp"])
def test_empty_reductions_are_constants(op_type):
    """A reduction over a zero-sized dim has ONNX's identity value (-inf for max, not the lowest float)."""
    x = np.zeros((2, 0, 4), np.float32)
    converted = check_onnx(reduce_model(op_type, x, [1], 1, 13), {"x": x})
    assert not {"REDUCE_MAX", "REDUCE_MIN", "SUM", "REDUCE_PROD"} & set(opcodes(converted))


def test_log_sum_exp_does_not_overflow():
    x = np.asarray([[100.0, 101.0, 99.0], [-100.0, -101.0, -99.5]], np.float32)
    check_onnx(reduce_model("ReduceLogSumExp", x, [1], 0, 18), {"x": x})


def test_dynamic_axes_are_unsupported():
    model = make_model([helper.make_node("ReduceSum", ["x", "axes"], ["y"])],
                       [("x", (2, 3), F), ("axes", (1,), TensorProto.INT64)], [("y", ("a", "b"), F)])
    with pytest.raises(ConversionError, match="ReduceSum.*axes"):
        convert(model)


def arg_input(shape) -> np.ndarray:
    """Few distinct values, so ties (first vs last index) occur."""
    return RNG_ARG.integers(0, 3, shape).astype(np.float32)


RNG_ARG = np.random.default_rng(1)


@pytest.mark.parametrize("op_type", ["ArgMax", "ArgMin"])
@pytest.mark.parametrize("attrs", [{}, {"axis": 1}, {"axis": -1, "keepdims": 0}, {"axis": 2, "keepdims": 1},
                                   {"axis": 1, "select_last_index": 1},
                                   {"axis": 0, "keepdims": 0, "select_last_index": 1}], ids=str)
def test_arg_max_min(op_type, attrs):
    x = arg_input((3, 4, 5))
    check_onnx(node_model(op_type, {"x": x}, np.int64, 13, **attrs), {"x": x})


@pytest.mark.parametrize("dtype", [np.int32, np.uint8, np.int8])
def test_arg_max_integer_inputs(dtype):
    x = integers(4, 6, dtype=dtype, low=0, high=50)
    check_onnx(node_model("ArgMax", {"x": x}, np.int64, 13, axis=1, keepdims=0), {"x": x})


@pytest.mark.parametrize("op_type", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("shape,axis", [((2, 5), None), ((2, 3, 4), None), ((2, 3, 4), 1), ((2, 3, 4), 0),
                                        ((2, 3, 4, 5), -1), ((2, 3, 4, 5), 2), ((2, 3, 4, 5), -3), ((6,), 0)],
                         ids=str)
def test_softmax(op_type, opset, shape, axis):
    x = normal(*shape) * 3
    attrs = {} if axis is None else {"axis": axis}
    converted = check_node(op_type, {"x": x}, opset=opset, **attrs)
    if opset >= 13 or axis in (None, -1, len(shape) - 1) and len(shape) <= 2:
        assert "RESHAPE" not in opcodes(converted)


def test_dynamic_batch():
    """A dynamic batch flows through reductions, ArgMax (last index), Softmax (opset 11) and Erf."""
    nodes = [helper.make_node("Add", ["x", "b"], ["a"]),
             helper.make_node("ReduceMean", ["a"], ["m"], axes=[2], keepdims=0),
             helper.make_node("Softmax", ["a"], ["s"], axis=1),
             helper.make_node("ArgMax", ["a"], ["i"], axis=1, select_last_index=1),
             helper.make_node("ReduceLogSumExp", ["a"], ["l"], axes=[2], keepdims=0),
             helper.make_node("Erf", ["a"], ["e"])]
    outputs = [("m", None, F), ("s", None, F), ("i", None, TensorProto.INT64), ("l", None, F), ("e", None, F)]
    model = make_model(nodes, [("x", ("N", 3, 4), F)], outputs, {"b": normal(4)}, opset=12)
    for batch in (1, 3):
        converted = check_onnx(model, {"x": normal(batch, 3, 4)})
    assert converted.subgraphs[0].tensors[converted.subgraphs[0].inputs[0]].shape_signature == (-1, 3, 4)


def test_softmax_dynamic_batch():
    model = make_model([helper.make_node("Softmax", ["x"], ["y"], axis=1)], [("x", ("N", 3, 4), F)], ["y"],
                       opset=11)
    for batch in (1, 3):
        check_onnx(model, {"x": normal(batch, 3, 4)})


@pytest.mark.parametrize("op_type", ["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"])
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64])
def test_comparisons(op_type, dtype):
    a, b = integers(2, 3, 4, dtype=dtype, low=-3, high=3), integers(3, 1, dtype=dtype, low=-3, high=3)
    check_node(op_type, {"a": a, "b": b}, out_dtype=np.bool_)


@pytest.mark.parametrize("op_type", ["Equal", "Less", "GreaterOrEqual"])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.uint16, np.uint32])
def test_comparisons_of_narrow_integers(op_type, dtype):
    info = np.iinfo(dtype)
    a = RNG_ARG.integers(info.min, info.max, (3, 4), endpoint=True).astype(dtype)
    b = np.concatenate([a[0, :2], [info.min, info.max]]).astype(dtype)
    check_node(op_type, {"a": a, "b": b}, out_dtype=np.bool_)


def bools(*shape: int) -> np.ndarray:
    return RNG_ARG.integers(0, 2, shape).astype(np.bool_)


@pytest.mark.parametrize("op_type", ["And", "Or", "Xor", "Equal"])
def test_binary_logic(op_type):
    check_node(op_type, {"a": bools(2, 3, 4), "b": bools(4)}, out_dtype=np.bool_)


def test_not():
    check_node("Not", {"a": bools(2, 5)}, out_dtype=np.bool_)


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64])  # onnxruntime has no bool Where
def test_where_broadcasting(dtype):
    x = integers(2, 3, 4, dtype=dtype, low=0, high=2) if dtype != np.float32 else normal(2, 3, 4)
    y = integers(4, dtype=dtype, low=0, high=2) if dtype != np.float32 else normal(4)
    check_node("Where", {"c": bools(3, 1), "x": x, "y": y}, out_dtype=dtype)


SPECIAL = np.asarray([np.nan, np.inf, -np.inf, 0.0, -1.5, 3e38, -3e38, 1.0], np.float32)


def test_is_nan():
    check_node("IsNaN", {"x": SPECIAL}, out_dtype=np.bool_)


@pytest.mark.parametrize("positive,negative", [(1, 1), (1, 0), (0, 1), (0, 0)])
def test_is_inf(positive, negative):
    check_node("IsInf", {"x": SPECIAL}, out_dtype=np.bool_, detect_positive=positive,
               detect_negative=negative)


CASTS = [(np.float32, np.int32), (np.float32, np.int64), (np.float32, np.bool_), (np.int64, np.float32),
         (np.int32, np.int64), (np.int64, np.int32), (np.bool_, np.float32), (np.bool_, np.int32),
         (np.float32, np.float16), (np.float16, np.float32), (np.int32, np.uint8), (np.float32, np.float64),
         (np.float64, np.float32), (np.uint8, np.float32)]


@pytest.mark.parametrize("source,target", CASTS, ids=str)
def test_cast(source, target):
    values = np.asarray([-3.7, -1.2, -0.0, 0.0, 0.4, 1.0, 2.6, 100.5], np.float64)
    if np.dtype(source).kind in "ub" or np.dtype(target) == np.uint8:
        values = np.abs(values)
    x = values.astype(source)
    to = helper.np_dtype_to_tensor_dtype(np.dtype(target))
    check_node("Cast", {"x": x}, out_dtype=target, to=to)


def test_cast_to_same_type_and_cast_like():
    x = normal(3)
    converted = check_node("Cast", {"x": x}, to=TensorProto.FLOAT)
    assert "CAST" not in opcodes(converted)
    check_node("CastLike", {"x": x}, out_dtype=np.int32, initializers={"like": np.zeros(1, np.int32)})


def test_cast_to_string_is_unsupported():
    with pytest.raises(ConversionError, match="Cast"):
        convert(make_model([helper.make_node("Cast", ["x"], ["y"], to=TensorProto.STRING)], [("x", (3,), F)],
                           [("y", (3,), TensorProto.STRING)]))
