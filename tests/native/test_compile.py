"""The compiler (native/compile.c, runtime/compiled.py) against the Python path it replaces.

Whenever `_engine.compile` accepts a graph, its plan and tables must be the Python path's: the same
shapes, arena offsets and size, the same node rows with every operand row resolved to what it points
at (an arena range, or the bytes of a constant / packed weights), the same fused PADs, and the same
results when run. Where it defers, the Python path is what runs, so nothing else is required.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.ops.harness import const, single_op_model

from edgelite.errors import EdgeliteError
from edgelite.model import _schema
from edgelite.model.reader import load
from edgelite.ops.registry import options_class
from edgelite.runtime import native
from edgelite.runtime.compiled import CompiledExecutor, compiled_executor
from edgelite.runtime.interpreter import Interpreter
from edgelite.runtime.plan import build_plan

pytestmark = pytest.mark.skipif(not native.available(), reason="the native extension is not built")

MODELS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "models"
MODELS = sorted(MODELS_DIR.glob("*.tflite"))
NATIVE = Path(native.__file__).resolve().parents[1] / "native"


def shared_model(name: str) -> Path:
    path = MODELS_DIR / f"{name}.tflite"
    if not path.exists():
        pytest.skip(f"{path} is not there (the shared models live next to the repository)")
    return path


def header_constants(header: str, kind: str) -> list[tuple[str, int, str, str]]:
    """(macro, value, table, field) of the `#define NAME value  /* Table <kind> [Field] */` lines."""
    pattern = re.compile(r"#define (\w+) (\d+)\s+/\* (\w+) " + kind + r"\s*(\w*) \*/")
    text = (NATIVE / "include" / header).read_text()
    return [(m[1], int(m[2]), m[3], m[4]) for m in pattern.finditer(text)]


def test_option_positions_and_unions_are_the_schemas():
    """include/el_options.h: each option position is the walker's (model/_schema.FIELDS order,
    strings skipped), each union code model/_schema.OPTIONS's."""
    fields, unions = header_constants("el_options.h", "field"), header_constants("el_options.h", "union")
    assert len(fields) >= 30 and len(unions) >= 15
    for macro, position, table, field in fields:
        names = [name for name, _, kind, _ in _schema.FIELDS[table] if kind != 0]
        assert names.index(field) == position, macro
    for macro, code, table, _ in unions:
        assert _schema.OPTIONS[code] == table, macro


def test_builtin_codes_are_the_schemas():
    for name, code in re.findall(r"EL_B_(\w+) = (\d+)", (NATIVE / "include" / "el_compile.h").read_text()):
        if name not in ("TCONV_BIAS", "COUNT"):  # the compiler's own codes
            assert _schema.BUILTIN_OPERATORS[int(code)] == name


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
    compiled = compiled_executor(model, input_shapes, threads)
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
    """Every shared model compiles whole, exactly as the Python path plans and lowers it."""
    assert assert_matches_python_path(path.read_bytes(), threads=threads) is not None


def test_resized_inputs_compile_as_the_python_path():
    content = shared_model("mnv2_035_96_float32").read_bytes()
    model = load(content)
    x = model.subgraphs[0].inputs[0]
    assert assert_matches_python_path(content, {x: (2, 96, 96, 3)}) is not None


def test_interpreter_uses_the_compiled_executor_and_answers_as_before():
    path = shared_model("digits_cnn_float32")
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


