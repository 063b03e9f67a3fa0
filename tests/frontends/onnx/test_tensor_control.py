"""ONNX data movement and control (ops/tensor.py, ops/einsum.py, ops/control.py): Concat, Split,
Slice, Gather, GatherElements, GatherND, Pad, NonZero, Einsum, If, Dropout."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

import edgelite
from edgelite.errors import ConversionError
from tests.frontends.onnx.common import check_onnx, make_model, opcodes, rng_inputs

F, I64, B = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL
INT64_MAX = int(np.iinfo(np.int64).max)
RNG = np.random.default_rng(1)


def ints(*values: int) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def node_model(op, x_shape, inputs=(), attrs=None, inits=None, opset=17, outputs=("y",), extra=()):
    node = helper.make_node(op, ["x", *inputs], list(outputs), **(attrs or {}))
    return make_model([node], [("x", x_shape, F), *extra], list(outputs), inits, opset=opset)


def x_feed(shape) -> dict:
    return rng_inputs({"x": shape})


# -- Concat / Split --------------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concat(axis):
    shapes = {"a": (2, 3, 4), "b": (2, 3, 4), "c": (2, 3, 4)}
    node = helper.make_node("Concat", list(shapes), ["y"], axis=axis)
    model = make_model([node], [(k, s, F) for k, s in shapes.items()], ["y"])
    assert opcodes(check_onnx(model, rng_inputs(shapes))) == ["CONCATENATION"]


def test_concat_skips_empty_and_dynamic():
    node = helper.make_node("Concat", ["x", "x"], ["y"], axis=1)
    model = make_model([node], [("x", ("N", 2), F)], ["y"])
    check_onnx(model, x_feed((3, 2)))
    model = make_model([helper.make_node("Concat", ["x", "e"], ["y"], axis=0)], [("x", (2, 3), F)], ["y"],
                       {"e": np.zeros((0, 3), np.float32)})
    check_onnx(model, x_feed((2, 3)))


@pytest.mark.parametrize("opset,split,count", [
    (11, None, 3), (11, [1, 4, 1], 3), (13, [2, 4], 2), (13, None, 2), (18, None, 4), (18, None, 3),
], ids=str)
def test_split(opset, split, count):
    outputs = [f"y{k}" for k in range(count)]
    attrs, inputs, inits = {"axis": 1}, [], {}
    if split is not None and opset < 13:
        attrs["split"] = split
    elif split is not None:
        inputs, inits = ["", "split"][1:], {"split": ints(*split)}
    if opset >= 18 and split is None:
        attrs["num_outputs"] = count
    model = node_model("Split", (2, 6, 3), inputs, attrs, inits, opset=opset, outputs=outputs)
    check_onnx(model, x_feed((2, 6, 3)))


def test_split_dynamic_dims():
    model = node_model("Split", ("N", 4), attrs={"axis": 1}, outputs=["a", "b"], opset=13)
    check_onnx(model, x_feed((3, 4)))
    model = node_model("Split", ("N", 4), attrs={"axis": 0}, outputs=["a", "b"], opset=13)
    check_onnx(model, x_feed((6, 4)))


# -- Slice -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("starts,ends,axes,steps", [
    ((1,), (3,), (1,), None), ((0, 1), (INT64_MAX, -1), None, None), ((-3,), (-1,), (2,), None),
    ((4,), (0,), (1,), (-1,)), ((-1,), (-INT64_MAX,), (2,), (-2,)), ((0, 0), (5, 6), (1, 2), (2, 3)),
    ((10,), (20,), (1,), None), ((1, 0), (2, 100), (-3, -1), (1, -1)),
], ids=str)
def test_slice(starts, ends, axes, steps):
    optional = {"axes": axes, "steps": steps}
    inputs = ["starts", "ends", *(name if value else "" for name, value in optional.items())]
    while not inputs[-1]:  # omitted trailing inputs
        inputs.pop()
    inits = {"starts": ints(*starts), "ends": ints(*ends), **{k: ints(*v) for k, v in optional.items() if v}}
    check_onnx(node_model("Slice", (3, 5, 6), inputs, inits=inits), x_feed((3, 5, 6)))


def test_slice_opset9_attributes():
    model = node_model("Slice", (4, 5), attrs={"starts": [1, -3], "ends": [3, 1000], "axes": [0, 1]}, opset=9)
    assert opcodes(check_onnx(model, x_feed((4, 5)))) == ["SLICE"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(-7, 7), st.integers(-7, 7), st.sampled_from([1, 2, -1, -3])),
                min_size=3, max_size=3))
def test_slice_hypothesis(bounds):
    starts, ends, steps = zip(*bounds, strict=True)
    inits = {"starts": ints(*starts), "ends": ints(*ends), "axes": ints(0, 1, 2), "steps": ints(*steps)}
    model = node_model("Slice", (4, 5, 6), ["starts", "ends", "axes", "steps"], inits=inits)
    expected = np.zeros((4, 5, 6))[tuple(slice(s, e, k) for s, e, k in bounds)]
    if expected.size == 0:  # empty results: TFLite has no zero-sized tensors to compare
        return
    check_onnx(model, x_feed((4, 5, 6)))


def test_slice_dynamic_dims():
    inits = {"starts": ints(1, -2), "ends": ints(INT64_MAX, INT64_MAX), "axes": ints(0, 1)}
    model = node_model("Slice", ("N", "S", 3), ["starts", "ends", "axes"], inits=inits)
    check_onnx(model, x_feed((4, 5, 3)))
    check_onnx(model, x_feed((2, 3, 3)))


def test_slice_computed_ends():
    """ends from Shape (a dynamic sequence length), starts constant."""
    nodes = [helper.make_node("Shape", ["x"], ["shape"]),
             helper.make_node("Gather", ["shape", "one"], ["len"]),
             helper.make_node("Sub", ["len", "one"], ["end"]),
             helper.make_node("Unsqueeze", ["end", "zero"], ["ends"]),
             helper.make_node("Slice", ["x", "one_v", "ends", "one_v"], ["y"])]
    inits = {"one": np.asarray(1, np.int64), "zero": ints(0), "one_v": ints(1)}
    model = make_model(nodes, [("x", (2, "S", 3), F)], ["y"], inits)
    check_onnx(model, x_feed((2, 5, 3)))
    check_onnx(model, x_feed((2, 3, 3)))
    nodes = [helper.make_node("Slice", ["x", "starts", "ends"], ["y"])]
    model = make_model(nodes, [("x", (4, 6), F), ("starts", (2,), I64), ("ends", (2,), I64)], ["y"])
    check_onnx(model, {**x_feed((4, 6)), "starts": ints(1, -4), "ends": ints(INT64_MAX, -1)})


# -- Gathers ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("axis,indices", [
    (0, [[0, 2], [1, -1]]), (1, [-1, 0, 2]), (-1, 1), (2, [[-2]]),
], ids=str)
def test_gather_constant_indices(axis, indices):
    model = node_model("Gather", (3, 4, 5), ["i"], {"axis": axis}, {"i": np.asarray(indices, np.int64)})
    assert "FLOOR_MOD" not in opcodes(check_onnx(model, x_feed((3, 4, 5))))


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_gather_runtime_negative_indices(dtype):
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    model = node_model("Gather", (5, 3), ["i"], {"axis": 0}, extra=[("i", (2, 3), elem)])
    check_onnx(model, {**x_feed((5, 3)), "i": np.asarray([[0, -1, 4], [-5, 2, -2]], dtype)})
    model = node_model("Gather", ("N", 3), ["i"], {"axis": 0}, extra=[("i", (4,), elem)])
    check_onnx(model, {**x_feed((6, 3)), "i": np.asarray([0, -1, 5, -6], dtype)})


def test_gather_embedding_of_shape():
    """Gather on an int64 shape vector (the Shape -> Gather idiom) with a dynamic dim."""
    nodes = [helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Gather", ["s", "k"], ["y"], axis=0)]
    model = make_model(nodes, [("x", ("N", 3), F)], [("y", None, I64)], {"k": np.asarray(-2, np.int64)})
    check_onnx(model, x_feed((4, 3)))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_gather_elements(axis):
    shape = (3, 4)
    indices = RNG.integers(-shape[axis], shape[axis], (2, 4) if axis == 0 else (3, 2)).astype(np.int64)
    model = node_model("GatherElements", shape, ["i"], {"axis": axis},
                       extra=[("i", indices.shape, I64)])
    check_onnx(model, {**x_feed(shape), "i": indices})
    constant = node_model("GatherElements", shape, ["i"], {"axis": axis}, {"i": indices})
    check_onnx(constant, x_feed(shape))


@pytest.mark.parametrize("batch_dims,x_shape,indices", [
    (0, (3, 4), [[0, 1], [2, -1]]), (0, (3, 4, 2), [[1], [-1]]), (1, (2, 3, 4), [[[1, 0]], [[2, -1]]]),
    (1, (2, 3), [[1], [0]]),
], ids=str)
def test_gather_nd(batch_dims, x_shape, indices):
    indices = np.asarray(indices, np.int64)
    model = node_model("GatherND", x_shape, ["i"], {"batch_dims": batch_dims},
                       extra=[("i", indices.shape, I64)])
    check_onnx(model, {**x_feed(x_shape), "i": indices})


# -- Pad -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode,pads,value,expected", [
    ("constant", [0, 1, 2, 1, 0, 2], None, "PAD"), ("constant", [1, 0, 0, 0, 2, 1], 1.5, "PADV2"),
    ("reflect", [0, 2, 1, 0, 1, 2], None, "MIRROR_PAD"), ("edge", [0, 1, 1, 0, 1, 0], None, "MIRROR_PAD"),
    ("edge", [0, 3, 1, 0, 2, 4], None, "GATHER"),
    ("constant", [0, -1, 1, 0, 2, -2], None, "STRIDED_SLICE"), ("constant", [0, 0, 0, 0, 0, 0], None, None),
], ids=str)
def test_pad(mode, pads, value, expected):
    inputs = ["pads", "value"] if value is not None else ["pads"]
    inits = {"pads": ints(*pads), **({"value": np.float32(value)} if value is not None else {})}
    model = node_model("Pad", (2, 4, 5), inputs, {"mode": mode}, inits)
    ops = opcodes(check_onnx(model, x_feed((2, 4, 5))))
    assert expected is None and ops in ([], ["RESHAPE"]) or expected in ops


def test_pad_opset2_attributes_and_wrap_and_axes():
    model = node_model("Pad", (2, 3), attrs={"pads": [1, 0, 0, 2], "value": -1.0}, opset=2)
    model.graph.output[0].type.tensor_type.shape.dim.add().dim_value = 3
    model.graph.output[0].type.tensor_type.shape.dim.add().dim_value = 5
    check_onnx(model, x_feed((2, 3)))
    model = node_model("Pad", (2, 3), ["pads"], {"mode": "wrap"}, {"pads": ints(1, 2, 0, 3)}, opset=19)
    check_onnx(model, x_feed((2, 3)))
    inits = {"pads": ints(1, 2, 0, 3), "axes": ints(-1, 0)}
    model = node_model("Pad", (2, 3, 4), ["pads", "", "axes"], {}, inits, opset=18)
    check_onnx(model, x_feed((2, 3, 4)))


def test_pad_runtime_pads_and_value():
    model = node_model("Pad", ("N", 3), ["pads", "value"], extra=[("pads", (4,), I64), ("value", (), F)])
    check_onnx(model, {**x_feed((2, 3)), "pads": ints(1, 0, 2, 2), "value": np.asarray(3.0, np.float32)})


# -- NonZero ---------------------------------------------------------------------------------------
def test_nonzero():
    model = node_model("NonZero", (3, 4), outputs=["y"])
    model.graph.output[0].type.tensor_type.elem_type = I64
    x = (RNG.standard_normal((3, 4)) > 0).astype(np.float32)
    check_onnx(model, {"x": x})
    model = make_model([helper.make_node("NonZero", ["m"], ["y"])], [("m", (5,), B)], [("y", None, I64)])
    check_onnx(model, {"m": np.asarray([True, False, True, True, False])})


# -- Einsum ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("equation,shapes", [
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("ij,jk->ik", [(3, 4), (4, 5)]), ("ij->ji", [(3, 4)]), ("ij,kj->ik", [(3, 4), (5, 4)]),
    ("bhqk,bhkd->bhqd", [(1, 2, 3, 4), (1, 2, 4, 5)]), ("ji,jk->ik", [(4, 3), (4, 5)]),
    ("bsd,de->bse", [(2, 3, 4), (4, 6)]), ("i,j->ij", [(3,), (4,)]), ("ij,j->i", [(3, 4), (4,)]),
    ("bij->bj", [(2, 3, 4)]), ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("bnij,bjk->bnik", [(2, 3, 4, 5), (2, 5, 6)]), ("...ij,jk->...ik", [(2, 3, 4), (4, 5)]),
    ("abc,cd", [(2, 3, 4), (4, 5)]), ("...Ij,...jK->...IK", [(2, 3, 4), (2, 4, 5)]),
    ("ij,jk->i", [(3, 4), (4, 2)]), ("bqhd,bkhd->bhqk", [(2, 3, 4, 5), (2, 6, 4, 5)]),
], ids=str)
def test_einsum(equation, shapes):
    names = [f"x{k}" for k in range(len(shapes))]
    node = helper.make_node("Einsum", names, ["y"], equation=equation)
    model = make_model([node], [(n, s, F) for n, s in zip(names, shapes, strict=True)], ["y"], opset=12)
    converted = check_onnx(model, rng_inputs(dict(zip(names, shapes, strict=True))))
    if equation in ("bij,bjk->bik", "bhqd,bhkd->bhqk"):
        assert opcodes(converted) == ["BATCH_MATMUL"]


def test_einsum_unsupported_forms_are_reported():
    for equation, shapes in (("ii->i", [(3, 3)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)])):
        names = [f"x{k}" for k in range(len(shapes))]
        node = helper.make_node("Einsum", names, ["y"], equation=equation)
        model = make_model([node], [(n, s, F) for n, s in zip(names, shapes, strict=True)], ["y"], opset=12)
        with pytest.raises(ConversionError, match=equation.replace(".", r"\.")):
            edgelite.convert(model)


def test_einsum_dynamic_batch():
    node = helper.make_node("Einsum", ["a", "b"], ["y"], equation="bij,bjk->bik")
    model = make_model([node], [("a", ("N", 3, 4), F), ("b", ("N", 4, 5), F)], ["y"], opset=12)
    check_onnx(model, rng_inputs({"a": (3, 3, 4), "b": (3, 4, 5)}))


# -- If / Dropout ----------------------------------------------------------------------------------
def _branch(name: str, op: str) -> object:
    node = helper.make_node(op, ["x"], [f"{name}_out"])
    return helper.make_graph([node], name, [], [helper.make_tensor_value_info(f"{name}_out", F, None)])


def if_node(condition: str = "c") -> object:
    return helper.make_node("If", [condition], ["y"], then_branch=_branch("then", "Relu"),
                            else_branch=_branch("else", "Tanh"))


@pytest.mark.parametrize("condition,expected", [(True, "RELU"), (False, "TANH")])
def test_if_constant_condition(condition, expected):
    node = if_node()
    model = make_model([node], [("x", (2, 3), F)], ["y"], {"c": np.asarray(condition)})
    assert opcodes(check_onnx(model, x_feed((2, 3)))) == [expected]


def test_if_condition_from_static_shape_folds():
    nodes = [helper.make_node("Size", ["x"], ["n"]), helper.make_node("Greater", ["n", "four"], ["c"]),
             if_node()]
    model = make_model(nodes, [("x", (2, 3), F)], ["y"], {"four": np.asarray(4, np.int64)})
    assert opcodes(check_onnx(model, x_feed((2, 3)))) == ["RELU"]


def test_if_runtime_condition_is_unsupported():
    node = if_node()
    model = make_model([node], [("x", (2, 3), F), ("c", (), B)], ["y"])
    with pytest.raises(ConversionError, match="If.*condition computed at run time"):
        edgelite.convert(model)


@pytest.mark.parametrize("opset", [7, 12, 13])
def test_dropout_is_identity(opset):
    outputs = ["d", "mask"] if opset >= 12 else ["d"]
    inputs = ["x", "ratio", "training"] if opset >= 12 else ["x"]
    inits = {"ratio": np.float32(0.3), "training": np.asarray(False)} if opset >= 12 else {}
    nodes = [helper.make_node("Dropout", inputs, outputs), helper.make_node("Relu", ["d"], ["y"])]
    graph_outputs = ["y", ("mask", None, B)] if opset >= 12 else ["y"]
    model = make_model(nodes, [("x", (2, 3), F)], graph_outputs, inits, opset=opset)
    assert "RELU" in opcodes(check_onnx(model, x_feed((2, 3))))


def test_dropout_dynamic_mask_and_training_mode():
    nodes = [helper.make_node("Dropout", ["x"], ["y", "mask"])]
    model = make_model(nodes, [("x", ("N", 3), F)], ["y", ("mask", None, B)], opset=13)
    check_onnx(model, x_feed((4, 3)))
    nodes = [helper.make_node("Dropout", ["x", "", "t"], ["y"])]
    model = make_model(nodes, [("x", (2, 3), F)], ["y"], {"t": np.asarray(True)}, opset=13)
    with pytest.raises(ConversionError, match="training_mode"):
        edgelite.convert(model)
