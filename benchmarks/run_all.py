"""Benchmark every shared model (and any given .tflite paths) in edgelite and LiteRT, and write the
table into README.md's Performance section, between the benchmark markers. Never edit it by hand.

    python benchmarks/run_all.py [MODEL.tflite ...] [--runs 30] [--threads 1 2] [--no-write] [--no-mobilenet]

MobileNetV2-1.0-224 float32 and int8 (benchmarks/mobilenet_v2.py: torch definition, edgelite's ONNX
converter, random weights) join the shared models when torch is installed; they are built once into
benchmarks/.models/.

Each row is one `edgelite.benchmark(model, threads, runs, compare=("litert",), profile=True)`:
both runtimes in their own process, same inputs and threads, runs alternated between them.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from edgelite.errors import EdgeliteError
from edgelite.tools._bench_system import machine
from edgelite.tools._tables import human_bytes
from edgelite.tools.benchmark import BenchmarkResult, benchmark

REPO = Path(__file__).resolve().parents[1]
MODELS_DIR = REPO.parent / "shared" / "models"
README = REPO / "README.md"
BUILT_DIR = REPO / "benchmarks" / ".models"
BEGIN, END = "<!-- benchmark:begin -->", "<!-- benchmark:end -->"
HEADER = ["model", "threads", "edgelite ms", "LiteRT ms", "ratio", "edgelite arena / peak RSS",
          "LiteRT peak RSS", "size", "outputs", "edgelite's costliest op type"]


def _cell(text: str, limit: int = 120) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _rss(runtime) -> str:
    """Peak RSS with the growth over the process's RSS right before loading the model."""
    if runtime.peak_rss_bytes is None:
        return "-"
    grown = runtime.peak_rss_bytes - (runtime.rss_before_load_bytes or 0)
    return f"{human_bytes(runtime.peak_rss_bytes)} (+{human_bytes(grown)})"


def row(path: Path, threads: int, result: BenchmarkResult | None, error: str | None) -> list[str]:
    """One table row; a runtime that cannot run gets its reason in place of its figures."""
    size = human_bytes(path.stat().st_size)
    if result is None:
        return [path.stem, str(threads), _cell(f"cannot run: {error}"), "-", "-", "-", "-", size, "-", "-"]
    ours, theirs = result.runtime("edgelite"), result.runtime("litert")
    our_ms = "-" if ours.error else f"{ours.latency['p50_ms']:.3f}"
    their_ms = _cell(f"cannot run: {theirs.error}") if theirs.error else f"{theirs.latency['p50_ms']:.3f}"
    if ours.error:
        our_ms = _cell(f"cannot run yet: {re.sub(r'^[A-Za-z]*Error: ', '', ours.error)}")
    ratio = result.ratio("p50_ms")
    memory = "-" if ours.error else f"{human_bytes(ours.arena_bytes)} / {_rss(ours)}"
    agreement = theirs.agreement
    if agreement is None:
        outputs = "-"
    elif agreement.agree:
        outputs = f"agree ({max((e for e in agreement.max_abs_error if e is not None), default=0):.1g})"
    else:
        outputs = _cell(f"DIFFER: {agreement.detail}", 60)
    costliest = "-"
    if ours.profile is not None and ours.profile.by_type:
        top = ours.profile.by_type[0]
        costliest = f"{top.op} ×{top.count}: {top.percent:.0f}%"
    return [path.stem, str(threads), our_ms, their_ms, "-" if ratio is None else f"{ratio:.1f}×", memory,
            "-" if theirs.error else _rss(theirs), size, outputs, costliest]


def measure(paths: list[Path], threads: list[int], runs: int, warmup: int) -> tuple[list[list[str]], list]:
    rows, results = [], []
    for path in paths:
        for count in threads:
            try:
                result = benchmark(path, threads=count, runs=runs, warmup=warmup, profile=True,
                                   compare=("litert",), strict=False)
                error = None
            except EdgeliteError as failure:
                result, error = None, str(failure)
            rows.append(row(path, count, result, error))
            results.append(result)
            print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
    return rows, results


def slowest_note(paths_results: list[tuple[Path, BenchmarkResult]]) -> str:
    """Which model edgelite is furthest behind on, and where its time goes there."""
    ranked = [(r.ratio("p50_ms"), p, r) for p, r in paths_results if r is not None and r.ratio("p50_ms")]
    if not ranked:
        return ""
    ratio, path, result = max(ranked, key=lambda item: item[0])
    profile = result.runtime("edgelite").profile
    types = ", ".join(f"{t.op} {t.percent:.0f}%" for t in profile.by_type[:3]) if profile else "no profile"
    return (f"Furthest behind: **{path.stem}** at {result.threads} thread(s), {ratio:.1f}× LiteRT's median; "
            f"edgelite's time there by op type: {types}.")


