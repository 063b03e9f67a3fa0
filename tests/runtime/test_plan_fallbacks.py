"""build_plan with the native extension (C arena planner, float16 widening, slab memory) against its
pure-Python / numpy fallbacks: the same nodes, shapes, folded constants (bit for bit), offsets,
arena size, lower bound and errors, on every shared model and on random graphs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgelite.errors import EdgeliteError
from edgelite.model.ir import Model, Operator, Subgraph, Tensor, TensorType
from edgelite.model.reader import load
from edgelite.ops import dequantize
from edgelite.ops.add import AddOptions
from edgelite.ops.conv_2d import Conv2DOptions
from edgelite.ops.reshape import ReshapeOptions
from edgelite.runtime import plan as fast_plan
from edgelite.runtime import planner as fast_planner
from edgelite.runtime.plan import Plan

MODELS = Path(__file__).parents[2].parent / "shared" / "models"
MODEL_FILES = sorted(MODELS.glob("*.tflite")) if MODELS.is_dir() else []
needs_models = pytest.mark.skipif(not MODEL_FILES, reason=f"no shared models in {MODELS}")
pytestmark = pytest.mark.skipif(fast_planner._native_plan_arena is None,
                                reason="the native extension is not built: no native path to compare")


def with_fallbacks(build, *args, **kwargs):
    """build(*args, **kwargs) with every native helper of planning replaced by its fallback."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fast_plan, "_slab", None)
        patch.setattr(dequantize, "_widen_native", None)
        patch.setattr(dequantize, "_widen_into_native", None)
        patch.setattr(fast_planner, "_native_plan_arena", None)
        return build(*args, **kwargs)


def assert_same_value(ours: object, theirs: object, where: str) -> None:
    """Arrays equal in dtype, shape and bytes (NaN payloads included); anything else by ==."""
    if isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray), where
        assert (ours.dtype, ours.shape) == (theirs.dtype, theirs.shape), where
        assert ours.tobytes() == theirs.tobytes(), where
        assert ours.flags.writeable == theirs.flags.writeable, where
    else:
        assert ours == theirs, where


def tensor_keys(tensors: list) -> list:
    """What tells tensors of two loads of one file apart: name, shape, type (None: absent)."""
    return [None if t is None else (t.name, t.shape, t.type) for t in tensors]


def assert_same_plan(ours: Plan, theirs: Plan) -> None:
    assert ours.shapes == theirs.shapes
    assert ours.arena_offsets == theirs.arena_offsets
    assert (ours.arena_size, ours.arena_lower_bound) == (theirs.arena_size, theirs.arena_lower_bound)
    assert (ours.preserved, ours.dynamic_tensors) == (theirs.preserved, theirs.dynamic_tensors)
    assert sorted(ours.constants) == sorted(theirs.constants)
    for k, value in theirs.constants.items():
        assert_same_value(ours.constants[k], value, f"constant {k}")
    assert len(ours.nodes) == len(theirs.nodes)
    for mine, node in zip(ours.nodes, theirs.nodes, strict=True):
        where = mine.node.describe()
        assert (mine.opdef, mine.dynamic, mine.node.index, mine.node.op) == \
            (node.opdef, node.dynamic, node.node.index, node.node.op), where
        assert mine.node.input_shapes == node.node.input_shapes, where
        assert tensor_keys(mine.node.input_tensors) == tensor_keys(node.node.input_tensors), where
        assert tensor_keys(mine.node.output_tensors) == tensor_keys(node.node.output_tensors), where
        assert len(mine.node.inputs) == len(node.node.inputs), where
        for value, expected in zip(mine.node.inputs, node.node.inputs, strict=True):
            assert_same_value(value, expected, f"{where}: known input")
        assert mine.node.outputs == node.node.outputs == [], where


def outcome(build, *args, **kwargs) -> tuple[str, object]:
    """('plan', Plan) or ('error', (type, message))."""
    try:
        return "plan", build(*args, **kwargs)
    except EdgeliteError as error:
        return "error", (type(error), str(error))


def assert_same_outcome(model_bytes: bytes, input_shapes: dict | None = None, preserve: bool = False) -> None:
    kind, ours = outcome(fast_plan.build_plan, load(model_bytes), 0, input_shapes or {},
                         preserve_all_tensors=preserve)
    expected_kind, theirs = with_fallbacks(outcome, fast_plan.build_plan, load(model_bytes), 0,
                                           input_shapes or {}, preserve_all_tensors=preserve)
    assert kind == expected_kind, (ours, theirs)
    if kind == "plan":
        assert_same_plan(ours, theirs)
    else:
        assert ours == theirs


@needs_models
@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("preserve", [False, True], ids=["arena", "preserve_all"])
def test_shared_models_plan_as_without_the_extension(path: Path, preserve: bool) -> None:
    assert_same_outcome(path.read_bytes(), preserve=preserve)


