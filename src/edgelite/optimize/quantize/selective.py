"""Selective quantization: `quantize(..., target_sqnr=DB)` keeps the most sensitive layers float
(fallback="float") or int16x8 (fallback="int16", int8 mode) until the outputs reach DB.

Measured as `edgelite compare` measures (its tensor pairing and metrics): the float and the
quantized model run in edgelite on the first SAMPLES calibration samples, which calibration keeps
as it reads them (the data is read once and the ranges observed once: every candidate model is
rebuilt from the same Calibration). A model's SQNR is that of its worst output.

Greedy search on the measured float-fallback gain. Each step tries moving each remaining layer of
the mode's type, one at a time, on top of the layers already moved, and keeps the move whose
model has the best output SQNR; it stops when the target is reached or no layer is left (at most
one step per layer) and returns the best model seen. Measuring the gain, rather than estimating
it from per-layer SQNRs, matters: a layer kept float still has its output re-quantized for a
quantized consumer, and noise from early layers is amplified downstream, so per-layer SQNR drops
rank layers poorly (digits CNN, int8, 38 dB: 7 layers float when ranked by drop, 2 by measured
gain). Drops only choose which TRIALS candidates a step tries on large models: those adding the
most noise, 10^(-SQNR_out/10) - 10^(-SQNR_in/10) (the drop across the layer in linear noise
power, SQNR_in of its worst activation input; an exact input adds 0). Cost: at most TRIALS
rebuilds and comparisons per step, no recalibration.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from edgelite.model.ir import Model
from edgelite.optimize.quantize.modes import Context
from edgelite.optimize.quantize.report import SqnrStep

SAMPLES = 64  # calibration samples the search measures on
TRIALS = 16  # candidate layers tried per step (all of them when no more are left)
FALLBACKS = ("float", "int16")

Build = Callable[[tuple, frozenset], Context]  # (skip, int16 node indices) -> rewritten model


@dataclass
class _Trial:
    ctx: Context
    sqnr: float  # worst output SQNR, dB
    layers: dict[str, float]  # float model's activation name -> SQNR, dB


def search(build: Build, source: Model, samples: list, target: float, fallback: str,
           skip: tuple, label: str) -> tuple[Context, list[SqnrStep], list[str]]:
    """The chosen model's Context, one SqnrStep per step, and notes for the report."""
    from edgelite.tools.compare import compare_models

    def attempt(moved: list[int]) -> _Trial:
        ctx = build((*skip, *moved), frozenset()) if fallback == "float" else build(skip, frozenset(moved))
        result = compare_models(source, ctx.model, data=samples)
        worst = min((out.sqnr_db for out in result.outputs), default=math.inf)
        return _Trial(ctx, worst, {layer.name: layer.sqnr_db for layer in result.layers})

    moved: list[int] = []
    current = best = attempt(moved)
    steps, chosen = [SqnrStep(None, None, None, 1, current.sqnr)], 0
    while current.sqnr < target:
        candidates = _ranked(source, current, label, moved)[:TRIALS]
        if not candidates:
            break
        pick, current = None, None
        for index in candidates:  # one at a time, keeping only the best model in memory
            trial = attempt([*moved, index])
            if current is None or trial.sqnr > current.sqnr:
                pick, current = index, trial
        moved.append(pick)
        op = source.subgraphs[0].operators[pick]
        output = source.subgraphs[0].tensors[op.outputs[0]].name if op.outputs else None
        steps.append(SqnrStep(pick, op.name, output, len(candidates), current.sqnr))
        if current.sqnr > best.sqnr:
            best, chosen = current, len(steps) - 1
    _label_moves(best.ctx, set(moved[:chosen]), fallback)
    return best.ctx, steps, [_note(steps, chosen, target, fallback, len(samples))]


def _noise(sqnr_db: float) -> float:
    """Noise power relative to the signal: 0 for an exact tensor (inf dB)."""
    return 10.0 ** (-max(sqnr_db, -300.0) / 10.0)


def _ranked(source: Model, trial: _Trial, label: str, moved: list[int]) -> list[int]:
    """Measured layers still of the mode's type, the one adding the most noise first."""
    graph, layers = source.subgraphs[0], trial.layers
    added = {}
    for decision in trial.ctx.decisions:
        if decision.subgraph or not decision.quantized or decision.kind != label or decision.index in moved:
            continue
        op = graph.operators[decision.index]
        outputs = [layers[n] for n in (graph.tensors[t].name for t in op.outputs if t >= 0) if n in layers]
        inputs = [layers[n] for n in (graph.tensors[t].name for t in op.inputs if t >= 0) if n in layers]
        if outputs:  # inputs: activations only (constants are not paired)
            added[decision.index] = max(map(_noise, outputs)) - max(map(_noise, inputs), default=0.0)
    return sorted(added, key=lambda index: -added[index])


def _label_moves(ctx: Context, moved: set[int], fallback: str) -> None:
    """Say in the report why the moved layers are float (or int16x8)."""
    for decision in ctx.decisions:
        if decision.subgraph == 0 and decision.index in moved:
            why = f"sensitive layer moved to {fallback} for target_sqnr"
            keep = fallback != "float" and decision.reason  # int16x8's own note, or why it is float
            decision.reason = f"{why}; {decision.reason}" if keep else why


def _note(steps: list[SqnrStep], chosen: int, target: float, fallback: str, samples: int) -> str:
    moved = [f"{s.opcode} #{s.index}" for s in steps[1:chosen + 1]]
    what = f"{len(moved)} layer(s) kept {fallback} ({', '.join(moved)})" if moved else \
        f"no layer kept {fallback}"
    sqnr, first = steps[chosen].sqnr_db, steps[0].sqnr_db
    where = f"measured on {samples} calibration samples"
    if sqnr >= target:
        return f"target_sqnr {target:g} dB reached: output SQNR {sqnr:.2f} dB (fully quantized: " \
               f"{first:.2f} dB) with {what}; {where}"
    return (f"target_sqnr {target:g} dB NOT reached: no layer of the mode's type is left after "
            f"{len(steps) - 1} step(s); returning the best model seen, output SQNR {sqnr:.2f} dB "
            f"(fully quantized: {first:.2f} dB), with {what}; {where}"
            + ("; fallback='float' can go further" if fallback == "int16" else ""))
