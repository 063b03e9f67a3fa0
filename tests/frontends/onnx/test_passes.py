"""Each graph pass alone, on small edgelite graphs: the rewrite happens and results do not change."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from edgelite.frontends.onnx.context import Context
from edgelite.frontends.onnx.passes import cleanup, fold, fuse, layout, pipeline
from edgelite.model.ir import Model, SignatureDef
from tests.frontends.onnx.common import edgelite_interpreter, litert_interpreter, run_tflite

RNG = np.random.default_rng(1)
NCHW_TO_NHWC, NHWC_TO_NCHW = [0, 2, 3, 1], [0, 3, 1, 2]


class Builder:
    """An edgelite graph built op by op through the converter Context (no folding)."""

    def __init__(self) -> None:
        self.ctx = Context(17, {}, fold=False)
        self.inputs = []

    def input(self, name, shape, signature=None):
        value = self.ctx.new_value(name, shape, np.float32, signature)
        self.inputs.append(value)
        return value

    def const(self, array, dtype=np.float32):
        return self.ctx.constant(np.asarray(array, dtype=dtype), "c")

    def op(self, opcode, *inputs, options=None, dtypes=None, count=1):
        values = self.ctx.emit(opcode, list(inputs), options, outputs=count, dtypes=dtypes)
        return values[0] if count == 1 else values

    def t(self, value, perm):
        return self.ctx.transpose(value, perm)

    def finish(self, *outputs) -> Model:
        graph = self.ctx.graph
        graph.inputs = tuple(v.index for v in self.inputs)
        graph.outputs = tuple(v.index for v in outputs)
        names = graph.tensors
        self.ctx.model.signatures = [SignatureDef("serving_default", {names[i].name: i for i in graph.inputs},
                                                  {names[i].name: i for i in graph.outputs})]
        return self.ctx.model


def ops(model: Model) -> list[str]:
    return [op.name for op in model.subgraphs[0].operators]


def apply(model: Model, *passes) -> Model:
    """Run passes on a copy, check that edgelite (and LiteRT) give the original's results."""
    changed = copy.deepcopy(model)
    for apply_pass in passes:
        apply_pass(changed, 0)
    cleanup.remove_dead_code(changed, 0)
    graph = model.subgraphs[0]
    feeds = {graph.tensors[i].name: RNG.standard_normal(graph.tensors[i].shape).astype(np.float32)
             for i in graph.inputs}
    expected = run_tflite(edgelite_interpreter(model.to_bytes()), feeds)
    for make in (edgelite_interpreter, litert_interpreter):
        got = run_tflite(make(changed.to_bytes()), feeds)
        for a, b in zip(got, expected, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    return changed


def test_fold_constants_evaluates_constant_subgraphs():
    b = Builder()
    x = b.input("x", (2, 3))
    w = b.t(b.const(RNG.standard_normal((3, 2))), [1, 0])
    y = b.op("ADD", x, b.op("MUL", w, b.const(2.0)))
    model = apply(b.finish(y), fold.fold_constants)
    assert ops(model) == ["ADD"]


def test_fold_constants_shape_gather_concat_reshape_chain():
    b = Builder()
    x = b.input("x", (2, 3, 4))
    shape = b.op("SHAPE", x, dtypes=[np.int32])
    first = b.op("GATHER", shape, b.const([0], np.int32), dtypes=[np.int32])
    new_shape = b.op("CONCATENATION", first, b.const([-1], np.int32), options={"axis": 0}, dtypes=[np.int32])
    y = b.op("RESHAPE", x, new_shape)
    model = apply(b.finish(y), fold.fold_constants)
    assert ops(model) == ["RESHAPE"]


def test_fold_keeps_dynamic_shapes():
    b = Builder()
    x = b.input("x", (1, 3), signature=(-1, 3))
    y = b.op("RESHAPE", x, b.op("SHAPE", x, dtypes=[np.int32]))
    model = b.finish(y)
    fold.fold_constants(model)
    assert ops(model) == ["SHAPE", "RESHAPE"]


def test_remove_identities():
    b = Builder()
    x = b.input("x", (2, 3))
    a = b.op("RESHAPE", x, b.const([2, 3], np.int32))
    c = b.op("ADD", a, b.const(0.0))
    d = b.op("MUL", c, b.const([1.0, 1.0, 1.0]))
    e = b.t(d, [0, 1])
    y = b.op("RELU", e)
    model = apply(b.finish(y), cleanup.remove_identities)
    assert ops(model) == ["RELU"]


def test_remove_dead_code_drops_ops_tensors_and_buffers():
    b = Builder()
    x = b.input("x", (4,))
    b.op("ADD", x, b.const(RNG.standard_normal(4)))  # unused
    y = b.op("RELU", x)
    model = b.finish(y)
    before = (len(model.subgraphs[0].tensors), len(model.buffers))
    assert cleanup.remove_dead_code(model) == 1
    assert ops(model) == ["RELU"]
    assert len(model.subgraphs[0].tensors) == before[0] - 2 and len(model.buffers) == before[1] - 1
    assert list(model.signatures[0].outputs.values()) == [1]


def test_layout_cancels_through_elementwise_ops():
    b = Builder()
    x = b.input("x", (1, 5, 6, 4))  # NHWC
    nchw = b.t(x, NHWC_TO_NCHW)
    scaled = b.op("MUL", nchw, b.const(RNG.standard_normal((4, 1, 1))))
    shifted = b.op("ADD", scaled, b.const(RNG.standard_normal((4, 1, 1))))
    act = b.op("RELU", shifted)
    summed = b.op("ADD", act, nchw)  # both operands carry the same transpose
    y = b.op("LOGISTIC", b.t(summed, NCHW_TO_NHWC))
    model = apply(b.finish(y), layout.optimize_layout)
    assert "TRANSPOSE" not in ops(model)


def test_layout_remaps_concat_pad_and_reduce_axes():
    b = Builder()
    x, z = b.input("x", (1, 4, 4, 3)), b.input("z", (1, 4, 4, 2))
    cat = b.op("CONCATENATION", b.t(x, NHWC_TO_NCHW), b.t(z, NHWC_TO_NCHW), options={"axis": 1})
    padded = b.op("PAD", cat, b.const([[0, 0], [0, 0], [1, 2], [0, 1]], np.int32))
    mean = b.op("MEAN", padded, b.const([2, 3], np.int32), options={"keep_dims": True})
    flat = b.op("MEAN", padded, b.const([1], np.int32), options={"keep_dims": False})
    y1 = b.t(mean, NCHW_TO_NHWC)
    model = apply(b.finish(y1, flat), layout.optimize_layout)
    assert "TRANSPOSE" not in ops(model)  # a channel mean of rank 3 is (N, H, W) in both layouts


def test_layout_turns_data_preserving_transposes_into_reshapes():
    b = Builder()
    x = b.input("x", (2, 1, 1, 8))
    y = b.op("RESHAPE", b.t(x, NHWC_TO_NCHW), b.const([2, 8], np.int32))
    model = apply(b.finish(y), layout.optimize_layout)
    assert ops(model) == ["RESHAPE"]


def test_layout_merges_transpose_chains():
    b = Builder()
    x = b.input("x", (2, 3, 4, 5))
    y = b.op("RELU", b.t(b.t(x, [0, 2, 3, 1]), [0, 2, 1, 3]))
    model = apply(b.finish(y), layout.optimize_layout)
    assert ops(model) == ["RELU", "TRANSPOSE"]  # one transpose, pushed to the output


def conv_graph(follow):
    b = Builder()
    x = b.input("x", (1, 6, 6, 3))
    w, bias = b.const(RNG.standard_normal((4, 3, 3, 3))), b.const(RNG.standard_normal(4))
    y = b.op("CONV_2D", x, w, bias, options={"stride_h": 1, "stride_w": 1})
    return b, follow(b, y)


def test_fold_affine_into_conv():
    b, y = conv_graph(lambda b, y: b.op("SUB", b.op("MUL", y, b.const(RNG.standard_normal((1, 1, 1, 4)))),
                                        b.const(RNG.standard_normal(4))))
    model = apply(b.finish(y), fuse.fold_affine)
    assert ops(model) == ["CONV_2D"]


def test_fold_affine_needs_a_single_consumer():
    b = Builder()
    x = b.input("x", (1, 6, 6, 3))
    y = b.op("DEPTHWISE_CONV_2D", x, b.const(RNG.standard_normal((1, 3, 3, 3))), b.const(np.zeros(3)),
             options={"stride_h": 1, "stride_w": 1, "depth_multiplier": 1})
    scaled = b.op("MUL", y, b.const(RNG.standard_normal(3)))
    model = apply(b.finish(scaled, y), fuse.fold_affine)
    assert ops(model) == ["DEPTHWISE_CONV_2D", "MUL"]
    b = Builder()
    x = b.input("x", (1, 6, 6, 3))
    y = b.op("DEPTHWISE_CONV_2D", x, b.const(RNG.standard_normal((1, 3, 3, 3))), b.const(np.zeros(3)),
             options={"stride_h": 1, "stride_w": 1, "depth_multiplier": 1})
    model = apply(b.finish(b.op("MUL", y, b.const(RNG.standard_normal(3)))), fuse.fold_affine)
    assert ops(model) == ["DEPTHWISE_CONV_2D"]


def test_matmul_plus_add_becomes_fully_connected_with_bias():
    b = Builder()
    x = b.input("x", (2, 5, 3))
    product = b.op("BATCH_MATMUL", x, b.const(RNG.standard_normal((3, 4))))
    y = b.op("ADD", product, b.const(RNG.standard_normal(4)))
    model = apply(b.finish(y), fuse.matmul_to_fully_connected, fuse.fold_affine)
    assert ops(model) == ["FULLY_CONNECTED"]
    assert model.subgraphs[0].operators[0].inputs[2] >= 0


@pytest.mark.parametrize("activation", ["RELU", "RELU6", "RELU_N1_TO_1"])
def test_fuse_activations(activation):
    b, y = conv_graph(lambda b, y: b.op(activation, y))
    model = apply(b.finish(y), fuse.fuse_activations)
    assert ops(model) == ["CONV_2D"]
    assert model.subgraphs[0].operators[0].options.fused_activation_function.name == activation


def test_no_activation_fusion_when_the_producer_output_is_also_read_elsewhere():
    b = Builder()
    x, z = b.input("x", (4,)), b.input("z", (4,))
    s = b.op("ADD", x, z)
    model = apply(b.finish(b.op("RELU6", s), s), fuse.fuse_activations)
    assert ops(model) == ["ADD", "RELU6"]


def test_pipeline_without_optimize_only_removes_dead_code():
    b = Builder()
    x = b.input("x", (4,))
    b.op("RELU", x)
    y = b.op("ADD", x, b.const(0.0))
    model = b.finish(y)
    pipeline.run(model, optimize=False)
    assert ops(model) == ["ADD"]


def test_layout_moves_transposes_across_channel_shuffles():
    """NCHW channel shuffle between NHWC convs: one transpose (the shuffle itself) is left."""
    b = Builder()
    x = b.input("x", (1, 4, 4, 6))
    nchw = b.t(x, NHWC_TO_NCHW)
    split = b.op("RESHAPE", nchw, b.const([1, 2, 3, 4, 4], np.int32), options={"new_shape": (1, 2, 3, 4, 4)})
    shuffled = b.t(split, [0, 2, 1, 3, 4])
    merged = b.op("RESHAPE", shuffled, b.const([1, 6, 4, 4], np.int32), options={"new_shape": (1, 6, 4, 4)})
    y = b.op("RELU", b.t(merged, NCHW_TO_NHWC))
    model = apply(b.finish(y), layout.optimize_layout)
    assert ops(model).count("TRANSPOSE") == 1


def test_reshape_groups():
    from edgelite.frontends.onnx.passes.reshape_layout import groups

    assert groups((1, 6, 4), (1, 2, 3, 4)) == [([0], [0]), ([1], [1, 2]), ([2], [3])]
    assert groups((2, 3, 4), (2, 12)) == [([0], [0]), ([1, 2], [1])]
    assert groups((4, 6), (6, 4)) is None
    assert groups((-1, 6), (-1, 2, 3)) == [([0], [0]), ([1], [1, 2])]


def test_flatten_transpose_folds_into_fully_connected_weights():
    b = Builder()
    x = b.input("x", (2, 3, 3, 4))  # NHWC features
    flat = b.op("RESHAPE", b.t(x, NHWC_TO_NCHW), b.const([2, 36], np.int32), options={"new_shape": (2, 36)})
    y = b.op("FULLY_CONNECTED", flat, b.const(RNG.standard_normal((5, 36))), b.const(RNG.standard_normal(5)))
    from edgelite.frontends.onnx.passes.flatten import transpose_into_fully_connected

    model = apply(b.finish(y), transpose_into_fully_connected)
    assert ops(model) == ["RESHAPE", "FULLY_CONNECTED"]


def _gelu_nodes(variant: int) -> list:
    from onnx import helper

    head = [helper.make_node("Div", ["x", "sqrt2"], ["s"]), helper.make_node("Erf", ["s"], ["e"]),
            helper.make_node("Add", ["e", "one"], ["u"])]
    if variant == 0:  # (x * u) * 0.5
        return head + [helper.make_node("Mul", ["x", "u"], ["p"]),
                       helper.make_node("Mul", ["p", "half"], ["y"])]
    return head + [helper.make_node("Mul", ["x", "half"], ["p"]), helper.make_node("Mul", ["p", "u"], ["y"])]


@pytest.mark.parametrize("variant", [0, 1])
def test_erf_gelu_becomes_gelu(variant):
    from onnx import TensorProto

    from tests.frontends.onnx.common import check_onnx, make_model, opcodes, rng_inputs

    inits = {"sqrt2": np.float32(np.sqrt(2)), "one": np.float32(1), "half": np.float32(0.5)}
    model = make_model(_gelu_nodes(variant), [("x", (2, 16), TensorProto.FLOAT)], ["y"], inits)
    assert opcodes(check_onnx(model, rng_inputs({"x": (2, 16)}))) == ["GELU"]


def test_x_times_hard_sigmoid_becomes_hard_swish():
    from onnx import TensorProto, helper

    from tests.frontends.onnx.common import check_onnx, make_model, opcodes, rng_inputs

    nodes = [helper.make_node("HardSigmoid", ["x"], ["g"], alpha=1 / 6, beta=0.5),
             helper.make_node("Mul", ["g", "x"], ["y"])]
    model = make_model(nodes, [("x", (2, 16), TensorProto.FLOAT)], ["y"])
    assert opcodes(check_onnx(model, {"x": 4 * rng_inputs({"x": (2, 16)})["x"]})) == ["HARD_SWISH"]
