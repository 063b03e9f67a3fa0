"""`BenchmarkResult` and the pieces it is built from (figures, per-op profile, output agreement)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from edgelite.tools._bench_session import RawRun, latency_stats

SCHEMA = "edgelite.benchmark/1"
FLOAT_RTOL, FLOAT_ATOL, INT_ATOL = 1e-3, 1e-4, 1
TOLERANCE = (f"float outputs: |a - b| <= {FLOAT_ATOL:g} + {FLOAT_RTOL:g}*|b|; "
             f"integer outputs: |a - b| <= {INT_ATOL}; a float output dequantized from integers may also "
             f"differ by {INT_ATOL} step of its scale")
ENERGY_SCOPE = "RAPL package counters: the whole CPU package while this runtime ran, not this process alone"


@dataclass
class OpTime:
    """One node of the per-op profile (run order); percent of the summed op times."""

    index: int
    op: str
    output_shape: list[int] | None
    mean_ms: float
    percent: float
    cumulative_percent: float


@dataclass
class OpTypeTime:
    """All nodes of one op type: count, summed mean time per inference, percent."""

    op: str
    count: int
    mean_ms: float
    percent: float


@dataclass
class Profile:
    """Per-node wall times over the steady-state runs (the same runs as the latency figures)."""

    runs: int
    ops_total_ms: float  # sum of the nodes' mean times
    latency_mean_ms: float  # mean invoke time over the same runs; the rest is the executor's own
    ops: list[OpTime]
    by_type: list[OpTypeTime]


@dataclass
class Energy:
    """Joules per inference from a real counter, or why there is none."""

    available: bool
    joules_per_inference: float | None = None
    reason: str | None = None
    scope: str | None = None


@dataclass
class Agreement:
    """Whether a runtime's outputs match edgelite's on the same inputs."""

    agree: bool
    max_abs_error: list[float | None]
    detail: str
    tolerance: str = TOLERANCE


@dataclass
class RuntimeResult:
    """Every figure of one runtime; `error` says why it could not run (the figures are then None)."""

    name: str
    version: str | None = None
    error: str | None = None
    init_ms: float | None = None
    first_ms: float | None = None
    warmup_mean_ms: float | None = None
    latency: dict[str, float | int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    peak_rss_bytes: int | None = None
    rss_before_load_bytes: int | None = None
    arena_bytes: int | None = None
    energy: Energy | None = None
    profile: Profile | None = None
    agreement: Agreement | None = None  # against edgelite; None for edgelite itself


@dataclass
class BenchmarkResult:
    """What `edgelite.benchmark` measured: settings, machine, and one RuntimeResult per runtime."""

    model: str
    model_size_bytes: int
    threads: int
    runs: int | None
    duration_s: float | None
    warmup: int
    delegate: str
    inputs: list[dict[str, Any]]
    machine: dict[str, Any]
    runtimes: list[RuntimeResult]
    schema: str = SCHEMA

    def runtime(self, name: str) -> RuntimeResult:
        """The result of one runtime ('edgelite', 'litert', 'onnxruntime')."""
        for result in self.runtimes:
            if result.name == name:
                return result
        raise KeyError(f"no runtime {name!r} in this result; it has {[r.name for r in self.runtimes]}")

    def ratio(self, figure: str, other: str = "litert") -> float | None:
        """edgelite / other for a latency figure ('p50_ms', 'mean_ms', ...) or an attribute name."""
        values = []
        for result in (self.runtime("edgelite"), self.runtime(other)):
            value = result.latency.get(figure) if figure in result.latency else getattr(result, figure, None)
            values.append(value)
        return values[0] / values[1] if None not in values and values[1] else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        """The whole result as JSON (infinite or missing values as null)."""
        return json.dumps(_finite(self.to_dict()), indent=indent)

    def plot(self, path: str) -> None:
        """Write a PNG: latency histograms of every runtime and edgelite's per-op times."""
        from edgelite.tools._bench_plot import write_plot

        write_plot(self, path)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def runtime_result(raw: RawRun, energy_reason: str | None) -> RuntimeResult:
    """Figures of one runtime from what its worker reported."""
    if raw.error is not None:
        return RuntimeResult(raw.runtime, raw.start.get("version"), raw.error)
    start, finish, stats = raw.start, raw.finish, latency_stats(raw.latencies_ns)
    warmup = start["warmup_ns"]
    if raw.joules is not None and raw.latencies_ns:
        energy = Energy(True, raw.joules / len(raw.latencies_ns), scope=ENERGY_SCOPE)
    else:
        energy = Energy(False, reason=start.get("energy_reason") or energy_reason)
    profile = None
    if start.get("nodes") is not None and finish.get("profile_runs"):
        profile = build_profile(start["nodes"], finish["profile_ns"], finish["profile_runs"], stats)
    return RuntimeResult(raw.runtime, start["version"], None, start["init_ns"] / 1e6, start["first_ns"] / 1e6,
                         float(np.mean(warmup)) / 1e6 if warmup else None, stats,
                         [t / 1e6 for t in raw.latencies_ns], finish["peak_rss"], start["rss_before_load"],
                         start["arena_bytes"], energy, profile)


