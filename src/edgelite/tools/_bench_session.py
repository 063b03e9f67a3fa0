"""The parent side of a benchmark: one worker process per runtime, runs alternated between them.

Each runtime is started in turn (so init times do not compete for the CPU), then steady-state
runs are requested in slices of at most SLICE_S seconds, alternating runtimes and the order in
which they go, so that machine noise (other processes, thermal or frequency changes) hits all.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SLICE_S = 0.25
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


@dataclass
class RawRun:
    """What one runtime's worker reported; `error` set (and the rest partial) when it failed."""

    runtime: str
    start: dict[str, Any] = field(default_factory=dict)
    latencies_ns: list[int] = field(default_factory=list)
    joules: float | None = None
    finish: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class WorkerFailed(Exception):
    """The worker process reported an error or died."""


class WorkerProcess:
    """`python -m edgelite.tools._bench_worker`, spoken to with pickled messages over pipes."""

    def __init__(self, runtime: str, threads: int) -> None:
        self.runtime = runtime
        self.stderr = tempfile.TemporaryFile()
        env = dict(os.environ)
        # numpy's BLAS would otherwise use every core whatever --threads says.
        env.update({name: str(threads) for name in THREAD_VARIABLES})
        source_root = str(Path(__file__).resolve().parents[2])  # edgelite importable even uninstalled
        env["PYTHONPATH"] = os.pathsep.join(p for p in (source_root, env.get("PYTHONPATH")) if p)
        self.process = subprocess.Popen([sys.executable, "-m", "edgelite.tools._bench_worker"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                        env=env)

    def ask(self, message: Any) -> dict[str, Any]:
        try:
            pickle.dump(message, self.process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.process.stdin.flush()
            reply = pickle.load(self.process.stdout)
        except (EOFError, BrokenPipeError, pickle.UnpicklingError) as error:
            raise WorkerFailed(self._death_note()) from error
        if reply.get("ok") is False:
            raise WorkerFailed(reply["error"])
        return reply

    def _death_note(self) -> str:
        code = self.process.wait(timeout=30)
        self.stderr.seek(0)
        lines = [line for line in self.stderr.read().decode(errors="replace").splitlines()
                 if line.strip() and not line.startswith("INFO:")]
        last = lines[-1].strip() if lines else "no message"
        return f"the {self.runtime} process ended unexpectedly (exit code {code}): {last}"

    def close(self) -> None:
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.stderr.close()


def measure(runtimes: list[str], spec: dict[str, Any], runs: int | None, duration: float | None,
            progress: bool = False) -> list[RawRun]:
    """Start every runtime, alternate their steady-state runs, collect results (errors included).

    `spec` is what every worker gets (model, onnx, threads, inputs, warmup, profile) plus its name.
    Exactly one of `runs` (inferences per runtime) and `duration` (seconds per runtime) is set.
    """
    results = [RawRun(name) for name in runtimes]
    workers: dict[str, WorkerProcess] = {}
    try:
        for result in results:
            worker = WorkerProcess(result.runtime, spec["threads"])
            try:
                result.start = worker.ask({**spec, "runtime": result.runtime})
                workers[result.runtime] = worker
            except WorkerFailed as error:
                result.error = str(error)
                worker.close()
        _alternate([r for r in results if r.runtime in workers], workers, runs, duration, progress)
        for result in results:
            if result.runtime in workers and result.error is None:
                try:
                    result.finish = workers[result.runtime].ask(("finish",))
                except WorkerFailed as error:
                    result.error = str(error)
    finally:
        for worker in workers.values():
            worker.close()
    return results


def _alternate(results: list[RawRun], workers: dict[str, WorkerProcess], runs: int | None,
               duration: float | None, progress: bool) -> None:
    slice_s = SLICE_S if duration is None else min(SLICE_S, max(duration / 4, 0.01))
    total = (runs or 0) * len(results) if duration is None else duration * len(results)
    with _Progress(progress, total, "runs" if duration is None else "s") as bar:
        active = list(results)
        round_index = 0
        while active:
            order = active[round_index % len(active):] + active[:round_index % len(active)]
            for result in order:
                if duration is None:
                    budget_runs, budget_s = runs - len(result.latencies_ns), slice_s
                else:
                    spent = sum(result.latencies_ns) / 1e9
                    budget_runs, budget_s = sys.maxsize, min(slice_s, duration - spent)
                try:
                    reply = workers[result.runtime].ask(("run", budget_runs, budget_s))
                except WorkerFailed as error:
                    result.error = str(error)
                    active.remove(result)
                    continue
                result.latencies_ns += reply["latencies_ns"]
                if reply["joules"] is not None:
                    result.joules = (result.joules or 0.0) + reply["joules"]
                if duration is None:
                    bar.advance(len(reply["latencies_ns"]))
                    done = len(result.latencies_ns) >= runs
                else:
                    bar.advance(sum(reply["latencies_ns"]) / 1e9)
                    done = sum(result.latencies_ns) / 1e9 >= duration
                if done:
                    active.remove(result)
            round_index += 1


class _Progress:
    """A transient rich progress bar on stderr (a no-op when disabled)."""

    def __init__(self, enabled: bool, total: float, unit: str) -> None:
        self.bar = None
        if enabled and total:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("benchmarking"), BarColumn(), TextColumn(f"{{task.completed:.0f}}/"
                                f"{{task.total:.0f}} {unit}"), TimeRemainingColumn(),
                                console=Console(stderr=True), transient=True)
            self.task = self.bar.add_task("benchmark", total=total)

    def __enter__(self) -> _Progress:
        if self.bar is not None:
            self.bar.start()
        return self

    def advance(self, amount: float) -> None:
        if self.bar is not None:
            self.bar.advance(self.task, amount)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def latency_stats(latencies_ns: list[int]) -> dict[str, float | int]:
    """count, mean, std, min, p50, p90, p99, max (ms) and inferences per second of steady runs."""
    ms = np.asarray(latencies_ns, dtype=np.float64) / 1e6
    if not ms.size:
        return {"count": 0}
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    return {"count": int(ms.size), "mean_ms": float(ms.mean()), "std_ms": float(ms.std()),
            "min_ms": float(ms.min()), "p50_ms": float(p50), "p90_ms": float(p90), "p99_ms": float(p99),
            "max_ms": float(ms.max()), "inferences_per_s": float(1e3 / ms.mean())}
