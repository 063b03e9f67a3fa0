"""What a fresh process imports: `import edgelite`, and running a model on the native engine, stay
clear of the heavy modules only other paths need (the `tflite` bindings: the checked Python reader
and the writer; ctypes.util and subprocess: finding libm where its soname does not load)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from edgelite.model import _native

SRC = Path(__file__).resolve().parents[2] / "src"
BUNDLED = SRC / "edgelite" / "data" / "digits_mlp.tflite"
SHARED_INT8 = Path(__file__).resolve().parents[3] / "shared" / "models" / "mnv2_035_96_int8.tflite"
HEAVY = ("tflite", "flatbuffers", "subprocess", "ctypes.util")
GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def imported_after(statement: str) -> list[str]:
    """The HEAVY modules a fresh interpreter holds after running `statement`."""
    report = f"import json\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    probe = f"import sys\n{statement}\n{report}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_edgelite_imports_none_of_the_heavy_modules() -> None:
    assert imported_after("import edgelite") == []


@pytest.mark.skipif(_native._engine is None, reason="without the extension models are read by the "
                    "checked Python reader, which needs the tflite bindings")
@pytest.mark.parametrize("path", [BUNDLED, SHARED_INT8], ids=lambda path: path.stem)
def test_running_a_model_imports_none_of_the_heavy_modules(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} is not here (shared test models)")
    run = ("import numpy as np\nimport edgelite\n"
           f"interpreter = edgelite.Interpreter(model_path={str(path)!r})\n"
           "interpreter.allocate_tensors()\n"
           "interpreter.invoke()\n"
           "assert np.isfinite(interpreter.get_tensor(interpreter.get_output_details()[0]['index'])).all()")
    heavy = imported_after(run)
    if not GLIBC:  # libm has no "libm.so.6" soname there: ctypes.util finds it, via a subprocess
        heavy = [name for name in heavy if name not in ("subprocess", "ctypes.util")]
    assert heavy == []


@pytest.mark.skipif(_native._engine is None, reason="without the extension the checked Python reader "
                    "reads, which builds every operator's options (importing its op module)")
def test_reading_models_imports_no_op_module_until_options_are_read() -> None:
    """The walker leaves each operator's options unbuilt: loading every shared model (and the
    bundled one) imports no edgelite.ops module that `import edgelite` did not; reading
    `op.options` afterwards gives what the checked Python reader builds eagerly."""
    paths = [BUNDLED, *sorted(SHARED_INT8.parent.glob("*.tflite"))]
    probe = f"""
import sys
import edgelite
ops_before = {{m for m in sys.modules if m.startswith("edgelite.ops")}}
models = [edgelite.load(path) for path in {[str(p) for p in paths]!r}]
print([m for m in sys.modules if m.startswith("edgelite.ops") and m not in ops_before])
from edgelite.model import reader
from edgelite.model.ir import deferred
for path, model in zip({[str(p) for p in paths]!r}, models):
    eager = reader.read_checked(path, reader._open(path))
    pairs = [(lazy, checked) for graph, checked_graph in zip(model.subgraphs, eager.subgraphs, strict=True)
             for lazy, checked in zip(graph.operators, checked_graph.operators, strict=True)]
    assert any(deferred(lazy, "options") is not None for lazy, _ in pairs), path
    assert all(lazy.options == checked.options and type(lazy.options) is type(checked.options)
               for lazy, checked in pairs), path
print("ok", sum(len(graph.operators) for model in models for graph in model.subgraphs))
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    imported, verdict = done.stdout.strip().splitlines()[-2:]
    assert imported == "[]"
    assert verdict.startswith("ok ") and int(verdict.split()[1]) > 0