def _load(load: list[float] | None) -> str:
    return "/".join(str(x) for x in load) if load else "unknown"


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def section(rows: list[list[str]], note: str, runs: int, warmup: int, command: str,
            start_load: list[float] | None) -> str:
    info = machine()
    load = f"{_load(start_load)} at the start, {_load(info['load_average'])} at the end"
    lines = [BEGIN, "",
             f"Measured on **{info['cpu']}** ({info['usable_cores']} usable of {info['logical_cores']} "
             f"logical cores, {info['os']}; 1/5/15-minute load average {load}), "
             f"Python {info['python']}, numpy {_version('numpy')}, ai-edge-litert "
             f"{_version('ai-edge-litert')}, on {info['date']}, by `{command}`.",
             "",
             f"Times are the median (p50) of {runs} steady-state runs per runtime after one first and "
             f"{warmup} warm-up runs, on seeded random inputs. Each runtime runs in its own process "
             "(so peak RSS counts that runtime only; in brackets its growth over the RSS right before "
             "loading the model) and runs alternate between them. LiteRT uses its default op resolver "
             "(XNNPACK) with the same thread count. Ratio = edgelite / LiteRT (higher: edgelite slower). "
             "Outputs: whether LiteRT's outputs agree with edgelite's (max abs error). The last column "
             "is from edgelite's per-op profile (`edgelite benchmark --profile`).",
             "",
             "| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|",
             *("| " + " | ".join(r) + " |" for r in rows), ""]
    busiest = max([*(start_load or [0]), *(info["load_average"] or [0])])
    if busiest > info["usable_cores"]:
        lines += [f"The machine was busy with other work (load average up to {busiest:g} on "
                  f"{info['usable_cores']} cores): absolute times are inflated and noisy, most where a "
                  "runtime uses more than one thread; alternated runs keep the ratios fairer than the "
                  "absolute times.", ""]
    if note:
        lines += [note, ""]
    lines.append(END)
    return "\n".join(lines)


def write_readme(readme: Path, block: str) -> None:
    """Replace what is between the markers, or append a Performance section holding them."""
    text = readme.read_text()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## Performance\n\n" + block + "\n"
    readme.write_text(text)


def mobilenet_models() -> list[Path]:
    """MobileNetV2-1.0-224 float32 + int8, built once (needs torch); [] with a note when torch is missing."""
    import mobilenet_v2

    paths = sorted(BUILT_DIR.glob("mobilenet_v2_1_224_*.tflite"))
    if len(paths) == 2:
        return paths
    try:
        import torch  # noqa: F401
    except ImportError:
        print("torch is not installed: MobileNetV2-1.0-224 is left out", file=sys.stderr)
        return []
    return mobilenet_v2.write(BUILT_DIR)


def geomeans(pairs: list[tuple[Path, BenchmarkResult | None]]) -> str:
    """Geometric-mean ratio per precision and thread count, the worst model, and 1 -> 2 thread speed-ups."""
    groups: dict[tuple[str, int], list[tuple[float, str]]] = {}
    by_model: dict[str, dict[int, float]] = {}
    for path, result in pairs:
        if result is None or not result.ratio("p50_ms"):
            continue
        kind = "int8" if "int8" in path.stem else "float"
        groups.setdefault((kind, result.threads), []).append((result.ratio("p50_ms"), path.stem))
        by_model.setdefault(path.stem, {})[result.threads] = result.runtime("edgelite").latency["p50_ms"]
    lines = []
    for (kind, threads), ratios in sorted(groups.items()):
        geomean = math.exp(sum(math.log(r) for r, _ in ratios) / len(ratios))
        worst = max(ratios)
        lines.append(f"{kind}, {threads} thread(s): geomean {geomean:.2f}× over {len(ratios)} models "
                     f"(worst {worst[1]} {worst[0]:.2f}×)")
    speedups = [f"{name} {times[1] / times[2]:.2f}×"
                for name, times in by_model.items() if {1, 2} <= set(times)]
    if speedups:
        lines.append("edgelite 1 → 2 threads: " + ", ".join(speedups))
    return "\n".join(f"- {line}" for line in lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path, help="more .tflite files to benchmark")
    parser.add_argument("--runs", type=int, default=30, help="steady-state runs per runtime (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up runs after the first (default 3)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default 1 2)")
    parser.add_argument("--readme", type=Path, default=README, help="the README to write into")
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing it")
    parser.add_argument("--no-mobilenet", action="store_true", help="leave out MobileNetV2-1.0-224")
    parser.add_argument("--json", type=Path, help="also save every BenchmarkResult as a JSON list here")
    args = parser.parse_args(argv)
    paths = (sorted(MODELS_DIR.glob("*.tflite")) if MODELS_DIR.is_dir() else []) + list(args.models)
    if not args.no_mobilenet:
        paths += mobilenet_models()
    if not paths:
        sys.exit(f"no models in {MODELS_DIR} and none given")
    start_load = machine()["load_average"]
    rows, results = measure(paths, args.threads, args.runs, args.warmup)
    pairs = [(p, r) for p, r in zip([p for p in paths for _ in args.threads], results, strict=True)]
    given = argv if argv is not None else sys.argv[1:]
    command = " ".join(["python benchmarks/run_all.py", *given])
    note = "\n\n".join(part for part in (geomeans(pairs), slowest_note(pairs)) if part)
    block = section(rows, note, args.runs, args.warmup, command, start_load)
    if args.json:
        args.json.write_text(json.dumps([json.loads(r.to_json()) if r else None for r in results], indent=1))
    if args.no_write:
        print(block)
    else:
        write_readme(args.readme, block)
        print(f"wrote the Performance table of {len(paths)} models into {args.readme}", file=sys.stderr)


if __name__ == "__main__":
    main()
