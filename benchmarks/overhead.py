"""Per-invoke overhead and start-up of edgelite vs LiteRT, side by side in one process.

    python benchmarks/overhead.py [MODEL.tflite ...] [--models-dir DIR] [--repeats 7] [--calls 20000]
                                  [--startup-only] [--fresh]

(a) A one-op model (RELU on a (1, 8) float32 tensor): `invoke()`, `set_tensor + invoke` and
    `set_tensor + invoke + get_tensor`, in microseconds per call (median of `--repeats` loops).
(b) Each model: `Interpreter(model_path) + allocate_tensors() + first invoke()` in milliseconds
    and minor page faults (median of `--repeats` runs alternating between the two runtimes, after
    one untimed warm-up of each), with edgelite's phases (read the file, plan + lower: one compile
    call, or the Python planner and lowerers where the compiler defers, shown negative; first
    invoke; each a median of its own). LiteRT runs its default XNNPACK path.
    Ratios are edgelite / LiteRT; nothing is asserted (timings are noisy).
(c) With `--fresh`: the same start-up as the first model of a new process (each sample a new
    `python`, the runtime's import done before the clock starts, so its one-time lazy work counts),
    and the import itself (`import edgelite` vs `from ai_edge_litert.interpreter import Interpreter`).
    Bytecode is cached under a temporary PYTHONPYCACHEPREFIX, as an installed package has it.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edgelite.model.ir import Model, Operator, Subgraph, Tensor, TensorType
from edgelite.model.reader import load
from edgelite.runtime.compiled import compiled_executor
from edgelite.runtime.interpreter import Interpreter
from edgelite.runtime.native import make_executor
from edgelite.runtime.plan import build_plan

MODELS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "models"


def litert_interpreter() -> type:
    from ai_edge_litert.interpreter import Interpreter as LiteRT

    return LiteRT


def one_op_model() -> bytes:
    """RELU of a (1, 8) float32 input."""
    model = Model(subgraphs=[Subgraph(name="main")])
    graph = model.subgraphs[0]
    graph.tensors += [Tensor("x", (1, 8), TensorType.FLOAT32, 0), Tensor("y", (1, 8), TensorType.FLOAT32, 0)]
    graph.operators, graph.inputs, graph.outputs = [Operator("RELU", (0,), (1,))], (0,), (1,)
    return model.to_bytes()


def per_call_us(fn: Callable[[], object], calls: int, repeats: int) -> float:
    loops = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        loops.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(loops)


def invoke_overhead(interpreter_class: type, content: bytes, calls: int, repeats: int) -> dict[str, float]:
    interpreter = interpreter_class(model_content=content)
    interpreter.allocate_tensors()
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(1, 8)
    i, o = interpreter.get_input_details()[0]["index"], interpreter.get_output_details()[0]["index"]
    interpreter.set_tensor(i, x)
    interpreter.invoke()
    return {
        "invoke": per_call_us(interpreter.invoke, calls, repeats),
        "set_tensor + invoke": per_call_us(lambda: (interpreter.set_tensor(i, x), interpreter.invoke()),
                                           calls, repeats),
        "set_tensor + invoke + get_tensor": per_call_us(
            lambda: (interpreter.set_tensor(i, x), interpreter.invoke(), interpreter.get_tensor(o)), calls,
            repeats),
    }


def startup(interpreter_class: type, path: Path) -> tuple[float, int]:
    """(milliseconds, minor page faults) of one start-up; the interpreter is dropped inside the timing."""
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start = time.perf_counter()
    interpreter = interpreter_class(model_path=str(path))
    interpreter.allocate_tensors()
    interpreter.invoke()
    del interpreter
    return (time.perf_counter() - start) * 1e3, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults


_FRESH = """
import sys, time, warnings
warnings.simplefilter("ignore")
start = time.perf_counter()
if sys.argv[1] == "litert":
    from ai_edge_litert.interpreter import Interpreter
else:
    from edgelite import Interpreter
imported = time.perf_counter()
if sys.argv[2]:
    interpreter = Interpreter(model_path=sys.argv[2])
    interpreter.allocate_tensors()
    interpreter.invoke()
