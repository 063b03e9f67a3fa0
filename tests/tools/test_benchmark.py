"""`edgelite benchmark` / `edgelite.benchmark`: result schema, profile, comparison, energy, bad arguments.

Timings are never asserted (they are the benchmark's output, not its correctness); run counts are
tiny so the tests stay fast. The bundled digits MLP is the model, so nothing outside the package
is needed except LiteRT (and onnx/onnxruntime for the ONNX comparison).
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

import edgelite
from edgelite.runtime import native as native_engine
from edgelite.tools._bench_system import EnergyCounter
from tests.tools.cli_runner import assert_one_line_error, cli

MODEL = str(resources.files("edgelite") / "data" / "digits_mlp.tflite")
LATENCY_KEYS = {"count", "mean_ms", "std_ms", "min_ms", "p50_ms", "p90_ms", "p99_ms", "max_ms",
                "inferences_per_s"}
RUNTIME_KEYS = {"name", "version", "error", "init_ms", "first_ms", "warmup_mean_ms", "latency",
                "latencies_ms", "peak_rss_bytes", "rss_before_load_bytes", "arena_bytes", "energy", "profile",
                "agreement"}
# The per-op times are taken inside the same invokes as the total; what they miss is the executor's
# own loop (a few microseconds per node), so on this 3-node model they cover most of the invoke.
PROFILE_MIN_SHARE = 0.5


@pytest.fixture(scope="module")
def compared() -> edgelite.BenchmarkResult:
    pytest.importorskip("ai_edge_litert.interpreter", reason="ai-edge-litert not installed")
    return edgelite.benchmark(MODEL, runs=5, warmup=1, profile=True, compare=("litert",))


def test_json_schema(compared: edgelite.BenchmarkResult) -> None:
    data = json.loads(compared.to_json())
    assert data["schema"] == "edgelite.benchmark/1"
    assert {"model", "model_size_bytes", "threads", "runs", "duration_s", "warmup", "delegate", "inputs",
            "machine", "runtimes"} <= set(data)
    assert data["model_size_bytes"] == Path(MODEL).stat().st_size
    assert data["runs"] == 5 and data["duration_s"] is None and data["threads"] == 1
    assert data["inputs"] == [{"name": "image", "index": 0, "shape": [1, 64], "dtype": "float32",
                               "source": "random (seed 0)"}]
    assert {"cpu", "logical_cores", "usable_cores", "os", "python", "date"} <= set(data["machine"])
    assert [r["name"] for r in data["runtimes"]] == ["edgelite", "litert"]
    for runtime in data["runtimes"]:
        assert set(runtime) == RUNTIME_KEYS
        assert runtime["error"] is None
        assert set(runtime["latency"]) == LATENCY_KEYS
        assert runtime["latency"]["count"] == len(runtime["latencies_ms"]) == 5
        stats = runtime["latency"]
        assert stats["min_ms"] <= stats["p50_ms"] <= stats["p90_ms"] <= stats["p99_ms"] <= stats["max_ms"]
        assert runtime["peak_rss_bytes"] >= runtime["rss_before_load_bytes"] > 0
        assert set(runtime["energy"]) == {"available", "joules_per_inference", "reason", "scope"}
    ours = data["runtimes"][0]
    interpreter = edgelite.Interpreter(model_path=MODEL)
    interpreter.allocate_tensors()
    assert ours["arena_bytes"] == interpreter.plan.arena_size
    assert {"runs", "ops_total_ms", "latency_mean_ms", "ops", "by_type"} == set(ours["profile"])
    assert set(ours["profile"]["ops"][0]) == {"index", "op", "output_shape", "mean_ms", "percent",
                                              "cumulative_percent"}


def test_profile_sums_to_total(compared: edgelite.BenchmarkResult) -> None:
    profile = compared.runtime("edgelite").profile
    assert [op.op for op in profile.ops] == ["FULLY_CONNECTED", "FULLY_CONNECTED", "SOFTMAX"]
    assert [op.output_shape for op in profile.ops] == [[1, 128], [1, 10], [1, 10]]
    assert profile.runs == 5
    assert profile.ops_total_ms == pytest.approx(sum(op.mean_ms for op in profile.ops))
    assert profile.latency_mean_ms == pytest.approx(compared.runtime("edgelite").latency["mean_ms"])
    # Each node is timed inside the invoke that is timed as a whole: the sum cannot exceed it. On the
    # reference executor the nodes are most of it; the native engine runs this MLP in a few µs, where
    # the fixed cost of an invoke call can be the larger part.
    assert profile.ops_total_ms <= profile.latency_mean_ms
    if native_engine._engine is None:
        assert PROFILE_MIN_SHARE * profile.latency_mean_ms <= profile.ops_total_ms
    assert sum(op.percent for op in profile.ops) == pytest.approx(100)
    assert profile.ops[-1].cumulative_percent == pytest.approx(100)
    assert {t.op: t.count for t in profile.by_type} == {"FULLY_CONNECTED": 2, "SOFTMAX": 1}


def test_compare_with_litert_outputs_agree(compared: edgelite.BenchmarkResult) -> None:
    litert = compared.runtime("litert")
    assert litert.agreement is not None and litert.agreement.agree, litert.agreement
    assert len(litert.agreement.max_abs_error) == 1 and litert.agreement.max_abs_error[0] < 1e-5
    assert litert.profile is None and litert.arena_bytes is None
    assert compared.ratio("p50_ms") == pytest.approx(compared.runtime("edgelite").latency["p50_ms"]
                                                     / litert.latency["p50_ms"])


def test_given_inputs_and_duration() -> None:
    image = np.linspace(0, 1, 64, dtype=np.float32).reshape(1, 64)
    result = edgelite.benchmark(MODEL, duration=0.05, warmup=0, inputs={"image": image}, compare="none")
    assert [r.name for r in result.runtimes] == ["edgelite"]
    assert result.runs is None and result.duration_s == 0.05
    assert result.inputs[0]["source"] == "given"
    assert result.runtime("edgelite").latency["count"] >= 1
    assert result.runtime("edgelite").profile is None


def test_energy_unavailable_says_so(tmp_path: Path) -> None:
    missing = EnergyCounter(tmp_path / "no-powercap")
    assert not missing.available and "cannot be measured" in missing.reason
    zone = tmp_path / "intel-rapl:0"
    zone.mkdir()
    (zone / "energy_uj").write_text("123\n")
    (zone / "max_energy_range_uj").write_text("not a number\n")
    unreadable = EnergyCounter(tmp_path)
    assert not unreadable.available and "cannot be measured" in unreadable.reason


def test_energy_from_counter_handles_wraparound(tmp_path: Path) -> None:
    zone = tmp_path / "intel-rapl:0"
    zone.mkdir()
    (zone / "energy_uj").write_text("1000\n")
    (zone / "max_energy_range_uj").write_text("5000000\n")
    (zone / "name").write_text("package-0\n")
    counter = EnergyCounter(tmp_path)
    assert counter.available and counter.read() == [1000]
    assert counter.joules_between([4_000_000], [1_000_000]) == pytest.approx(2.0)


def test_energy_reported_without_estimate() -> None:
    result = edgelite.benchmark(MODEL, runs=2, warmup=0, compare=())
    energy = result.runtime("edgelite").energy
    if energy.available:
        assert energy.joules_per_inference is not None and energy.joules_per_inference >= 0
    else:
        assert energy.joules_per_inference is None and "cannot be measured" in energy.reason


def test_cli_report_and_json(capsys: pytest.CaptureFixture) -> None:
    code, out, err = cli(capsys, "benchmark", MODEL, "--runs", "3", "--warmup", "0", "--compare", "none",
                         "--profile")
    assert code == 0, err
    for text in ("p50 (ms)", "peak RSS", "arena", "Per-op profile", "Per op type", "FULLY_CONNECTED"):
        assert text in out
    assert "energy" in out
    code, out, err = cli(capsys, "benchmark", MODEL, "--runs", "2", "--compare", "none", "--json")
    assert code == 0, err
    assert json.loads(out)["runtimes"][0]["latency"]["count"] == 2


def test_cli_plot(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / "bench.png"
    code, _, err = cli(capsys, "benchmark", MODEL, "--runs", "2", "--compare", "none", "--plot", target)
    assert code == 0, err
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_plot_without_matplotlib(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch,
                                     tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, _, err = cli(capsys, "benchmark", MODEL, "--compare", "none", "--plot", tmp_path / "x.png")
    assert code == 1
    assert_one_line_error(err, "matplotlib", "edgelite[plot]")


@pytest.mark.parametrize(("args", "fragments"), [
    (["missing.tflite"], ["cannot read model", "missing.tflite"]),
    ([MODEL, "--runs", "3", "--duration", "1"], ["--duration", "--runs"]),
    ([MODEL, "--compare", "tflite"], ["unknown --compare value 'tflite'", "litert"]),
    ([MODEL, "--delegate", "gpu"], ["unknown delegate 'gpu'", "reference"]),
    ([MODEL, "--compare", "onnxruntime"], ["--onnx"]),
    ([MODEL, "--runs", "0"], ["runs must be"]),
    ([MODEL, "--threads", "0"], ["threads must be"]),
    ([MODEL, "--input", "nope=x.npy"], ["x.npy"]),
])
def test_bad_arguments(capsys: pytest.CaptureFixture, args: list, fragments: list[str]) -> None:
    code, out, err = cli(capsys, "benchmark", *args)
    assert code != 0
    assert_one_line_error(err, *fragments)


def test_unknown_input_name(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.zeros((1, 64), np.float32))
    given = f"nope={tmp_path / 'x.npy'}"
    code, _, err = cli(capsys, "benchmark", MODEL, "--compare", "none", "--input", given)
    assert code == 2
    assert_one_line_error(err, "unknown input 'nope'", "image")


def test_api_rejects_runs_and_duration() -> None:
    with pytest.raises(edgelite.EdgeliteError, match="not both"):
        edgelite.benchmark(MODEL, runs=2, duration=1.0)


def test_failing_runtime_is_reported_or_recorded(tmp_path: Path) -> None:
    """A model edgelite reads but cannot run: strict raises naming it, strict=False records why."""
    from edgelite.model.ir import Operator

    model = edgelite.load(MODEL)
    graph = model.subgraphs[0]
    graph.operators[2] = Operator("CUSTOM", graph.operators[2].inputs, graph.operators[2].outputs,
                                  custom_code="NoSuchOp")
    path = tmp_path / "custom.tflite"
    model.save(str(path))
    with pytest.raises(edgelite.EdgeliteError, match="edgelite cannot run .*NoSuchOp"):
        edgelite.benchmark(path, runs=1, compare=())
    result = edgelite.benchmark(path, runs=1, compare=(), strict=False)
    assert "NoSuchOp" in result.runtime("edgelite").error
    assert result.runtime("edgelite").latency == {}


def _mlp_as_onnx(path: Path) -> None:
    """The digits MLP rebuilt as ONNX (Gemm, Relu, Gemm, Softmax) from the .tflite weights."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    model = edgelite.load(MODEL)
    graph = model.subgraphs[0]
    weights = [numpy_helper.from_array(np.asarray(model.constant(graph.tensors[i])), graph.tensors[i].name)
               for i in (4, 5, 6, 7)]
    names = [w.name for w in weights]
    nodes = [helper.make_node("Gemm", ["image", names[0], names[1]], ["h"], transB=1),
             helper.make_node("Relu", ["h"], ["hr"]),
             helper.make_node("Gemm", ["hr", names[2], names[3]], ["logits"], transB=1),
             helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1)]
    inputs = [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 64])]
    outputs = [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [1, 10])]
    onnx_graph = helper.make_graph(nodes, "mlp", inputs, outputs, weights)
    onnx.save(helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_compare_onnxruntime(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    onnx_path = tmp_path / "mlp.onnx"
    _mlp_as_onnx(onnx_path)
    result = edgelite.benchmark(MODEL, runs=2, warmup=0, compare="none", onnx=onnx_path)
    ort = result.runtime("onnxruntime")
    assert ort.error is None and ort.agreement.agree, ort.agreement


@pytest.mark.parametrize("delegate", ["native", "reference"])
def test_delegate_picks_the_executor_that_runs(delegate: str) -> None:
    if delegate == "native" and not native_engine.available():
        pytest.skip("the native engine is not built here")
    result = edgelite.benchmark(MODEL, runs=2, warmup=0, delegate=delegate, compare=())
    assert result.delegate == delegate


def test_a_dequantized_output_may_differ_by_one_step_only() -> None:
    from edgelite.tools._bench_result import agreement

    scale = 0.02
    reference = [np.array([1.0, 2.0], np.float32)]
    one_step = [reference[0] + np.float32(scale)]
    assert agreement(reference, one_step, [scale]).agree
    assert not agreement(reference, one_step, [0.0]).agree
    assert not agreement(reference, [reference[0] + np.float32(2 * scale)], [scale]).agree
