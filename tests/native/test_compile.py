"""The compiler (native/compile.c, runtime/compiled.py) against the Python path it replaces.

Whenever `_engine.compile` accepts a graph, its plan and tables must be the Python path's: the same
shapes, arena offsets and size, the same node rows with every operand row resolved to what it points
at (an arena range, or the bytes of a constant / packed weights), the same fused PADs, and the same
results when run. Where it defers, the Python path is what runs, so nothing else is required.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgelite.errors import EdgeliteError
from edgelite.model import _schema
from edgelite.model.reader import load
from edgelite.runtime import native
from edgelite.runtime.compiled import CompiledExecutor, compiled_executor
from edgelite.runtime.interpreter import Interpreter
from edgelite.runtime.plan import build_plan

pytestmark = pytest.mark.skipif(not native.available(), reason="the native extension is not built")

MODELS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "models"
MODELS = sorted(MODELS_DIR.glob("*.tflite"))
# Shared models every node of which the compiler handles (the others may defer).
COMPILED = {"digits_cnn_float32", "digits_cnn_dynamic_int8", "mnv2_035_96_float32",
            "face_detection_short_range", "face_landmark"}
# Option positions the C families read (compile_f32.c's enums), in model/_schema.FIELDS order.
OPTION_POSITIONS = {
    "Conv2DOptions": {"Padding": 0, "StrideW": 1, "StrideH": 2, "FusedActivationFunction": 3,
                      "DilationWFactor": 4, "DilationHFactor": 5},
    "DepthwiseConv2DOptions": {"Padding": 0, "StrideW": 1, "StrideH": 2, "FusedActivationFunction": 4,
                               "DilationWFactor": 5, "DilationHFactor": 6},
    "Pool2DOptions": {"Padding": 0, "StrideW": 1, "StrideH": 2, "FilterWidth": 3, "FilterHeight": 4,
                      "FusedActivationFunction": 5},
    "FullyConnectedOptions": {"FusedActivationFunction": 0, "WeightsFormat": 1},
    "ConcatenationOptions": {"Axis": 0, "FusedActivationFunction": 1},
    "SoftmaxOptions": {"Beta": 0},
    "AddOptions": {"FusedActivationFunction": 0}, "SubOptions": {"FusedActivationFunction": 0},
    "MulOptions": {"FusedActivationFunction": 0}, "DivOptions": {"FusedActivationFunction": 0},
}
OPTION_CODES = {"Conv2DOptions": 1, "DepthwiseConv2DOptions": 2, "Pool2DOptions": 5,
                "FullyConnectedOptions": 8, "SoftmaxOptions": 9, "ConcatenationOptions": 10, "AddOptions": 11,
                "MulOptions": 21, "SubOptions": 28, "DivOptions": 29}


@pytest.mark.parametrize("table", sorted(OPTION_POSITIONS))
def test_option_positions_match_the_schema(table):
    values = [name for name, _, kind, _ in _schema.FIELDS[table] if kind != 0]  # the walker skips strings
    assert {name: values.index(name) for name in OPTION_POSITIONS[table]} == OPTION_POSITIONS[table]
    assert _schema.OPTIONS[OPTION_CODES[table]] == table


def resolved_tables(executor) -> list[tuple]:
    """Each node row as (op, resolved inputs, resolved output, params); a tensor row resolves to its
    arena range or to the bytes it points at."""
    tensors, nodes = executor.tables
    buffers = executor._keep

    def resolve(row: int) -> tuple:
        buffer, offset, nbytes, dtype, rank, *dims = (int(v) for v in tensors[row])
        shape = (dtype, tuple(dims[:rank]))
        if buffer == 0:
            return ("arena", offset, nbytes, *shape)
        return ("bytes", bytes(memoryview(buffers[buffer]).cast("B")[offset:offset + nbytes]), *shape)

    result = []
    for node in nodes:
        op, count = int(node[0]), int(node[1])
        inputs = tuple(resolve(int(i)) for i in node[2:2 + count])
        output = resolve(int(node[2 + native.MAX_INPUTS]))
        result.append((native.OPS[op], inputs, output, tuple(int(p) for p in node[3 + native.MAX_INPUTS:])))
    return result


def assert_matches_python_path(content: bytes, input_shapes: dict | None = None, threads: int = 1,
                               feeds: int = 2) -> CompiledExecutor | None:
    """Compile the model; if accepted, check it against the Python path (tables, plan, results)."""
    input_shapes = input_shapes or {}
    model = load(content)
    compiled = compiled_executor(model, input_shapes, None, threads)
    if compiled is None:
        return None
    python = native.NativeExecutor(build_plan(model, 0, input_shapes), None, threads)
    assert all(python.native), python.partition()
    assert compiled.plan.shapes == python.plan.shapes
    assert compiled.plan.arena_offsets == python.plan.arena_offsets
    assert (compiled.plan.arena_size, compiled.plan.arena_lower_bound) == \
        (python.plan.arena_size, python.plan.arena_lower_bound)
    assert compiled.fused_pads == python.fused_pads
    assert len(compiled.plan.nodes) == len(python.plan.nodes)
    compiled_rows, python_rows = resolved_tables(compiled), resolved_tables(python)
    assert len(compiled_rows) == len(python_rows)
    for k, (ours, theirs) in enumerate(zip(compiled_rows, python_rows, strict=True)):
        assert ours == theirs, f"node {k} ({python.plan.nodes[k].node.op.name}) differs"
    assert sorted(compiled.plan.constants) == sorted(python.plan.constants)
    rng = np.random.default_rng(0)
    graph = model.subgraphs[0]
    for _ in range(feeds):
        for i in graph.inputs:
            value = python.values[i]
            integers = value.dtype.kind == "i"
            data = rng.integers(-128, 128, value.shape) if integers else rng.standard_normal(value.shape)
            compiled.values[i][...] = python.values[i][...] = data.astype(value.dtype)
        compiled.invoke()
        python.invoke()
        for i in graph.outputs:
            np.testing.assert_array_equal(compiled.values[i], python.values[i])
    return compiled


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
@pytest.mark.parametrize("threads", [1, 2])
def test_shared_models_compile_as_the_python_path(path, threads):
    compiled = assert_matches_python_path(path.read_bytes(), threads=threads)
    if path.stem in COMPILED:
        assert compiled is not None, f"{path.stem} was expected to compile"


def test_resized_inputs_compile_as_the_python_path():
    content = (MODELS_DIR / "mnv2_035_96_float32.tflite").read_bytes()
    model = load(content)
    x = model.subgraphs[0].inputs[0]
    assert assert_matches_python_path(content, {x: (2, 96, 96, 3)}) is not None


def test_interpreter_uses_the_compiled_executor_and_answers_as_before():
    path = MODELS_DIR / "digits_cnn_float32.tflite"
    compiled = Interpreter(model_path=path)
    python = Interpreter(model_path=path, custom_op_resolver={"NOT_AN_OP": lambda node: None})  # not compiled
    for interpreter in (compiled, python):
        interpreter.allocate_tensors()
    assert isinstance(compiled._executor, CompiledExecutor)
    assert not isinstance(python._executor, CompiledExecutor)
    for ours, theirs in zip(compiled.get_tensor_details(), python.get_tensor_details(), strict=True):
        assert repr(ours) == repr(theirs)  # numpy arrays inside: compared by their repr
    assert compiled.partition() == python.partition()
    for i in range(len(compiled.model.subgraphs[0].tensors)):  # constants, arena views, never-set tensors
        ours, theirs = compiled._executor.values[i], python._executor.values[i]
        assert (ours is None) == (theirs is None)
        if ours is not None:
            assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    x = np.random.default_rng(1).standard_normal(compiled.get_input_details()[0]["shape"]).astype(np.float32)
    for interpreter in (compiled, python):
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
        interpreter.invoke()
    out = compiled.get_output_details()[0]["index"]
    np.testing.assert_array_equal(compiled.get_tensor(out), python.get_tensor(out))


FUZZED = ("digits_cnn_float32", "mnv2_035_96_float32", "face_detection_short_range", "digits_cnn_int8",
          "mnv2_035_96_int8", "digits_cnn_dynamic_int8")


def structure_positions(content: bytes) -> np.ndarray:
    """Byte positions outside constant data: shapes, types, options, operand indices, ..."""
    keep = np.ones(len(content), bool)
    base = np.frombuffer(content, np.uint8).__array_interface__["data"][0]
    for buffer in load(content).buffers:
        if buffer is not None:
            start = buffer.__array_interface__["data"][0] - base
            keep[start:start + buffer.size] = False
    return np.flatnonzero(keep)


@pytest.fixture(scope="module")
def fuzz_targets() -> dict[str, tuple[bytes, np.ndarray]]:
    present = [MODELS_DIR / f"{name}.tflite" for name in FUZZED if (MODELS_DIR / f"{name}.tflite").exists()]
    if not present:
        pytest.skip("the shared models are not there")
    return {path.stem: (path.read_bytes(), structure_positions(path.read_bytes())) for path in present}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_models_compile_only_as_the_python_path(fuzz_targets, data):
    """Overwritten structure bytes (shapes, options, indices, types): whatever the compiler accepts,
    the Python path accepts too, with the same tables and results."""
    name = data.draw(st.sampled_from(sorted(fuzz_targets)))
    content, positions = fuzz_targets[name]
    model = bytearray(content)
    for index, value in data.draw(st.lists(st.tuples(st.integers(0, len(positions) - 1), st.integers(0, 255)),
                                           min_size=1, max_size=4)):
        model[positions[index]] = value
    try:
        load(bytes(model))
    except EdgeliteError:
        return
    assert_matches_python_path(bytes(model), feeds=1)
