"""`edgelite.quantize`: post-training quantization of a float .tflite model."""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Iterable
from typing import Any

import numpy as np

from edgelite.errors import EdgeliteError
from edgelite.model.ir import Model
from edgelite.optimize.quantize import selective
from edgelite.optimize.quantize._graph import drop_stale_metadata, prune
from edgelite.optimize.quantize.calibrate import METHODS, calibrate
from edgelite.optimize.quantize.modes import MODES, Context
from edgelite.optimize.quantize.report import QuantizationReport
from edgelite.optimize.quantize.versions import set_versions


class QuantizationError(EdgeliteError, ValueError):
    """The quantization request cannot be honoured (unknown mode, missing data, bad option)."""


def quantize(model: Model | str | os.PathLike | bytes, mode: str = "int8", calibration_data: Any = None,
             per_channel: bool = True, calibration: str = "minmax", input_type: Any = None,
             output_type: Any = None, skip: Iterable[str | int] = (), progress: bool = True,
             return_report: bool = False, target_sqnr: float | None = None,
             fallback: str = "float") -> Model | tuple[Model, QuantizationReport]:
    """Quantize a float model; the input model is not modified.

    mode: "int8" (full integer), "int16x8" (int16 activations, int8 weights), "dynamic" (int8
      weights, float activations) or "float16" (float16 weights).
    calibration_data: a representative dataset (see `calibrate.py`), required by int8 and int16x8.
    calibration: how activation ranges are chosen: "minmax", "moving_average", "percentile", "mse".
    input_type / output_type: model I/O dtype for the integer modes (float32 by default; int8 or
      uint8 for int8, int16 for int16x8).
    skip: ops kept float, by op name ("SOFTMAX"), output tensor name, or node index in subgraph 0.
    target_sqnr: int8 and int16x8: an output SQNR in dB against the float model (measured on the
      calibration data) to reach by keeping the most sensitive layers at `fallback`, one per step:
      "float", or "int16" (int8 mode: those layers run int16x8). See `selective.py`.
    return_report: also return a QuantizationReport (what was quantized, what stayed float and why,
      sizes) as `(model, report)`; otherwise only the quantized Model.
    """
    chosen = MODES.get(mode)
    if chosen is None:
        raise QuantizationError(f"unknown quantization mode {mode!r}; choose one of {', '.join(MODES)}")
    if calibration not in METHODS:
        raise QuantizationError(f"unknown calibration method {calibration!r}; choose one of "
                                f"{', '.join(METHODS)}")
    source = model if isinstance(model, Model) else _load(model)
    if not source.subgraphs:
        raise QuantizationError("the model has no subgraphs")
    skip = _check_skip(source, skip)
    io = [_io_type(value, chosen, which) for value, which in ((input_type, "input_type"),
                                                               (output_type, "output_type"))]
    if target_sqnr is not None:
        _check_target(target_sqnr, fallback, mode, chosen.needs_calibration, io[1])
    samples, observed = 0, None
    if chosen.needs_calibration:
        if calibration_data is None:
            raise QuantizationError(
                f"mode {mode!r} needs calibration_data: a representative dataset of real inputs "
                "(an iterable of input lists or name->array dicts, or an .npz file via the CLI's "
                "--calibration); or choose mode='dynamic' or 'float16', which need no data")
        keep = selective.SAMPLES if target_sqnr is not None else 0
        observed = calibrate(source, calibration_data, calibration, progress, keep)
        samples = observed.samples

    def build(skip: tuple, int16: frozenset) -> Context:
        ctx = Context(copy.deepcopy(source), per_channel, observed, skip, *io, int16=int16)
        chosen.run(ctx)
        set_versions(ctx.model)
        prune(ctx.model)
        drop_stale_metadata(ctx.model)
        return ctx

    steps: list = []
    if target_sqnr is None:
        ctx = build(skip, frozenset())
    else:
        ctx, steps, notes = selective.search(build, source, observed.kept, float(target_sqnr), fallback,
                                             skip, mode)
        ctx.notes.extend(notes)
    if not return_report:
        return ctx.model
    report = QuantizationReport(mode, per_channel, calibration if chosen.needs_calibration else None,
                                samples, len(source.to_bytes()), len(ctx.model.to_bytes()),
                                ctx.decisions, dict(ctx.inserted), ctx.notes, target_sqnr,
                                fallback if target_sqnr is not None else None, steps)
    if calibration_data is not None and not chosen.needs_calibration:
        report.notes.append(f"mode {mode!r} does not use calibration data; it was ignored")
    return ctx.model, report


def _load(model: str | os.PathLike | bytes) -> Model:
    from edgelite.model.reader import load

    return load(model)


def _io_type(value: Any, mode: Any, which: str) -> np.dtype | None:
    if value is None:
        return None
    try:
        dtype = np.dtype(value)
    except TypeError as error:
        raise QuantizationError(f"{which}={value!r} is not a dtype") from error
    allowed = [np.dtype(t) for t in mode.io_types]
    if dtype not in allowed:
        raise QuantizationError(f"{which}={dtype.name} is not available in mode {mode.name!r}; "
                                f"choose one of {', '.join(t.name for t in allowed)}")
    return None if dtype == np.float32 else dtype


def _check_target(target: Any, fallback: str, mode: str, calibrated: bool, output_type: Any) -> None:
    if not calibrated:
        raise QuantizationError(f"target_sqnr needs mode 'int8' or 'int16x8' (with calibration data); "
                                f"mode {mode!r} has no activation quantization to undo")
    if isinstance(target, bool) or not isinstance(target, (int, float)) or math.isnan(target):
        raise QuantizationError(f"target_sqnr={target!r} is not a number of dB")
    if fallback not in selective.FALLBACKS:
        raise QuantizationError(f"unknown fallback {fallback!r}; choose one of "
                                f"{', '.join(selective.FALLBACKS)}")
    if fallback == "int16" and mode != "int8":
        raise QuantizationError(f"fallback='int16' needs mode 'int8' (mode {mode!r} has no narrower "
                                "layers to widen); use fallback='float'")
    if fallback == "int16" and output_type == np.uint8:
        raise QuantizationError("fallback='int16' cannot be combined with output_type=uint8: LiteRT's "
                                "QUANTIZE has no int16 -> uint8 conversion; use int8 or float32 outputs")


def _check_skip(model: Model, skip: Iterable[str | int]) -> tuple[str | int, ...]:
    """skip= entries, each of which must name an op, an output tensor or a node index."""
    if isinstance(skip, (str, int)):
        skip = (skip,)
    entries = tuple(skip)
    known: set[str | int] = set()
    for position, graph in enumerate(model.subgraphs):
        for index, op in enumerate(graph.operators):
            known.add(op.name)
            known.update(graph.tensors[i].name for i in op.outputs if i >= 0)
            if position == 0:
                known.add(index)
    unknown = [e for e in entries if e not in known]
    if unknown:
        raise QuantizationError(f"skip entries {unknown} match no op: give an op name (e.g. "
                                "'SOFTMAX'), an op's output tensor name, or a node index of subgraph 0")
    return entries
