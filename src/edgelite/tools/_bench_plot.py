"""`edgelite benchmark --plot`: latency histograms and per-op times in one PNG (matplotlib extra)."""

from __future__ import annotations

import os
from typing import Any

from edgelite.tools._common import CliError

PLOT_OPS = 25
LABELS = {"edgelite": "edgelite", "litert": "LiteRT", "onnxruntime": "onnxruntime"}


def require_matplotlib() -> Any:
    """matplotlib.pyplot on the non-interactive Agg backend, or a CliError saying how to get it."""
    try:
        import matplotlib
    except ImportError as error:
        raise CliError("--plot needs matplotlib, which is not installed: pip install 'edgelite[plot]'") \
            from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_plot(result: Any, path: str | os.PathLike) -> None:
    """Left: a latency histogram per runtime (log x when they differ a lot). Right: slowest ops."""
    plt = require_matplotlib()
    figure, (latency_axis, ops_axis) = plt.subplots(1, 2, figsize=(14, 6))
    runs = [r for r in result.runtimes if r.latencies_ms]
    low = min(min(r.latencies_ms) for r in runs) if runs else 0
    high = max(max(r.latencies_ms) for r in runs) if runs else 0
    log = low > 0 and high / low > 20
    if log:
        import numpy as np

        bins = np.geomspace(low, high, 60)
        latency_axis.set_xscale("log")
    else:
        bins = 40
    for r in runs:
        latency_axis.hist(r.latencies_ms, bins=bins, alpha=0.6,
                          label=f"{LABELS.get(r.name, r.name)} (p50 {r.latency['p50_ms']:.3g} ms)")
    latency_axis.set_xlabel("steady-state latency (ms)")
    latency_axis.set_ylabel("runs")
    latency_axis.set_title(f"{os.path.basename(result.model)}, threads={result.threads}")
    if runs:
        latency_axis.legend()
    profile = result.runtimes[0].profile
    if profile is None:
        ops_axis.text(0.5, 0.5, "no per-op profile (run with --profile)", ha="center", va="center")
        ops_axis.set_axis_off()
    else:
        ops = sorted(profile.ops, key=lambda op: -op.mean_ms)[:PLOT_OPS][::-1]
        ops_axis.barh([f"#{op.index} {op.op}" for op in ops], [op.mean_ms for op in ops])
        ops_axis.set_xlabel("mean time per inference (ms)")
        ops_axis.set_title(f"edgelite per-op time: {len(ops)} slowest of {len(profile.ops)} nodes")
        ops_axis.tick_params(axis="y", labelsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
