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