@needs_models
@pytest.mark.skipif(fast_plan._slab is None, reason="the native extension is not built")
def test_the_float16_block_is_one_slab() -> None:
    """Every widened float16 constant is a read-only view of one slab (native/_slab.c)."""
    path = MODELS / "hand_landmark_lite.tflite"
    if not path.exists():
        pytest.skip(f"{path} is not there")
    model = load(path.read_bytes())
    plan = fast_plan.build_plan(model, 0, {})
    graph = plan.subgraph
    widened = [plan.constants[op.outputs[0]] for op in graph.operators if op.opcode == "DEQUANTIZE"
               and graph.tensors[op.inputs[0]].type == TensorType.FLOAT16 and op.outputs[0] in plan.constants]
    owners = {}
    for value in widened:
        base = value
        while isinstance(base, np.ndarray):
            base = base.base
        owner = base.obj if isinstance(base, memoryview) else base
        owners[id(owner)] = owner
        assert not value.flags.writeable
    assert widened and [type(owner).__name__ for owner in owners.values()] == ["Slab"]


@needs_models
@pytest.mark.parametrize("batch", [2, 5])
def test_resized_inputs_plan_as_without_the_extension(batch: int) -> None:
    content = (MODELS / "digits_cnn_float16.tflite").read_bytes()
    graph = load(content).subgraphs[0]
    shapes = {i: (batch, *graph.tensors[i].shape[1:]) for i in graph.inputs}
    assert_same_outcome(content, shapes)


# -- random graphs: elementwise, reshape, pad + conv (fused-pad lifetimes), float16 weights -------

