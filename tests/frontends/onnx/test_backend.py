"""EdgeliteBackend, the onnx.backend.base.Backend over convert + Interpreter (or LiteRT)."""

from __future__ import annotations

import os
import unittest

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

from onnx import TensorProto, helper  # noqa: E402

from edgelite.frontends.onnx import backend  # noqa: E402
from edgelite.frontends.onnx.backend import EdgeliteBackend  # noqa: E402
from edgelite.frontends.onnx.importer import converters  # noqa: E402
from tests.frontends.onnx.backend_suite import constant_inputs, read_list  # noqa: E402
from tests.frontends.onnx.common import make_model  # noqa: E402

F, I64 = TensorProto.FLOAT, TensorProto.INT64
RNG = np.random.default_rng(4)


def require(*op_types: str) -> None:
    missing = sorted(set(op_types) - set(converters()))
    if missing:
        pytest.skip(f"no converter yet for {', '.join(missing)}")


def relu_model(shape=(2, 3)) -> onnx.ModelProto:
    return make_model([helper.make_node("Relu", ["x"], ["y"])], [("x", shape, F)], ["y"])


def test_prepare_converts_static_models_and_runs_by_position_or_name():
    rep = EdgeliteBackend.prepare(relu_model())
    assert rep.model is not None and rep.model_bytes  # converted in prepare: the shapes are static
    x = RNG.standard_normal((2, 3)).astype(np.float32)
    (y,) = rep.run([x])
    np.testing.assert_array_equal(y, np.maximum(x, 0))
    assert rep.run({"x": x}).y.dtype == np.float32  # outputs are a namedtuple by ONNX name
    np.testing.assert_array_equal(backend.run_model(relu_model(), [x])[0], y)
    with pytest.raises(ValueError, match="inputs given"):
        rep.run([x, x])
    with pytest.raises(ValueError, match="unknown inputs"):
        rep.run({"z": x})
    np.testing.assert_array_equal(rep.run([x.astype(np.float64)])[0], y)  # float to float is fine
    with pytest.raises(ValueError, match="input 'x' is int64, the converted model takes float32"):
        rep.run([np.ones((2, 3), np.int64)])


def test_symbolic_dims_convert_per_input_shape():
    rep = EdgeliteBackend.prepare(relu_model(("N", 3)))
    assert rep.model is None  # converted at run, with the arrays' shapes pinned
    for batch in (1, 4, 1):
        x = RNG.standard_normal((batch, 3)).astype(np.float32)
        np.testing.assert_array_equal(rep.run([x])[0], np.maximum(x, 0))
    assert len(rep._converted) == 2


def test_litert_runs_the_same_file():
    pytest.importorskip("ai_edge_litert")
    x = RNG.standard_normal((2, 3)).astype(np.float32)
    rep = EdgeliteBackend.prepare(relu_model(), runtime="litert")
    np.testing.assert_array_equal(rep.run([x])[0], np.maximum(x, 0))
    edgelite_rep = EdgeliteBackend.prepare(relu_model())
    assert edgelite_rep.on("litert").model_bytes == edgelite_rep.model_bytes  # no second conversion
    np.testing.assert_array_equal(edgelite_rep.on("litert").run([x])[0], np.maximum(x, 0))


def test_constant_inputs_are_baked_per_value():
    require("ReduceSum")
    node = helper.make_node("ReduceSum", ["x", "axes"], ["y"], keepdims=0)
    model = make_model([node], [("x", (2, 3, 4), F), ("axes", (1,), I64)], ["y"], opset=13)
    rep = EdgeliteBackend.prepare(model, constant_inputs=["axes"])
    x = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    for axis in (1, 2):
        got = rep.run([x, np.asarray([axis], np.int64)])[0]
        np.testing.assert_allclose(got, x.sum(axis=axis), rtol=1e-5, atol=1e-6)
    assert len(rep._converted) == 2
    with pytest.raises(ValueError, match="not inputs"):
        EdgeliteBackend.prepare(model, constant_inputs=["nope"])


def test_run_node_and_devices():
    require("Add")
    a, b = RNG.standard_normal((2, 3)).astype(np.float32), RNG.standard_normal((3,)).astype(np.float32)
    (y,) = EdgeliteBackend.run_node(helper.make_node("Add", ["a", "b"], ["y"]), [a, b])
    np.testing.assert_allclose(y, a + b, rtol=1e-6)
    assert EdgeliteBackend.supports_device("CPU") and not EdgeliteBackend.supports_device("CUDA")
    with pytest.raises(ValueError, match="CPU"):
        EdgeliteBackend.prepare(relu_model(), "CUDA")
    with pytest.raises(ValueError, match="runtime"):
        EdgeliteBackend.prepare(relu_model(), runtime="tensorflow")


def test_onnx_backend_runner_drives_the_backend(monkeypatch, tmp_path):
    """The wheel's own unittest runner accepts the backend (a node test and a light model test)."""
    from onnx.backend.test import runner as onnx_runner
    from onnx.backend.test.case.model import collect_testcases
    from onnx.backend.test.case.test_case import TestCase

    from tests.frontends.onnx.backend_suite import LIGHT, load_node_case

    require(*{n.op_type for n in onnx.load(os.path.join(LIGHT, "light_squeezenet.onnx")).graph.node})
    relu = load_node_case("test_relu")
    node = TestCase(relu.name, relu.name, None, None, relu.model, [(relu.inputs, relu.outputs)], "node",
                    relu.rtol, relu.atol)
    cases = {"node": [node], "real": [c for c in collect_testcases() if c.name == "test_squeezenet"]}
    monkeypatch.setattr(onnx_runner, "load_model_tests", lambda kind=None, **_: cases.get(kind, []))
    monkeypatch.setenv("ONNX_HOME", str(tmp_path))  # the runner writes the light model's dummy data there
    suite = onnx_runner.Runner(EdgeliteBackend, __name__).include(r"_cpu$").test_suite
    with open(os.devnull, "w") as sink:
        result = unittest.TextTestRunner(stream=sink, verbosity=0).run(suite)
    assert result.wasSuccessful(), result.failures + result.errors
    assert result.testsRun - len(result.skipped) == 2, result.skipped  # test_relu_cpu, test_squeezenet_cpu


def test_list_comments(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("# header\ntest_a\ntest_b  # constant inputs: axes, pads\n\n"
                    "# by hand (kept by scripts/update_onnx_allowlist.py while the test fails):\n"
                    "test_c  # why\n")
    entries = read_list(str(path))
    assert list(entries) == ["test_a", "test_b", "test_c"]
    assert constant_inputs(entries["test_b"]) == ("axes", "pads") and constant_inputs(entries["test_a"]) == ()
    assert read_list(str(path), by_hand=True) == {"test_c": "why"}
