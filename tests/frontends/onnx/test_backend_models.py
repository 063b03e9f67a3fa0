"""ONNX backend model tests (the onnx wheel's 'light' real models) through EdgeliteBackend.

Each light model (resnet50, squeezenet, shufflenet, densenet121, inception_v1/v2, vgg19, alexnet,
zfnet512) is converted once and run in edgelite and in LiteRT on the suite's input (the backend
runner's dummy data: arange(n)/n), and must match
  - the wheel's expected output (`light_<model>_output_0.pb`) at the suite's tolerance: rtol 1e-3
    (2e-3 for densenet121), atol 1e-7, as onnx.backend.test.case.model lists them, and
  - onnxruntime at rtol/atol 1e-4 (the cross-runtime check of the issue).
This is what onnx.backend.test.runner.Runner does for these tests, without its node-test collection
or its writes under ~/.onnx. Transposes left, op counts and conversion time are recorded as
properties; `python -m tests.frontends.onnx.test_backend_models` prints them as a table, with the
max errors and each model's op count before the passes.

The light models' weights are ConstantOfShape fills of one value (0.02), so every channel carries
the same number and the softmax output is uniform: a weak check of layout and fusion. So each model
also runs with those fills replaced by random initializers (He-scaled conv/gemm weights, batch-norm
statistics around 1) on a random input, its logits (the final Softmax's input) exposed as an extra
output, and must match onnxruntime: logits (and other non-softmax outputs) within 1e-4 of their
largest magnitude (max|got - want| <= 1e-4 * max|want|), probabilities within 1e-3.
"""

from __future__ import annotations

import collections
import importlib.util
import os
import time
from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

from tests.frontends.onnx.backend_suite import LIGHT  # noqa: E402

ORT_TOLERANCE = 1e-4
RUNTIMES = ("edgelite", "litert") if importlib.util.find_spec("ai_edge_litert") else ("edgelite",)


def light_cases() -> list[Any]:
    """The suite's real-model cases stored in the wheel (name, model_name, rtol, atol)."""
    from onnx.backend.test.case.model import collect_testcases

    return [c for c in collect_testcases() if c.kind == "real" and c.url and "/light/" in c.url]


def _path(case: Any) -> str:
    return os.path.join(LIGHT, os.path.basename(case.url))


def run_light_model(case: Any, runtimes: tuple[str, ...] = RUNTIMES, optimize_report: bool = False) -> dict:
    """Convert and run one light model; returns outputs, errors, op counts (asserts nothing)."""
    from onnx.backend.test.runner import Runner

    from edgelite.frontends.onnx.backend import EdgeliteBackend

    path = _path(case)
    model = onnx.load(path)
    initializers = {t.name for t in model.graph.initializer}
    graph_inputs = [i for i in model.graph.input if i.name not in initializers]
    feeds = [Runner.generate_dummy_data(i, seed=0, name=case.model_name, random=False) for i in graph_inputs]
    prefix = os.path.splitext(path)[0]
    expected = [onnx.numpy_helper.to_array(onnx.load_tensor(f"{prefix}_output_{k}.pb"))
                for k in range(len(model.graph.output))]
    start = time.perf_counter()
    rep = EdgeliteBackend.prepare(model)
    seconds = time.perf_counter() - start
    ops = [op.name for op in rep.model.subgraphs[0].operators]
    report = {"name": case.name, "rtol": case.rtol, "atol": case.atol, "expected": expected,
              "convert_s": seconds, "onnx_nodes": len(model.graph.node), "ops": len(ops),
              "transposes": ops.count("TRANSPOSE"),
              "onnx_transposes": sum(n.op_type == "Transpose" for n in model.graph.node),
              "op_counts": {k: ops.count(k) for k in sorted(set(ops))},
              "size_mb": len(rep.model_bytes) / 2**20, "outputs": {}}
    for runtime in runtimes:
        report["outputs"][runtime] = list((rep if runtime == "edgelite" else rep.on(runtime)).run(feeds))
    if importlib.util.find_spec("onnxruntime"):
        import onnxruntime

        session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        named = {i.name: v for i, v in zip(graph_inputs, feeds, strict=True)}
        report["onnxruntime"] = session.run(None, named)
    if optimize_report:
        from edgelite.frontends.onnx.importer import convert

        report["ops_unoptimized"] = len(convert(model, optimize=False).subgraphs[0].operators)
    return report


def randomized(model: Any, seed: int = 0) -> Any:
    """The model with its constant ConstantOfShape fills replaced by random initializers and the
    final Softmax's input (the logits) as an extra output."""
    from onnx import numpy_helper

    rng = np.random.default_rng(seed)
    result = onnx.ModelProto()
    result.CopyFrom(model)
    graph = result.graph
    constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    users = collections.defaultdict(list)
    for node in graph.node:
        for k, name in enumerate(node.input):
            users[name].append((node.op_type, k))
    kept, filled = [], []
    for node in graph.node:
        if node.op_type != "ConstantOfShape" or node.input[0] not in constants:
            kept.append(node)
            continue
        shape = tuple(int(d) for d in constants[node.input[0]])
        role = users[node.output[0]][0] if len(users[node.output[0]]) == 1 else None
        if role in (("Conv", 1), ("Gemm", 1)):
            fan_in = int(np.prod(shape[1:])) if role[0] == "Conv" else shape[-1]
            value = rng.standard_normal(shape, np.float32) * np.float32(np.sqrt(2.0 / fan_in))
        elif role is not None and role[0] in ("BatchNormalization", "Conv", "Gemm") \
                and role not in (("BatchNormalization", 1), ("BatchNormalization", 4)):
            value = 0.1 * rng.standard_normal(shape, np.float32)  # biases, batch-norm offset and mean
        else:
            value = rng.uniform(0.5, 1.5, shape).astype(np.float32)  # scales, variances
        filled.append(numpy_helper.from_array(value.astype(np.float32), node.output[0]))
    del graph.node[:]
    graph.node.extend(kept)
    graph.initializer.extend(filled)
    result.ir_version = max(result.ir_version, 4)  # initializers that are not graph inputs
    if graph.node[-1].op_type == "Softmax":
        graph.output.append(onnx.helper.make_empty_tensor_value_info(graph.node[-1].input[0]))
    return result


