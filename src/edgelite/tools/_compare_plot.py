"""`edgelite compare --plot`: per-layer SQNR as a bar chart (matplotlib is an optional extra)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

from edgelite.tools._common import CliError, describe_error

if TYPE_CHECKING:
    from edgelite.tools.compare import ComparisonResult


def require_matplotlib() -> None:
    """A one-line CliError naming the extra to install when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as error:
        raise CliError("--plot needs matplotlib, which is not installed: pip install 'edgelite[plot]'") \
            from error


def plot_sqnr(result: ComparisonResult, path: str | os.PathLike) -> None:
    """Per-layer SQNR as bars in A's execution order; the worst red, exact ones hatched at the top."""
    require_matplotlib()
    from matplotlib.figure import Figure

    values = [layer.sqnr_db for layer in result.layers]
    finite = [v for v in values if math.isfinite(v)]
    top = (max(finite) if finite else 0.0) + 10.0
    heights = [top if v == math.inf else max(v, 0.0) if math.isfinite(v) else 0.0 for v in values]
    labels = [f"{k}: {layer.op or '-'}" for k, layer in enumerate(result.layers)]
    figure = Figure(figsize=(max(6.0, 0.45 * len(values) + 2), 4.5), layout="constrained")
    axes = figure.add_subplot()
    bars = axes.bar(range(len(values)), heights, color="tab:blue")
    worst = {id(layer) for layer in result.worst_layers()}
    for bar, value, layer in zip(bars, values, result.layers, strict=True):
        if id(layer) in worst:
            bar.set_facecolor("tab:red")
        if value == math.inf:
            bar.set_hatch("//")
            bar.set_facecolor("tab:green")
    axes.plot(range(len(values)), heights, color="tab:orange", marker="o", linewidth=1)
    axes.set_xticks(range(len(values)), labels, rotation=60, ha="right", fontsize=8)
    axes.set_ylabel("SQNR (dB)")
    axes.set_title(f"Per-layer SQNR of {Path(result.model_b).name} vs {Path(result.model_a).name} "
                   f"({result.samples} samples; red = 3 worst, hatched = exact)", fontsize=9)
    axes.grid(axis="y", alpha=0.3)
    try:
        figure.savefig(path, dpi=120)
    except (OSError, ValueError) as error:
        raise CliError(f"cannot write plot '{os.fspath(path)}': {describe_error(error)}") from error
