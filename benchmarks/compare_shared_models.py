"""Compare edgelite with LiteRT on every shared model: max output error, invoke time, arena size.

Prints a markdown table. Uses the helpers of tests/models/test_shared_models.py (same inputs,
same LiteRT oracle, same custom-op rewrite), so the numbers are those the test checks.

    python benchmarks/compare_shared_models.py [--repeats 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
shared = importlib.import_module("tests.models.test_shared_models")


def median_invoke_ms(interpreter, repeats: int) -> float:
    """Median wall time of `repeats` invokes (inputs already set, one warm-up done)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        interpreter.invoke()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def compare(path: Path, repeats: int, threads: int) -> list[str]:
    """One table row: errors per output, edgelite and LiteRT times, their ratio, arena sizes."""
    try:
        ours = shared.prepare_edgelite(path, num_threads=threads)
    except pytest.skip.Exception as skipped:
        return [path.stem, f"skipped: {skipped.msg}", "", "", "", "", ""]
    quantized = bool(shared.quantized_tensors(ours.model))
    theirs = shared.allocate(shared.litert_interpreter(shared.oracle_bytes(path), quantized,
                                                       num_threads=threads))
    inputs = shared.random_inputs(theirs, shared.SEEDS[0])
    errors = shared.max_abs_errors(shared.run(ours, inputs), shared.run(theirs, inputs))
    ours_ms, theirs_ms = median_invoke_ms(ours, repeats), median_invoke_ms(theirs, repeats)
    plan = ours.plan
    return [path.stem, ", ".join(f"{e:.2g}" for e in errors), f"{ours_ms:.2f}", f"{theirs_ms:.2f}",
            f"{ours_ms / theirs_ms:.1f}x", f"{plan.arena_size:,}", f"{plan.arena_lower_bound:,}"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="invokes per runtime (median reported)")
    parser.add_argument("--threads", type=int, default=1, help="num_threads for both interpreters")
    args = parser.parse_args(argv)
    if not shared.MODEL_PATHS:
        sys.exit(f"no models in {shared.MODELS_DIR}")
    header = ["model", "outputs max abs err", "edgelite ms", "LiteRT ms", "ratio", "arena bytes",
              "lower bound"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for path in shared.MODEL_PATHS:
        print("| " + " | ".join(compare(path, args.repeats, args.threads)) + " |", flush=True)
    print(f"\nmedian of {args.repeats} invokes after one warm-up, num_threads={args.threads}; "
          f"LiteRT default resolver (XNNPACK) for float models, builtin kernels for quantized ones")


if __name__ == "__main__":
    main()
