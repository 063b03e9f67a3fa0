"""The native executor as a whole: shared models agree with the reference executor, the partition
between C and numpy, executor selection, dispatch control, and the C-side validation of lowered
tables (corrupted entries raise ValueError instead of crashing)."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from edgelite.runtime import compiled, native
from edgelite.runtime.executor import ReferenceExecutor
from edgelite.runtime.interpreter import Interpreter

MODELS = Path(__file__).parents[2].parent / "shared" / "models"
MODEL_FILES = sorted(MODELS.glob("*.tflite")) if MODELS.is_dir() else []
needs_engine = pytest.mark.skipif(native._engine is None, reason="the native extension is not built (no C "
                                  "compiler at install time); the reference executor runs instead")


def run_model(path: Path, executor: str, seed: int = 0):
    interpreter = Interpreter(model_path=str(path), experimental_executor=executor)
    interpreter.allocate_tensors()
    rng = np.random.default_rng(seed)
    for detail in interpreter.get_input_details():
        dtype, shape = detail["dtype"], detail["shape"]
        if np.issubdtype(dtype, np.floating):
            value = rng.uniform(-1, 1, shape).astype(dtype)
        else:
            info = np.iinfo(dtype)
            value = rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)
        interpreter.set_tensor(detail["index"], value)
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()], interpreter


@needs_engine
@pytest.mark.skipif(not MODEL_FILES, reason=f"no shared models in {MODELS}")
@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.stem)
def test_shared_models_match_the_reference(path):
    """float outputs within 1e-4 (relative, with an absolute floor of 1e-4 x the largest |output|):
    up to ~140 layers compound the per-layer 1e-6-level differences of accumulation order; integer
    outputs (int8 models run on the reference kernels for now) are equal."""
    want, _ = run_model(path, "reference")
    got, interpreter = run_model(path, "native")
    assert isinstance(interpreter._executor, native.NativeExecutor)
    for a, b in zip(got, want, strict=True):
        if np.issubdtype(b.dtype, np.floating):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * float(np.max(np.abs(b), initial=1e-30)))
        else:
            np.testing.assert_array_equal(a, b)


@needs_engine
@pytest.mark.skipif(not (MODELS / "selfie_segmentation.tflite").is_file(), reason="shared model missing")
def test_partition_mixes_native_and_reference_nodes_in_one_invoke(monkeypatch):
    everything = native.lowerers()
    left_out = {"RESIZE_BILINEAR", "Convolution2DTransposeBias"}  # stay on numpy in this test
    kept = {name: lowerer for name, lowerer in everything.items() if name not in left_out}
    monkeypatch.setattr(native, "lowerers", lambda: kept)
    monkeypatch.setattr(compiled, "compiled_executor", lambda *args: None)  # the Python lowerers decide
    want, _ = run_model(MODELS / "selfie_segmentation.tflite", "reference")
    got, interpreter = run_model(MODELS / "selfie_segmentation.tflite", "native")
    np.testing.assert_allclose(got[0], want[0], rtol=1e-4, atol=1e-4)
    executor = interpreter._executor
    kinds = [is_native for is_native, _, _ in executor.segments]
    assert True in kinds and False in kinds
    assert sum(end - first for _, first, end in executor.segments) == len(executor.plan.nodes)
    profile: list[int] = []
    executor.invoke(profile)
    assert len(profile) == len(executor.plan.nodes)


@needs_engine
def test_ops_list_matches_the_c_side():
    assert native.OPS == native._engine.ops()
    engine = native._engine
    assert (native.TENSOR_WORDS, native.NODE_WORDS) == (engine.TENSOR_WORDS, engine.NODE_WORDS)
    assert (native.GEMM_NR, native.IM2COL_ROWS, native.DW_MAX_TAPS) == (
        native._engine.GEMM_NR, native._engine.IM2COL_ROWS, native._engine.DW_MAX_TAPS)


def test_reference_opt_out(monkeypatch):
    from tests.ops.harness import single_op_model

    model = single_op_model("RELU", [np.ones((2, 3), np.float32)]).to_bytes()
    interpreter = Interpreter(model_content=model, experimental_executor="reference")
    interpreter.allocate_tensors()
    assert type(interpreter._executor) is ReferenceExecutor
    monkeypatch.setenv("EDGELITE_EXECUTOR", "reference")
    interpreter = Interpreter(model_content=model)
    interpreter.allocate_tensors()
    assert type(interpreter._executor) is ReferenceExecutor
    with pytest.raises(ValueError, match="experimental_executor"):
        Interpreter(model_content=model, experimental_executor="gpu")


def test_missing_extension_falls_back_and_warns_once(monkeypatch):
    from tests.ops.harness import single_op_model

    monkeypatch.setattr(native, "_engine", None)
    monkeypatch.setattr(native, "_warned", False)
    monkeypatch.delenv("EDGELITE_EXECUTOR", raising=False)
    model = single_op_model("RELU", [np.ones((2, 3), np.float32)]).to_bytes()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            interpreter = Interpreter(model_content=model)
            interpreter.allocate_tensors()
            interpreter.set_tensor(interpreter.get_input_details()[0]["index"], -np.ones((2, 3), np.float32))
            interpreter.invoke()
    assert type(interpreter._executor) is ReferenceExecutor
    assert [str(w.message) for w in caught if "native engine" in str(w.message)].__len__() == 1


@needs_engine
def test_isa_cap_by_api_and_environment():
    levels = native.supported_isas()
    assert levels[0] == "scalar"
    previous = native.isa()
    try:
        assert native.set_isa("scalar") == "scalar"
        with pytest.raises(ValueError):
            native.set_isa("avx9000")
    finally:
        native.set_isa(previous)
    code = "from edgelite.runtime import native; print(native.isa())"
    env = {**os.environ, "EDGELITE_ISA": "scalar"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "scalar"


# -- validation of the lowered tables ------------------------------------------------------------
def lowered(path: Path):
    interpreter = Interpreter(model_path=str(path), experimental_executor="reference")
    interpreter.allocate_tensors()
    lowering = native.Lowering(interpreter._executor)
    for planned in interpreter.plan.nodes:
        lowering.lower(planned)
    tensors, nodes = lowering.tables()
    return tensors, nodes, lowering


def first_node(nodes: np.ndarray, op: str) -> int:
    return int(np.flatnonzero(nodes[:, 0] == native.CODE[op])[0])


P = 3 + native.MAX_INPUTS  # first param word of a node row
CORRUPTIONS = {
    "offset past the arena": lambda t, n, lw: t.__setitem__((n[0, 2 + native.MAX_INPUTS], 1), 1 << 40),
    "negative offset": lambda t, n, lw: t.__setitem__((n[0, 2], 1), -64),
    "misaligned offset": lambda t, n, lw: t.__setitem__((n[0, 2], 1), 2),
    "buffer index": lambda t, n, lw: t.__setitem__((0, 0), len(lw.buffers)),
    "nbytes vs dims": lambda t, n, lw: t.__setitem__((n[0, 2], 5), t[n[0, 2], 5] + 1),
    "rank": lambda t, n, lw: t.__setitem__((0, 4), 7),
    "dtype": lambda t, n, lw: t.__setitem__((0, 3), 9),
    "input tensor id": lambda t, n, lw: n.__setitem__((0, 2), len(t)),
    "output tensor id": lambda t, n, lw: n.__setitem__((0, 2 + native.MAX_INPUTS), -1),
    "unknown op": lambda t, n, lw: n.__setitem__((0, 0), 99),
    "input count": lambda t, n, lw: n.__setitem__((0, 1), 17),
    "output into weights": lambda t, n, lw: n.__setitem__((first_node(n, "GEMM"), 2 + native.MAX_INPUTS),
                                                         n[first_node(n, "GEMM"), 3]),
    "gemm K": lambda t, n, lw: n.__setitem__((first_node(n, "GEMM"), P + 11), 10**6),
    "gemm stride": lambda t, n, lw: n.__setitem__((first_node(n, "GEMM"), P + 3), 0),
    "dwconv taps": lambda t, n, lw: n.__setitem__((first_node(n, "DWCONV"), P + 0), 9),
    "dwconv padding": lambda t, n, lw: n.__setitem__((first_node(n, "DWCONV"), P + 6), -5),
    "binary inner stride": lambda t, n, lw: n.__setitem__((first_node(n, "BINARY"), P + 3 + 6 + 5), 2),
    "binary strides reach outside": lambda t, n, lw: reach_outside(n),
}


def reach_outside(nodes: np.ndarray) -> None:
    """Split a binary node's innermost run in two and stride input a past its end."""
    row = nodes[first_node(nodes, "BINARY")]
    dims = row[P + 3:P + 9]
    count = int(np.prod(dims))
    assert count % 2 == 0
    row[P + 3:P + 9] = [1, 1, 1, 1, 2, count // 2]
    row[P + 9:P + 15] = [0, 0, 0, 0, count, 1]


@needs_engine
@pytest.mark.skipif(not (MODELS / "face_detection_short_range.tflite").is_file(),
                    reason="shared model missing")
@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_validator_rejects_corrupted_tables(corruption):
    tensors, nodes, lowering = lowered(MODELS / "face_detection_short_range.tflite")
    native._engine.Program(tensors, nodes, lowering.buffers, lowering.writable)  # the intact tables pass
    CORRUPTIONS[corruption](tensors, nodes, lowering)
    with pytest.raises(ValueError, match="native"):
        native._engine.Program(tensors, nodes, lowering.buffers, lowering.writable)


@needs_engine
def test_validator_rejects_malformed_arguments():
    with pytest.raises(ValueError, match="whole number"):
        native._engine.Program(b"\0" * 7, b"", [], [])
    with pytest.raises(ValueError, match="differ"):
        native._engine.Program(b"", b"", [bytearray(8)], [])
    with pytest.raises(BufferError):  # a read-only buffer cannot be declared writable
        native._engine.Program(b"", b"", [b"\0" * 8], [True])
    program = native._engine.Program(b"", b"", [], [])
    with pytest.raises(IndexError):
        program.run(2, 1)


# -- the partition between the engine and the reference kernels ------------------------------------
def chain_model(middle: str, dtype=np.float32, outer: str = "RELU"):
    """x -> `outer` -> `middle` -> `outer` -> y, shapes (2, 5); binary ops take their input twice."""
    from edgelite.model.ir import Model, Operator, Subgraph, Tensor, TensorType

    model = Model(subgraphs=[Subgraph(name="main")])
    graph = model.subgraphs[0]
    kind = TensorType.from_numpy(np.dtype(dtype))
    for name in ("x", "a", "b", "y"):
        graph.tensors.append(Tensor(name, (2, 5), kind, 0))
    def operator(name: str, source: int) -> Operator:
        binary = name in ("ADD", "MAXIMUM", "SQUARED_DIFFERENCE")
        return Operator(name, (source, source) if binary else (source,), (source + 1,))

    graph.operators = [operator(outer, 0), operator(middle, 1), operator(outer, 2)]
    graph.inputs, graph.outputs = (0,), (3,)
    return model.to_bytes()


@needs_engine
@pytest.mark.parametrize("middle, reason", [
    ("EXP", "no native kernel for EXP"), ("SQUARED_DIFFERENCE", "no native kernel for SQUARED_DIFFERENCE")])
def test_partition_names_the_reference_nodes_and_why(middle, reason):
    from edgelite.runtime.executor import partition_summary

    interpreter = Interpreter(model_content=chain_model(middle), experimental_executor="native")
    interpreter.allocate_tensors()
    segments = interpreter.partition()
    executor = interpreter._executor
    assert [(s.native, s.first, s.end) for s in segments] == executor.segments
    assert [n.reason is None for s in segments for n in s.nodes] == executor.native == [True, False, True]
    assert segments[1].nodes[0].op == middle and segments[1].nodes[0].reason == reason
    assert partition_summary(segments) == "native engine: 2/3 nodes in 2 partitions"
    x = np.linspace(-2, 2, 10, dtype=np.float32).reshape(2, 5)
    interpreter.set_tensor(0, x)
    interpreter.invoke()  # both executors in one invoke agree with the reference
    reference = Interpreter(model_content=chain_model(middle), experimental_executor="reference")
    reference.allocate_tensors()
    reference.set_tensor(0, x)
    reference.invoke()
    np.testing.assert_allclose(interpreter.get_tensor(3), reference.get_tensor(3), rtol=1e-6)


@needs_engine
def test_partition_reports_unsupported_dtypes():
    """int32 MAXIMUM has no native kernel: the reason names the operand's dtype."""
    model = chain_model("MAXIMUM", np.int32, outer="MAXIMUM")
    interpreter = Interpreter(model_content=model, experimental_executor="native")
    interpreter.allocate_tensors()
    segments = interpreter.partition()
    assert [s.native for s in segments] == [False]
    reasons = {n.op: n.reason for n in segments[0].nodes}
    assert "int32 operand" in reasons["MAXIMUM"] and "not supported natively" in reasons["MAXIMUM"]


def test_reference_executor_partition_is_one_reference_segment():
    from edgelite.runtime.executor import partition_summary

    interpreter = Interpreter(model_content=chain_model("EXP"), experimental_executor="reference")
    interpreter.allocate_tensors()
    segments = interpreter.partition()
    assert [(s.native, s.first, s.end) for s in segments] == [(False, 0, 3)]
    assert partition_summary(segments) == "native engine: 0/3 nodes in 0 partitions"