@st.composite
def random_models(draw: st.DrawFn) -> bytes:
    """A random chain-and-branch float32 graph over [1, h, w, c] tensors whose ops read earlier
    tensors: ADD (of two earlier tensors or a DEQUANTIZE-d float16 constant), RESHAPE (aliases),
    PAD followed by CONV_2D (the fused-pad lifetime rule), with random graph outputs."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    model = Model(subgraphs=[Subgraph(name="main")])
    graph = model.subgraphs[0]
    h, w, c = draw(st.integers(1, 6)), draw(st.integers(1, 6)), draw(st.integers(1, 4))
    shape = (1, h, w, c)

    def tensor(name: str, tensor_shape: tuple, tensor_type: TensorType = TensorType.FLOAT32,
               value: np.ndarray | None = None) -> int:
        buffer = model.add_buffer(value) if value is not None else 0
        graph.tensors.append(Tensor(name, tensor_shape, tensor_type, buffer))
        return len(graph.tensors) - 1

    def f16_weights(weight_shape: tuple) -> int:
        bits = rng.integers(0, 2**16, size=weight_shape, dtype=np.uint16)
        half = tensor(f"h{len(graph.tensors)}", weight_shape, TensorType.FLOAT16, bits.view(np.float16))
        wide = tensor(f"w{len(graph.tensors)}", weight_shape)
        graph.operators.append(Operator("DEQUANTIZE", (half,), (wide,)))
        return wide

    live = [tensor("x", shape)]
    for _ in range(draw(st.integers(1, 10))):
        step = draw(st.sampled_from(["add", "add_const", "add_variable", "reshape", "pad_conv"]))
        source = draw(st.sampled_from(live))
        if step == "add":
            other = draw(st.sampled_from(live))
            out = tensor(f"t{len(graph.tensors)}", shape)
            graph.operators.append(Operator("ADD", (source, other), (out,), AddOptions()))
        elif step == "add_variable":
            graph.tensors.append(Tensor(f"v{len(graph.tensors)}", shape, is_variable=True))
            out = tensor(f"t{len(graph.tensors)}", shape)
            graph.operators.append(Operator("ADD", (source, len(graph.tensors) - 2), (out,), AddOptions()))
        elif step == "add_const":
            out = tensor(f"t{len(graph.tensors)}", shape)
            graph.operators.append(Operator("ADD", (source, f16_weights((c,))), (out,), AddOptions()))
        elif step == "reshape":
            flat = tensor(f"r{len(graph.tensors)}", (1, h * w * c))
            graph.operators.append(Operator("RESHAPE", (source,), (flat,),
                                            ReshapeOptions(new_shape=(1, h * w * c))))
            out = tensor(f"t{len(graph.tensors)}", shape)
            graph.operators.append(Operator("RESHAPE", (flat,), (out,), ReshapeOptions(new_shape=shape)))
        else:
            pads = tensor(f"p{len(graph.tensors)}", (4, 2), TensorType.INT32,
                          np.array([[0, 0], [1, 1], [1, 1], [0, 0]], np.int32))
            padded = tensor(f"t{len(graph.tensors)}", (1, h + 2, w + 2, c))
            graph.operators.append(Operator("PAD", (source, pads), (padded,)))
            weights = f16_weights((c, 3, 3, c))
            out = tensor(f"t{len(graph.tensors)}", shape)
            graph.operators.append(Operator("CONV_2D", (padded, weights, -1), (out,),
                                            Conv2DOptions(padding=1)))
        live.append(out)
    outputs = draw(st.lists(st.sampled_from(live[1:]), min_size=1, max_size=3, unique=True))
    graph.inputs, graph.outputs = (0,), tuple(outputs)
    return model.to_bytes()


@settings(max_examples=60, deadline=None)
@given(content=random_models(), preserve=st.booleans())
def test_random_models_plan_as_without_the_extension(content: bytes, preserve: bool) -> None:
    assert_same_outcome(content, preserve=preserve)


@st.composite
def random_allocations(draw: st.DrawFn) -> list[fast_planner.Allocation]:
    count = draw(st.integers(0, 40))
    result = []
    for _ in range(count):
        first = draw(st.integers(-1, 20))
        size = draw(st.sampled_from([0, 1, 64, 65, 128, 1000, 4096])) if draw(st.booleans()) \
            else draw(st.integers(0, 5000))
        result.append(fast_planner.Allocation(size, first, first + draw(st.integers(0, 8))))
    return result


@settings(max_examples=300, deadline=None)
@given(allocations=random_allocations(), alignment=st.sampled_from([1, 4, 64]))
def test_c_arena_plans_as_the_python_planner(allocations: list, alignment: int) -> None:
    theirs = with_fallbacks(fast_planner.plan_arena, allocations, alignment)
    ours = fast_planner.plan_arena(allocations, alignment)
    assert (ours.offsets, ours.arena_size, ours.lower_bound) == \
        (theirs.offsets, theirs.arena_size, theirs.lower_bound)


@pytest.mark.parametrize("allocations", [
    [(2**45, 0, 1), (3, 1, 2), (2**61, 2, 2)],  # sizes beyond the C planner's range
    [(10, -(2**30), 2**30), (64, 0, 0)],  # steps beyond it
    [(True, 0, 1), (np.int64(100), 1, 1)],  # int-like values
])
def test_arena_plans_out_of_the_c_range_as_the_python_planner(allocations: list) -> None:
    allocations = [fast_planner.Allocation(*a) for a in allocations]
    theirs = with_fallbacks(fast_planner.plan_arena, allocations)
    ours = fast_planner.plan_arena(allocations)
    assert (ours.offsets, ours.arena_size, ours.lower_bound) == \
        (theirs.offsets, theirs.arena_size, theirs.lower_bound)


@pytest.mark.parametrize(("allocations", "alignment"), [
    ([(10, 3, 2)], 64), ([(-1, 0, 0)], 64), ([], 0), ([(1, 0, 0)], -4)])
def test_invalid_arenas_fail_as_in_the_python_planner(allocations: list, alignment: int) -> None:
    with pytest.raises(ValueError) as theirs:
        with_fallbacks(fast_planner.plan_arena, [fast_planner.Allocation(*a) for a in allocations], alignment)
    with pytest.raises(ValueError) as ours:
        fast_planner.plan_arena([fast_planner.Allocation(*a) for a in allocations], alignment)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("flag", [True, 1, np.bool_(True)], ids=["bool", "int", "numpy_bool"])
def test_variable_flags_that_are_not_bools_plan_as_without_the_extension(flag: object) -> None:
    """y = (x + v) + c with v a variable whose is_variable flag is `flag` (a Model built in memory
    keeps whatever it is given), beside an unused string tensor and an empty one (a constant)."""

    def model() -> Model:
        built = Model(subgraphs=[Subgraph(name="main")])
        graph = built.subgraphs[0]
        ones = built.add_buffer(np.ones(2, np.float32))
        graph.tensors = [Tensor("x", (2,)), Tensor("v", (2,), is_variable=flag), Tensor("s", (2,)),
                         Tensor("c", (2,), buffer=ones), Tensor("y", (2,)),
                         Tensor("label", (1,), TensorType.STRING), Tensor("empty", (0, 3))]
        graph.operators = [Operator("ADD", (0, 1), (2,), AddOptions()),
                           Operator("ADD", (2, 3), (4,), AddOptions())]
        graph.inputs, graph.outputs = (0,), (4,)
        return built

    assert_same_plan(fast_plan.build_plan(model(), 0, {}),
                     with_fallbacks(fast_plan.build_plan, model(), 0, {}))


def test_a_tensor_object_listed_twice_plans_as_without_the_extension() -> None:
    """One Tensor object at two indices (a Model built in memory): arena membership follows the
    object (an identity test), not the index."""

    def model() -> Model:
        built = Model(subgraphs=[Subgraph(name="main")])
        graph = built.subgraphs[0]
        half = built.add_buffer(np.arange(2, dtype=np.float16))
        wide = Tensor("w", (2,))
        graph.tensors = [Tensor("x", (2,)), Tensor("h", (2,), TensorType.FLOAT16, half), wide, wide,
                         Tensor("y", (2,))]
        graph.operators = [Operator("DEQUANTIZE", (1,), (2,)), Operator("ADD", (0, 2), (3,), AddOptions()),
                           Operator("ADD", (3, 0), (4,), AddOptions())]
        graph.inputs, graph.outputs = (0,), (4,)
        return built

    assert_same_plan(fast_plan.build_plan(model(), 0, {}),
                     with_fallbacks(fast_plan.build_plan, model(), 0, {}))
