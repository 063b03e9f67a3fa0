"""Rich tables of `edgelite benchmark`: figures side by side with ratios, agreement, energy, profile."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from rich import box
from rich.table import Table

from edgelite.tools._bench_result import BenchmarkResult, Profile, RuntimeResult
from edgelite.tools._common import console
from edgelite.tools._tables import human_bytes

LABELS = {"edgelite": "edgelite", "litert": "LiteRT", "onnxruntime": "onnxruntime"}
PROFILE_ROWS = 30


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _latency(key: str) -> Callable[[RuntimeResult], float | None]:
    return lambda r: r.latency.get(key)


def _energy(r: RuntimeResult) -> float | None:
    return r.energy.joules_per_inference if r.energy is not None else None


# (label, value of a runtime, text of a value)
FIGURES: list[tuple[str, Callable[[RuntimeResult], Any], Callable[[Any], str]]] = [
    ("init: load + allocate (ms)", lambda r: r.init_ms, _ms),
    ("first inference (ms)", lambda r: r.first_ms, _ms),
    ("warm-up mean (ms)", lambda r: r.warmup_mean_ms, _ms),
    *[(f"{name} (ms)", _latency(f"{name}_ms"), _ms) for name in ("mean", "std", "min", "p50", "p90",
                                                               "p99", "max")],
    ("inferences / s", _latency("inferences_per_s"), lambda v: "-" if v is None else f"{v:,.1f}"),
    ("peak RSS (process)", lambda r: r.peak_rss_bytes, human_bytes),
    ("RSS before load", lambda r: r.rss_before_load_bytes, human_bytes),
    ("arena", lambda r: r.arena_bytes, human_bytes),
    ("energy / inference (J)", _energy, lambda v: "-" if v is None else f"{v:.4g}"),
]


def figures_table(result: BenchmarkResult) -> Table:
    """One row per figure, one column per runtime, then edgelite / other for each other runtime."""
    runtimes = [r for r in result.runtimes if r.error is None]
    others = runtimes[1:]
    runs = runtimes[0].latency.get("count", 0) if runtimes else 0
    table = Table(title=f"Benchmark ({runs} steady-state runs of edgelite, threads={result.threads})",
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("figure")
    for r in runtimes:
        table.add_column(LABELS.get(r.name, r.name), justify="right")
    for other in others:
        table.add_column(f"edgelite / {LABELS.get(other.name, other.name)}", justify="right")
    for label, value, text in FIGURES:
        values = [value(r) for r in runtimes]
        if all(v is None for v in values):
            continue
        ratios = [f"{values[0] / v:.2f}x" if values[0] is not None and v else "-" for v in values[1:]]
        table.add_row(label, *(text(v) for v in values), *ratios)
    return table


def profile_tables(profile: Profile, rows: int = PROFILE_ROWS) -> list[Table]:
    """The slowest nodes (cumulative % in that order) and the per-op-type summary."""
    ops = sorted(profile.ops, key=lambda op: -op.mean_ms)[:rows]
    shown = f"the {len(ops)} slowest of {len(profile.ops)}" if len(ops) < len(profile.ops) \
        else f"all {len(ops)}"
    by_node = Table(title=f"Per-op profile of edgelite: {shown} nodes, by time ({profile.runs} runs)",
                    title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column, justify in (("#", "right"), ("op", "left"), ("output shape", "left"), ("mean ms", "right"),
                            ("% of total", "right"), ("cumulative %", "right")):
        by_node.add_column(column, justify=justify)
    cumulative = 0.0
    for op in ops:
        cumulative += op.percent
        shape = "?" if op.output_shape is None else "[" + ",".join(map(str, op.output_shape)) + "]"
        by_node.add_row(str(op.index), op.op, shape, f"{op.mean_ms:.4f}", f"{op.percent:.1f}",
                        f"{cumulative:.1f}")
    by_type = Table(title="Per op type", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column, justify in (("op", "left"), ("nodes", "right"), ("ms / inference", "right"),
                            ("% of total", "right")):
        by_type.add_column(column, justify=justify)
    for entry in profile.by_type:
        by_type.add_row(entry.op, str(entry.count), f"{entry.mean_ms:.4f}", f"{entry.percent:.1f}")
    return [by_node, by_type]


def notes(result: BenchmarkResult) -> list[str]:
    """Output agreement, energy, failures and the profile's coverage, one line each."""
    lines = []
    for r in result.runtimes:
        label = LABELS.get(r.name, r.name)
        if r.error is not None:
            lines.append(f"{label}: could not run: {r.error}")
        elif r.agreement is not None:
            verdict = "agree" if r.agreement.agree else "DISAGREE"
            lines.append(f"outputs {label} vs edgelite: {verdict}: {r.agreement.detail}")
    energies = {LABELS.get(r.name, r.name): r.energy for r in result.runtimes if r.energy is not None}
    if energies and not any(e.available for e in energies.values()):
        lines.append(next(iter(energies.values())).reason or "energy cannot be measured on this machine")
    elif energies:
        scope = next(e.scope for e in energies.values() if e.available)
        lines.append(f"energy: {scope}")
    ours = result.runtimes[0]
    if ours.profile is not None and ours.profile.latency_mean_ms:
        p = ours.profile
        lines.append(f"profile: the ops take {p.ops_total_ms:.3f} ms of the {p.latency_mean_ms:.3f} ms "
                     f"mean invoke ({100 * p.ops_total_ms / p.latency_mean_ms:.1f}%); the rest is "
                     f"the executor's own loop")
    return lines


def print_report(result: BenchmarkResult, show_profile: bool = True) -> None:
    out = console()
    inputs = ", ".join(f"{i['name']} {i['dtype']}{i['shape']} {i['source']}" for i in result.inputs)
    budget = f"{result.runs} runs" if result.runs is not None else f"{result.duration_s:g} s"
    out.print(f"{os.path.basename(result.model)}: {human_bytes(result.model_size_bytes)} · threads "
              f"{result.threads} · {budget} per runtime after 1 first + {result.warmup} warm-up · "
              f"delegate {result.delegate}")
    out.print(f"inputs: {inputs}")
    out.print(f"machine: {result.machine['cpu']}, {result.machine['usable_cores']} usable cores, "
              f"{result.machine['os']}")
    out.print(figures_table(result))
    for line in notes(result):
        out.print(line)
    if show_profile and result.runtimes[0].profile is not None:
        for table in profile_tables(result.runtimes[0].profile):
            out.print(table)