def build_profile(nodes: list, totals_ns: list[int], runs: int, stats: dict) -> Profile:
    """Mean time per node, percent and cumulative percent (run order), and the per-op-type summary."""
    means = [t / runs / 1e6 for t in totals_ns]
    total = sum(means)
    ops, cumulative, by_type = [], 0.0, {}
    for (index, op, shape), mean in zip(nodes, means, strict=True):
        percent = 100 * mean / total if total else 0.0
        cumulative += percent
        ops.append(OpTime(index, op, shape, mean, percent, cumulative))
        count, summed = by_type.get(op, (0, 0.0))
        by_type[op] = (count + 1, summed + mean)
    types = [OpTypeTime(op, count, summed, 100 * summed / total if total else 0.0)
             for op, (count, summed) in sorted(by_type.items(), key=lambda item: -item[1][1])]
    return Profile(runs, total, stats.get("mean_ms", 0.0), ops, types)


def agreement(reference: list[np.ndarray], outputs: list[np.ndarray],
              quanta: list[float] | None = None) -> Agreement:
    """Compare outputs position by position (an NCHW output is matched to an NHWC reference).

    quanta: per output, the scale of the integer tensor it was dequantized from (0 if none): integer
    kernels may round one step apart (as XNNPACK's and LiteRT's builtin ones do), so that much is allowed.
    """
    if len(reference) != len(outputs):
        return Agreement(False, [], f"{len(outputs)} outputs, edgelite has {len(reference)}")
    errors, problems = [], []
    for k, (want, got) in enumerate(zip(reference, outputs, strict=True)):
        want, got = np.asarray(want), np.asarray(got)
        if got.shape != want.shape and got.ndim == 4 and np.transpose(got, (0, 2, 3, 1)).shape == want.shape:
            got = np.transpose(got, (0, 2, 3, 1))
        if got.shape != want.shape:
            errors.append(None)
            problems.append(f"output {k}: shape {got.shape}, edgelite {want.shape}")
            continue
        a, b = got.astype(np.float64), want.astype(np.float64)
        error = float(np.max(np.abs(a - b), initial=0.0))
        errors.append(error)
        if want.dtype.kind == "f" or got.dtype.kind == "f":
            atol = FLOAT_ATOL + INT_ATOL * (quanta[k] if quanta else 0.0) * 1.001
            close = np.allclose(a, b, rtol=FLOAT_RTOL, atol=atol, equal_nan=True)
        else:
            close = error <= INT_ATOL
        if not close:
            problems.append(f"output {k}: max abs error {error:.3g}")
    worst = max((e for e in errors if e is not None), default=0.0)
    detail = "; ".join(problems) or f"all {len(errors)} outputs agree (max abs error {worst:.3g})"
    return Agreement(not problems, errors, detail)