def _floats(draw, shape) -> np.ndarray:
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@st.composite
def float_single_ops(draw):
    """(opcode, operands, options, custom_code, custom_options) of a float32 node the compiler handles."""
    from edgelite.ops._common import Activation, Padding

    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    c, n = draw(st.integers(1, 6)), draw(st.integers(1, 2))
    x = _floats(draw, (n, h, w, c))
    activation = draw(st.sampled_from(list(Activation)[:4]))  # the clamping ones
    padding = draw(st.sampled_from([Padding.SAME, Padding.VALID]))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    kernel = (draw(st.integers(1, min(h, 3))), draw(st.integers(1, min(w, 3))))
    kind = draw(st.sampled_from(["conv", "depthwise", "fc", "pool", "binary", "unary", "mean", "pad",
                                 "concat", "reshape", "softmax", "resize", "tconv"]))
    if kind == "conv":
        out = draw(st.integers(1, 20))
        bias = const(_floats(draw, (out,))) if draw(st.booleans()) else None
        dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
        options = options_class("CONV_2D")(padding, *stride[::-1], activation, *dilation[::-1])
        return "CONV_2D", [x, const(_floats(draw, (out, *kernel, c))), bias], options
    if kind == "depthwise":
        multiplier = draw(st.integers(1, 3))
        options = options_class("DEPTHWISE_CONV_2D")(padding, stride[1], stride[0], multiplier, activation)
        return "DEPTHWISE_CONV_2D", [x, const(_floats(draw, (1, *kernel, c * multiplier))),
                                     const(_floats(draw, (c * multiplier,)))], options
    if kind == "fc":
        units = draw(st.integers(1, 24))
        return "FULLY_CONNECTED", [x.reshape(n, -1), const(_floats(draw, (units, h * w * c))),
                                   const(_floats(draw, (units,)))], \
            options_class("FULLY_CONNECTED")(activation)
    if kind == "pool":
        opcode = draw(st.sampled_from(["MAX_POOL_2D", "AVERAGE_POOL_2D"]))
        return opcode, [x], options_class(opcode)(padding, *stride[::-1], *kernel[::-1], activation)
    if kind == "binary":
        opcode = draw(st.sampled_from(["ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "PRELU"]))
        other_shape = draw(st.sampled_from([(n, h, w, c), (c,), (1, 1, w, 1), (h, 1, c), ()]))
        other = const(_floats(draw, other_shape)) if draw(st.booleans()) else _floats(draw, other_shape)
        options = options_class(opcode)(activation) if opcode in ("ADD", "SUB", "MUL", "DIV") else None
        return opcode, [x, other], options
    if kind == "unary":
        opcode = draw(st.sampled_from(["RELU", "RELU6", "RELU_N1_TO_1", "LOGISTIC", "TANH", "HARD_SWISH"]))
        return opcode, [x], None
    if kind == "mean":
        axes = draw(st.sampled_from([[1, 2], [2, 1], [-3, -2]]))
        return "MEAN", [x, const(np.array(axes, np.int32))], options_class("MEAN")(draw(st.booleans()))
    if kind == "pad":
        pads = np.array([[0, 0], [draw(st.integers(0, 2)), draw(st.integers(0, 2))],
                         [draw(st.integers(0, 2)), 1], [0, draw(st.integers(0, 1))]], np.int32)
        return "PAD", [x, const(pads)], None
    if kind == "concat":
        axis = draw(st.integers(-4, 3))
        shape = list(x.shape)
        shape[axis] = draw(st.integers(1, 3))
        return "CONCATENATION", [x, _floats(draw, tuple(shape))], options_class("CONCATENATION")(axis)
    if kind == "reshape":
        return "RESHAPE", [x, const(np.array([n, -1], np.int32))], None
    if kind == "softmax":
        return "SOFTMAX", [x.reshape(n, -1)], options_class("SOFTMAX")(draw(st.floats(0.1, 2.0)))
    if kind == "resize":
        align, half = draw(st.sampled_from([(False, False), (True, False), (False, True)]))
        size = const(np.array([draw(st.integers(1, 12)), draw(st.integers(1, 12))], np.int32))
        return "RESIZE_BILINEAR", [x, size], options_class("RESIZE_BILINEAR")(align, half)
    out = draw(st.integers(1, 6))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    params = struct.pack("<iii", draw(st.sampled_from([1, 2])), stride[1], stride[0])
    operands = [x, const(_floats(draw, (out, *kernel, c))), const(_floats(draw, (out,)))]
    return "CUSTOM", operands, None, "Convolution2DTransposeBias", params


@settings(max_examples=150, deadline=None)
@given(case=float_single_ops(), threads=st.sampled_from([1, 2]))
def test_float_single_ops_compile_as_the_python_path(case, threads):
    opcode, operands, options, *custom = case
    kwargs = dict(zip(("custom_code", "custom_options"), custom, strict=False))
    try:
        model = single_op_model(opcode, operands, options, **kwargs)
    except (ValueError, EdgeliteError):  # the draw makes no valid node (e.g. a window wider than the input)
        return
    assert_matches_python_path(model.to_bytes(), threads=threads)


def test_a_window_beyond_the_engine_runs_on_the_reference_kernels():
    """A stride past the engine's range (hostile, but valid TFLite): the compiler defers and the node
    stays on the reference kernels, as TFLite leaves a node its delegate refuses."""
    x = np.random.default_rng(2).standard_normal((1, 5, 5, 2)).astype(np.float32)
    options = options_class("CONV_2D")(0, (1 << 16) + 1, 1)  # el_ops_common.h: strides up to 2^16
    content = single_op_model("CONV_2D", [x, const(np.ones((3, 1, 1, 2), np.float32))], options).to_bytes()
    assert compiled_executor(load(content), {}, 1) is None
    ours, reference = Interpreter(model_content=content), Interpreter(model_content=content,
                                                                       experimental_executor="reference")
    for interpreter in (ours, reference):
        interpreter.allocate_tensors()
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
        interpreter.invoke()
    assert not ours.partition()[0].native
    out = ours.get_output_details()[0]["index"]
    np.testing.assert_array_equal(ours.get_tensor(out), reference.get_tensor(out))


def test_an_int8_mean_the_engine_cannot_requantize_stays_on_the_reference_kernels():
    """An output scale so small that QMEAN_HW's shift leaves [-31, 31]: the Python lowerer leaves the
    node to the reference kernels and the compiler defers to it."""
    from tests.ops.harness import Input

    from edgelite.model.ir import Quantization

    x = Input(np.arange(-8, 8, dtype=np.int8).reshape(1, 2, 2, 4), Quantization.of(0.5, 1))
    model = single_op_model("MEAN", [x, const(np.array([1, 2], np.int32))], options_class("MEAN")(True),
                            output_quant=[Quantization.of(1e-30, 0)])
    content = model.to_bytes()
    assert compiled_executor(load(content), {}, 1) is None
    assert not any(native.NativeExecutor(build_plan(load(content), 0, {}), None, 1).native)


def test_an_int8_mul_the_engine_cannot_requantize_stays_on_the_reference_kernels():
    """Scales whose multiplier falls outside QBINARY's range (a shift above 31): left to the reference
    kernels, and the compiler defers to that."""
    from tests.ops.harness import Input

    from edgelite.model.ir import Quantization

    a = Input(np.arange(-8, 8, dtype=np.int8).reshape(1, 16), Quantization.of(1e10, 1))
    b = Input(np.arange(8, -8, -1, dtype=np.int8).reshape(1, 16), Quantization.of(1e10, -3))
    model = single_op_model("MUL", [a, b], options_class("MUL")(0), output_quant=[Quantization.of(1e-10, 0)])
    content = model.to_bytes()
    assert compiled_executor(load(content), {}, 1) is None
    assert not any(native.NativeExecutor(build_plan(load(content), 0, {}), None, 1).native)
