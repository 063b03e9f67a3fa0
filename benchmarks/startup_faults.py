"""Page faults and milliseconds per start-up (Interpreter + allocate_tensors + invoke), edgelite vs LiteRT.

    python benchmarks/startup_faults.py [MODEL ...] [--repeats 9] [--fresh] [--collect]

Steady (default): each runtime in its own child process repeats the start-up; minor faults from
getrusage before / after each, medians over the repeats after one warm-up. `--collect` runs
gc.collect() before each start-up (outside the timing), so that an interpreter kept by a reference
cycle releases its memory before the next. `--fresh`: a new python per sample (imports done before
the timing; bytecode cached under /tmp/edgelite_faults_pyc), the median of `--repeats` after one
discarded sample. Models are stems in /work/shared/models. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "models"
DEFAULT = ["digits_cnn_float16", "digits_cnn_int8", "mnv2_035_96_float32", "mnv2_035_96_int8",
           "face_detection_short_range", "face_landmark", "hand_landmark_lite", "selfie_segmentation"]


def interpreter_class(runtime: str) -> type:
    if runtime == "litert":
        from ai_edge_litert.interpreter import Interpreter
    else:
        from edgelite.runtime.interpreter import Interpreter
    return Interpreter


def one_startup(cls: type, path: Path, collect: bool) -> tuple[int, float]:
    if collect:
        gc.collect()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start = time.perf_counter()
    interpreter = cls(model_path=str(path))
    interpreter.allocate_tensors()
    interpreter.invoke()
    ms = (time.perf_counter() - start) * 1e3
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    del interpreter
    return faults, ms


def child(runtime: str, path: Path, repeats: int, collect: bool) -> None:
    """Prints [faults, ms] of each start-up as JSON (repeats + 1 of them)."""
    cls = interpreter_class(runtime)
    print(json.dumps([one_startup(cls, path, collect) for _ in range(repeats + 1)]))


def samples(runtime: str, path: Path, repeats: int, collect: bool, fresh: bool) -> list[tuple[int, float]]:
    if not fresh:
        out = subprocess.run([sys.executable, __file__, "--child", runtime, str(path), str(repeats)]
                             + ["--collect"] * collect, capture_output=True, text=True, check=True)
        return json.loads(out.stdout.splitlines()[-1])[1:]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = "/tmp/edgelite_faults_pyc"
    command = [sys.executable, __file__, "--child", runtime, str(path), "0"]
    runs = [json.loads(subprocess.run(command, env=env, capture_output=True, text=True,
                                      check=True).stdout.splitlines()[-1])[0] for _ in range(repeats + 1)]
    return runs[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", default=DEFAULT)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--collect", action="store_true")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), int(args.child[2]), args.collect)
        return
    mode = "fresh process" if args.fresh else \
        "steady loop" + (", gc.collect() between" if args.collect else "")
    print(f"{mode}: faults and ms per start-up, medians (edgelite / LiteRT)")
    for name in args.models:
        path = MODELS_DIR / f"{name}.tflite"
        ours, theirs = (samples(runtime, path, args.repeats, args.collect, args.fresh)
                        for runtime in ("edgelite", "litert"))
        median = [statistics.median(x) for x in (*zip(*ours, strict=True), *zip(*theirs, strict=True))]
        print(f"{name:28s} faults {median[0]:7.0f} / {median[2]:6.0f}   "
              f"ms {median[1]:6.2f} / {median[3]:6.2f}", flush=True)


if __name__ == "__main__":
    main()
