"""The pass pipeline run after import: folding, fusion, the layout pass, cleanup."""

from __future__ import annotations

from collections.abc import Callable

from edgelite.frontends.onnx.passes import cleanup, flatten, fold, fuse, layout
from edgelite.model.ir import Model

Pass = Callable[[Model, int], int]


def passes() -> list[tuple[str, Pass]]:
    """(name, pass) in the order they run; each returns how many changes it made."""
    return [
        ("fold_constants", fold.fold_constants),
        ("remove_identities", cleanup.remove_identities),
        ("optimize_layout", layout.optimize_layout),
        ("remove_dead_code", cleanup.remove_dead_code),
        ("matmul_to_fully_connected", fuse.matmul_to_fully_connected),
        ("fold_affine", fuse.fold_affine),
        ("transpose_into_fully_connected", flatten.transpose_into_fully_connected),
        ("fuse_activations", fuse.fuse_activations),
    ]


def run(model: Model, optimize: bool = True, max_rounds: int = 4) -> dict[str, int]:
    """Run the passes until nothing changes (dead-code removal alone when optimize is False)."""
    counts: dict[str, int] = {}
    if not optimize:
        cleanup.remove_dead_code(model, 0)
        return counts
    for _ in range(max_rounds):
        changed = 0
        for name, apply in passes():
            n = apply(model, 0)
            counts[name] = counts.get(name, 0) + n
            changed += n if name != "remove_dead_code" else 0
        if not changed:
            break
    cleanup.remove_dead_code(model, 0)
    return counts
