"""`edgelite inspect`'s native partition: which nodes of subgraph 0 run on the native engine and
which stay on the reference kernels, and why (as TFLite reports a delegate's partitions)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich import box
from rich.table import Table

from edgelite.model.ir import Model
from edgelite.runtime.executor import Segment, partition_summary


def partition_segments(model: Model) -> list[Segment] | str:
    """The native executor's segments of subgraph 0, or why there are none (planning failed, no engine)."""
    from edgelite.runtime import native
    from edgelite.runtime.plan import build_plan
    from edgelite.tools.inspect import _PLAN_ERRORS

    if not model.subgraphs:
        return "the model has no subgraphs"
    if native._engine is None:
        return "the native engine is not built: every node runs on the reference kernels"
    try:
        return native.NativeExecutor(build_plan(model, 0, {})).partition()
    except _PLAN_ERRORS as error:
        return f"not planned: {type(error).__name__}: {' '.join(str(error).split())}"


def partition_info(model: Model) -> dict[str, Any]:
    """JSON-able: the summary line, the segments, and the reference nodes grouped by (op, reason)."""
    segments = partition_segments(model)
    if isinstance(segments, str):
        return {"summary": segments, "segments": [], "reference_nodes": []}
    left = Counter((n.op, n.reason) for s in segments if not s.native for n in s.nodes)
    return {
        "summary": partition_summary(segments),
        "segments": [{"native": s.native, "first": s.first, "end": s.end} for s in segments],
        "reference_nodes": [{"op": op, "reason": reason, "count": count}
                            for (op, reason), count in sorted(left.items(), key=lambda kv: -kv[1])],
    }


def partition_table(info: dict[str, Any]) -> Table:
    """A row per segment, then one per (op, reason) left on the reference kernels."""
    table = Table(title="Native partition", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("segment")
    table.add_column("nodes", justify="right")
    table.add_column("runs on")
    for s in info["segments"]:
        table.add_row(f"{s['first']}..{s['end'] - 1}", str(s["end"] - s["first"]),
                      "native engine" if s["native"] else "reference kernels")
    for entry in info["reference_nodes"]:
        table.add_row(f"  {entry['op']}", str(entry["count"]), f"reference: {entry['reason']}")
    return table