def random_weight_errors(case: Any,
                         runtimes: tuple[str, ...] = RUNTIMES) -> dict[str, list[tuple[bool, float, float]]]:
    """Run the randomized model in each runtime and onnxruntime: per runtime, per output,
    (is a softmax output, max |error|, max |onnxruntime's value|)."""
    import onnxruntime

    from edgelite.frontends.onnx.backend import EdgeliteBackend

    model = randomized(onnx.load(_path(case)))
    initializers = {t.name for t in model.graph.initializer}
    (graph_input,) = [i for i in model.graph.input if i.name not in initializers]
    shape = [d.dim_value for d in graph_input.type.tensor_type.shape.dim]
    x = np.random.default_rng(1).random(shape, np.float32)
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    want = session.run(None, {graph_input.name: x})
    last = model.graph.node[-1]
    softmax = [last.op_type == "Softmax" and o.name == last.output[0] for o in model.graph.output]
    rep = EdgeliteBackend.prepare(model)
    errors = {}
    for runtime in runtimes:
        got = (rep if runtime == "edgelite" else rep.on(runtime)).run([x])
        assert len(got) == len(want), runtime
        errors[runtime] = [(is_softmax, float(np.max(np.abs(g - w))), float(np.max(np.abs(w))))
                           for is_softmax, g, w in zip(softmax, got, want, strict=True)]
    return errors


@pytest.mark.parametrize("case", light_cases(), ids=lambda c: c.model_name)
def test_light_model_random_weights(case: Any, record_property: Any) -> None:
    pytest.importorskip("onnxruntime")
    for runtime, outputs in random_weight_errors(case).items():
        for k, (is_softmax, error, scale) in enumerate(outputs):
            label = f"{runtime} output {k} vs onnxruntime"
            if is_softmax:
                assert error <= 1e-3, f"{label}: probabilities differ by {error:.3g}"
                continue
            record_property(f"relative_error_{runtime}_{k}", error / scale)
            assert error <= 1e-4 * scale, f"{label}: max error {error:.3g}, max |value| {scale:.3g}"


def _max_error(got: list[np.ndarray], want: list[np.ndarray]) -> float:
    return max(float(np.max(np.abs(g.astype(np.float64) - w))) if g.size else 0.0
               for g, w in zip(got, want, strict=True))


@pytest.mark.parametrize("case", light_cases(), ids=lambda c: c.model_name)
def test_light_model(case: Any, record_property: Any) -> None:
    from onnx.backend.test.runner import Runner

    report = run_light_model(case)
    for key in ("convert_s", "onnx_nodes", "ops", "transposes", "op_counts"):
        record_property(key, report[key])
    for runtime, outputs in report["outputs"].items():
        try:
            Runner.assert_similar_outputs(report["expected"], outputs, rtol=case.rtol, atol=case.atol)
        except AssertionError as error:
            raise AssertionError(f"{runtime} vs the suite's expected output: {error}") from None
        if "onnxruntime" in report:
            for k, (got, want) in enumerate(zip(outputs, report["onnxruntime"], strict=True)):
                np.testing.assert_allclose(got, want, rtol=ORT_TOLERANCE, atol=ORT_TOLERANCE,
                                           err_msg=f"{runtime} output {k} vs onnxruntime")
        record_property(f"max_error_{runtime}", _max_error(outputs, report["expected"]))
    # One transpose for the NCHW input; ShuffleNet keeps one per channel shuffle (a real permutation).
    assert report["transposes"] <= 1 + report["onnx_transposes"], report["op_counts"]


def main() -> None:
    """Print per model: max error vs the expected output and onnxruntime per runtime, transposes,
    op counts before/after the passes, conversion time and size."""
    rows = []
    for case in light_cases():
        try:
            r = run_light_model(case, optimize_report=True)
        except Exception as error:  # noqa: BLE001 - a report lists every model
            rows.append(f"{case.model_name:14} FAILED: {str(error).splitlines()[0][:150]}")
            continue
        errors = []
        for runtime, outputs in r["outputs"].items():
            versus_ort = _max_error(outputs, r["onnxruntime"]) if "onnxruntime" in r else float("nan")
            errors.append(f"{runtime} {_max_error(outputs, r['expected']):.1e}/{versus_ort:.1e}")
        randomized_errors = []
        for runtime, outputs in random_weight_errors(case).items():
            relative = max(error / scale for is_softmax, error, scale in outputs if not is_softmax)
            randomized_errors.append(f"{runtime} {relative:.1e}")
        rows.append(f"{case.model_name:14} {'  '.join(errors)}  "
                    f"random weights: {'  '.join(randomized_errors)}  "
                    f"transposes {r['transposes']}  nodes {r['onnx_nodes']} -> ops {r['ops_unoptimized']} "
                    f"unoptimized -> {r['ops']}  convert {r['convert_s']:.2f} s  {r['size_mb']:.1f} MB")
    print("model          max |error| vs expected/onnxruntime per runtime; random weights: max |error| / "
          "max |logit| vs onnxruntime; transposes; op counts; conversion time (incl. serialization); size")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
