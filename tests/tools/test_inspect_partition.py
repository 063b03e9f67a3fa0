"""`edgelite inspect` reports the native partition: the same segments and reasons as the executor's
own partition() (the oracle: the nodes the engine really runs)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgelite.cli import main
from edgelite.runtime import native
from edgelite.runtime.executor import partition_summary
from edgelite.runtime.interpreter import Interpreter
from tests.native.test_engine import chain_model

needs_engine = pytest.mark.skipif(native._engine is None, reason="the native extension is not built (no C "
                                  "compiler at install time); the reference executor runs instead")


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


@needs_engine
@pytest.mark.parametrize("middle", ["EXP", "TANH"])
def test_inspect_partition_matches_the_executor(tmp_path, capsys, middle):
    content = chain_model(middle)
    path = tmp_path / "chain.tflite"
    path.write_bytes(content)
    interpreter = Interpreter(model_content=content, experimental_executor="native")
    interpreter.allocate_tensors()
    want = interpreter.partition()
    assert main(["inspect", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)["partition"]
    assert info["summary"] == partition_summary(want)
    assert [(s["native"], s["first"], s["end"]) for s in info["segments"]] == [(s.native, s.first, s.end)
                                                                              for s in want]
    left = [(n.op, n.reason) for s in want if not s.native for n in s.nodes]
    assert [(e["op"], e["reason"]) for e in info["reference_nodes"]] == left
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert partition_summary(want) in out
    for op, reason in left:
        assert op in out and reason in out


def test_inspect_without_the_engine_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(native, "_engine", None)
    path = tmp_path / "chain.tflite"
    path.write_bytes(chain_model("EXP"))
    assert main(["inspect", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)["partition"]
    assert "not built" in info["summary"] and info["segments"] == []


def test_chain_model_runs():
    interpreter = Interpreter(model_content=chain_model("TANH"))
    interpreter.allocate_tensors()
    x = np.linspace(-2, 2, 10, dtype=np.float32).reshape(2, 5)
    interpreter.set_tensor(0, x)
    interpreter.invoke()
    np.testing.assert_allclose(interpreter.get_tensor(3), np.maximum(np.tanh(np.maximum(x, 0)), 0), rtol=1e-6)