print((imported - start) * 1e3, (time.perf_counter() - imported) * 1e3)
"""


def fresh_process_ms(runtime: str, path: Path | None, environment: dict) -> tuple[float, float]:
    """(import ms, first start-up ms) measured inside a new Python process."""
    done = subprocess.run([sys.executable, "-c", _FRESH, runtime, str(path or "")], env=environment,
                          capture_output=True, text=True, check=True)
    imported, startup = done.stdout.split()[-2:]
    return float(imported), float(startup)


def fresh_table(paths: list[Path], repeats: int) -> None:
    with tempfile.TemporaryDirectory() as cache:
        environment = {**os.environ, "PYTHONPYCACHEPREFIX": cache}
        environment.pop("PYTHONDONTWRITEBYTECODE", None)
        for runtime in ("edgelite", "litert"):  # fills the bytecode cache
            fresh_process_ms(runtime, paths[0] if paths else None, environment)
        def medians(path: Path | None, which: int) -> tuple[float, float]:
            samples = [[fresh_process_ms(r, path, environment)[which] for r in ("edgelite", "litert")]
                       for _ in range(repeats)]  # alternating, so that machine load hits both alike
            ours, theirs = zip(*samples, strict=True)
            return statistics.median(ours), statistics.median(theirs)

        print("\n(c) first model of a new process (import done before timing), milliseconds")
        ours, theirs = medians(None, 0)
        print(f"{'import':30s} {ours:9.2f} {theirs:9.2f} {ours / theirs:6.2f}")
        ratios = []
        for path in paths:
            ours, theirs = medians(path, 1)
            ratios.append(ours / theirs)
            print(f"{path.stem:30s} {ours:9.2f} {theirs:9.2f} {ratios[-1]:6.2f}")
        if ratios:
            print(f"{'geomean ratio':30s} {'':9s} {'':9s} {float(np.exp(np.mean(np.log(ratios)))):6.2f}")


def edgelite_phases_ms(path: Path) -> list[float]:
    """read + parse, plan + lower (one compile call, or the Python path where the compiler defers;
    then negative), first invoke."""
    marks = [time.perf_counter()]
    model = load(path.read_bytes())
    marks.append(time.perf_counter())
    executor = compiled_executor(model, {}, None)
    compiled = executor is not None
    if not compiled:
        executor = make_executor(build_plan(model, 0, {}))
    marks.append(time.perf_counter())
    executor.invoke()
    marks.append(time.perf_counter())
    phases = [(b - a) * 1e3 for a, b in zip(marks, marks[1:], strict=False)]
    phases[1] *= 1 if compiled else -1
    return phases


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", type=Path, help="extra .tflite files")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--startup-only", action="store_true", help="skip (a), the per-invoke overhead")
    parser.add_argument("--fresh", action="store_true", help="also (c): start-up in new processes")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    litert = litert_interpreter()

    if not args.startup_only:
        print("(a) one-op model (RELU, 1x8 float32), microseconds per call")
        print(f"{'':34s} {'edgelite':>9s} {'LiteRT':>9s} {'ratio':>6s}")
        content = one_op_model()
        ours = invoke_overhead(Interpreter, content, args.calls, args.repeats)
        theirs = invoke_overhead(litert, content, args.calls, args.repeats)
        for name, value in ours.items():
            print(f"{name:34s} {value:9.2f} {theirs[name]:9.2f} {value / theirs[name]:6.2f}")

    paths = sorted(args.models_dir.glob("*.tflite")) if args.models_dir.is_dir() else []
    paths += args.models
    print("\n(b) Interpreter(model_path) + allocate_tensors() + first invoke(): milliseconds, page faults")
    print(f"{'model':30s} {'edgelite':>9s} {'LiteRT':>9s} {'ratio':>6s}   {'faults':>13s}   edgelite phases: "
          "read / plan+lower / first invoke (plan+lower < 0: on the Python path)")
    ratios = []
    for path in paths:
        startup(Interpreter, path), startup(litert, path)  # warm-up (imports, caches)
        ours, theirs = [], []
        for _ in range(args.repeats):  # alternating, so that load on the machine hits both alike
            ours.append(startup(Interpreter, path))
            theirs.append(startup(litert, path))
        (ours_ms, ours_faults), (theirs_ms, theirs_faults) = np.median([ours, theirs], axis=1)
        phases = np.median([edgelite_phases_ms(path) for _ in range(args.repeats)], axis=0)
        ratios.append(ours_ms / theirs_ms)
        print(f"{path.stem:30s} {ours_ms:9.2f} {theirs_ms:9.2f} {ratios[-1]:6.2f}   "
              f"{ours_faults:6.0f} {theirs_faults:6.0f}   " + " / ".join(f"{p:.2f}" for p in phases))
    if ratios:
        print(f"{'geomean ratio':30s} {'':9s} {'':9s} {float(np.exp(np.mean(np.log(ratios)))):6.2f}")
    if args.fresh:
        fresh_table(paths, args.repeats)


if __name__ == "__main__":
    main()
