"""`edgelite benchmark`: latency, memory, size, energy and a per-op profile, side by side with LiteRT.

Every runtime runs the same file on the same inputs with the same thread count, each in its own
process (so peak memory counts that runtime only), with steady-state runs alternated between them.
Figures are ratios edgelite / LiteRT, and outputs are checked to agree.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from edgelite.tools._bench_result import BenchmarkResult, RuntimeResult, agreement, runtime_result
from edgelite.tools._bench_session import measure
from edgelite.tools._bench_system import EnergyCounter, machine
from edgelite.tools._common import CliError, UsageError, describe_error, load_model
from edgelite.tools.run import _coerce, _fits, input_names, parse_input_arg, random_inputs

__all__ = ["BenchmarkResult", "RuntimeResult", "benchmark"]

COMPARABLE = ("litert", "onnxruntime")
DELEGATES = ("native", "reference")  # edgelite's executors (default: native when built)
DEFAULT_RUNS, DEFAULT_WARMUP, INPUT_SEED = 50, 3, 0


def benchmark(model_path: str | os.PathLike, threads: int = 1, runs: int | None = None,
              duration: float | None = None, warmup: int = DEFAULT_WARMUP,
              inputs: Mapping[str, Any] | None = None, delegate: str | None = None, profile: bool = False,
              compare: Iterable[str] | str = ("litert",), onnx: str | os.PathLike | None = None,
              progress: bool = False, strict: bool = True) -> BenchmarkResult:
    """Benchmark a .tflite model in edgelite and (by default) LiteRT; see the module docstring.

    runs / duration: steady-state inferences, or seconds, per runtime (default 50 runs).
    inputs: values by input name; the others are seeded random. profile: per-op times (edgelite).
    compare: runtimes run beside edgelite ('litert', 'onnxruntime' with `onnx` the .onnx file).
    strict: raise when a runtime fails; with False its RuntimeResult carries the error instead.
    """
    path = os.fspath(model_path)
    runtimes = ["edgelite", *_compare_list(compare, onnx)]
    runs, duration = _budget(runs, duration)
    if not isinstance(threads, int) or threads < 1:
        raise UsageError(f"threads must be an integer >= 1, got {threads!r}")
    if not isinstance(warmup, int) or warmup < 0:
        raise UsageError(f"warmup must be an integer >= 0, got {warmup!r}")
    if delegate not in (None, *DELEGATES):
        raise UsageError(f"unknown delegate '{delegate}'; available: {', '.join(DELEGATES)}")
    if onnx is not None and not os.path.isfile(onnx):
        raise UsageError(f"cannot read ONNX model '{os.fspath(onnx)}': no such file")
    model = load_model(path)
    values, described = _inputs(model, inputs or {})
    spec = {"model": path, "onnx": None if onnx is None else os.fspath(onnx), "threads": threads,
            "inputs": values, "warmup": warmup, "profile": profile, "executor": delegate}
    raws = measure(runtimes, spec, runs, duration, progress)
    energy_reason = EnergyCounter().reason or None
    results = [runtime_result(raw, energy_reason) for raw in raws]
    ours = raws[0].finish.get("outputs")
    for raw, result in zip(raws[1:], results[1:], strict=True):
        if ours is not None and raw.error is None:
            result.agreement = agreement(ours, raw.finish["outputs"], dequantized_from(model))
    failed = [r for r in results if r.error is not None]
    if strict and failed:
        raise CliError(f"{failed[0].name} cannot run '{path}': {failed[0].error}")
    executor = raws[0].start.get("executor") or delegate or "native"
    return BenchmarkResult(path, os.path.getsize(path), threads, runs, duration, warmup, executor, described,
                           machine(), results)


def dequantized_from(model: Any) -> list[float]:
    """Per output of the main subgraph: the scale of the integer tensor a DEQUANTIZE made it from, or 0."""
    subgraph = model.subgraphs[0]
    producers = {out: op for op in subgraph.operators for out in op.outputs}
    quanta = []
    for index in subgraph.outputs:
        op = producers.get(index)
        source = subgraph.tensors[op.inputs[0]] if op is not None and op.name == "DEQUANTIZE" else None
        quantization = None if source is None or source.dtype.kind not in "iu" else source.quantization
        quanta.append(float(np.max(quantization.scale)) if quantization is not None else 0.0)
    return quanta


def _compare_list(compare: Iterable[str] | str | None, onnx: Any) -> list[str]:
    names = compare.split(",") if isinstance(compare, str) else list(compare or ())
    names = [n.strip().lower() for n in names if n.strip() and n.strip().lower() != "none"]
    unknown = [n for n in names if n not in COMPARABLE]
    if unknown:
        raise UsageError(f"unknown --compare value '{unknown[0]}'; choose from {', '.join(COMPARABLE)} "
                         f"(comma-separated) or none")
    if onnx is not None and "onnxruntime" not in names:
        names.append("onnxruntime")
    if "onnxruntime" in names and onnx is None:
        raise UsageError("--compare onnxruntime needs the ONNX model: --onnx MODEL.onnx")
    return list(dict.fromkeys(names))


def _budget(runs: int | None, duration: float | None) -> tuple[int | None, float | None]:
    if runs is not None and duration is not None:
        raise UsageError("give --runs or --duration, not both")
    if runs is not None and (not isinstance(runs, int) or runs < 1):
        raise UsageError(f"runs must be an integer >= 1, got {runs!r}")
    if duration is not None and not duration > 0:
        raise UsageError(f"duration must be > 0 seconds, got {duration!r}")
    return (DEFAULT_RUNS if runs is None and duration is None else runs), duration


def _inputs(model: Any, given: Mapping[str, Any]) -> tuple[list[tuple[int, np.ndarray]], list[dict]]:
    """(tensor index, value) for every input of subgraph 0, given ones checked, others random."""
    graph, names = model.subgraphs[0], input_names(model)
    try:
        random_values = list(random_inputs(model, INPUT_SEED).values())
    except CliError:
        random_values = [None] * len(graph.inputs)
    values = dict(zip(graph.inputs, random_values, strict=True))
    sources = {i: f"random (seed {INPUT_SEED})" for i in graph.inputs}
    for name, value in given.items():
        if name not in names:
            raise UsageError(f"unknown input '{name}'; the model's inputs are: {', '.join(names) or 'none'}")
        index = names[name]
        tensor = graph.tensors[index]
        value = _coerce(name, np.asarray(value), tensor)
        if not _fits(value.shape, tensor):
            raise CliError(f"input '{name}' expects shape {tuple(tensor.shape_signature or tensor.shape)}, "
                           f"got {value.shape}")
        values[index], sources[index] = value, "given"
    missing = [graph.tensors[i].name for i, v in values.items() if v is None]
    if missing:
        raise CliError(f"cannot make a random value for input '{missing[0]}'; pass it with "
                       f"--input {missing[0]}=FILE.npy")
    described = [{"name": graph.tensors[i].name, "index": i, "shape": list(v.shape), "dtype": v.dtype.name,
                  "source": sources[i]} for i, v in values.items()]
    return list(values.items()), described


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `edgelite benchmark`."""
    parser = subparsers.add_parser(
        "benchmark", help="latency, memory, energy and per-op profile, side by side with LiteRT",
        description="Benchmark a .tflite model in edgelite and, beside it, LiteRT (default XNNPACK path)\n"
                    "and optionally onnxruntime: same file, inputs and threads, each runtime in its own\n"
                    "process, runs alternated. Reports ratios edgelite/other and checks outputs agree.\n"
                    f"Inputs not given with --input are seeded random (seed {INPUT_SEED}).",
        epilog="examples:\n  edgelite benchmark model.tflite --threads 2 --runs 100 --profile\n"
               "  edgelite benchmark model.tflite --duration 10 --compare none --json\n"
               "  edgelite benchmark model.tflite --compare litert,onnxruntime --onnx model.onnx\n"
               "  edgelite benchmark model.tflite --plot bench.png",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", metavar="MODEL", help="path to a .tflite file")
    parser.add_argument("--threads", type=int, default=1, metavar="N",
                        help="threads for every runtime (default 1)")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--runs", type=int, metavar="N",
                        help=f"steady-state inferences per runtime (default {DEFAULT_RUNS})")
    budget.add_argument("--duration", type=float, metavar="S", help="steady-state seconds per runtime")
    parser.add_argument("--warmup", type=int, default=DEFAULT_WARMUP, metavar="N",
                        help=f"warm-up inferences after the first one (default {DEFAULT_WARMUP})")
    parser.add_argument("--input", action="append", default=[], metavar="NAME=FILE.npy",
                        help="an input value by tensor or signature input name (repeatable)")
    parser.add_argument("--delegate", metavar="NAME", help=f"edgelite executor ({', '.join(DELEGATES)})")
    parser.add_argument("--profile", action="store_true", help="per-op times of edgelite")
    parser.add_argument("--compare", default="litert", metavar="RUNTIMES",
                        help="comma-separated: litert, onnxruntime, or none (default: litert)")
    parser.add_argument("--onnx", metavar="MODEL.onnx", help="the ONNX model onnxruntime runs")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--plot", metavar="OUT.png", help="latency histogram and per-op bars (matplotlib)")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run `edgelite benchmark`."""
    if args.plot:
        from edgelite.tools._bench_plot import require_matplotlib

        require_matplotlib()
    given = dict(parse_input_arg(text) for text in args.input)
    result = benchmark(args.model, args.threads, args.runs, args.duration, args.warmup, given, args.delegate,
                       args.profile or bool(args.plot), args.compare, args.onnx,
                       progress=not args.json and sys.stderr.isatty())
    if args.plot:
        try:
            result.plot(args.plot)
        except OSError as error:
            raise CliError(f"cannot write plot '{args.plot}': {describe_error(error)}") from error
    if args.json:
        print(result.to_json())
    else:
        from edgelite.tools._bench_tables import print_report

        print_report(result, show_profile=args.profile)
        if args.plot:
            print(f"plot written to {args.plot}")
    return 0
