"""`edgelite.optimize`: prune -> cluster -> quantize as one call, each step keeping what the
earlier ones gave (clustering skips zeros, so sparsity stays; symmetric int8 weight quantization
maps each centroid to one integer, so a tensor / channel keeps at most `clusters` distinct
non-zero values and zeros stay zero), with a report measuring every step."""

from __future__ import annotations

import copy
import math
import os
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from edgelite.model.ir import Model
from edgelite.optimize import _layers
from edgelite.optimize._layers import OptimizationError
from edgelite.optimize.cluster import cluster as cluster_model
from edgelite.optimize.cluster import gzip_size, unique_values
from edgelite.optimize.lut import compress_lut
from edgelite.optimize.prune import prune as prune_model
from edgelite.optimize.prune import sparsity_of
from edgelite.optimize.sparse_storage import store_sparse
from edgelite.tools._metrics import sqnr_db

STORAGES = ("sparse", "dense", "lut")
EVAL_LIMIT = 1024  # samples the report evaluates every step on
QUANTIZE_LIMIT = 512  # calibration samples given to the quantizer (activation ranges settle early)


@dataclass
class StepReport:
    step: str
    size: int  # bytes of the .tflite file this step would write
    gzip_size: int
    lut_size: int  # bytes with weights in TFLM's LUT compression where they fit (<= 128 values)
    sparsity: float  # zeros over the FULLY_CONNECTED / CONV weights
    unique_per_tensor: int  # most distinct non-zero weight values in one tensor
    unique_per_channel: int  # ... in one output channel
    sqnr_db: float  # outputs against the float model's, on the evaluation data
    accuracy: float | None = None  # top-1 in percent, when labels are given
    storage: dict[str, str] = field(default_factory=dict)  # weight name -> layout


@dataclass
class OptimizationReport:
    steps: list[StepReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"steps": [asdict(step) for step in self.steps], "notes": list(self.notes)}

    def table(self) -> str:
        """Plain-text table, one row per step."""
        head = f"{'step':<10}{'size B':>11}{'gzip B':>11}{'LUT B':>11}{'sparsity':>9}{'uniq/t':>9}" \
               f"{'uniq/ch':>8}{'SQNR dB':>9}{'acc %':>8}"
        lines = [head]
        for s in self.steps:
            accuracy = "-" if s.accuracy is None else f"{s.accuracy:.2f}"
            lines.append(f"{s.step:<10}{s.size:>11,}{s.gzip_size:>11,}{s.lut_size:>11,}{s.sparsity:>9.3f}"
                         f"{s.unique_per_tensor:>9}{s.unique_per_channel:>8}{s.sqnr_db:>9.1f}{accuracy:>8}")
        if self.steps:
            base = self.steps[0]
            last = self.steps[-1]
            lines.append(f"{'vs float':<10}{last.size / base.size:>11.1%}{last.gzip_size / base.size:>11.1%}"
                         f"{last.lut_size / base.size:>11.1%}")
        return "\n".join(lines)


def optimize(model: Model | str | os.PathLike | bytes, prune: Any = None, cluster: Any = None,
             quantize: Any = None, calibration_data: Any = None, eval_data: Any = None,
             labels: Any = None, storage: str = "sparse") -> tuple[Model, OptimizationReport]:
    """Prune, then cluster, then quantize a float model; returns (model, report).

    prune: a sparsity (0.5) or keyword arguments of `edgelite.prune` ({"sparsity": 0.5,
      "pattern": "2:4", "method": "reconstruct"}); cluster: a count (16) or keyword arguments of
      `edgelite.cluster`; quantize: a mode ("int8") or keyword arguments of `edgelite.quantize`.
    calibration_data: representative inputs (needed by method="reconstruct" and int8 / int16x8;
      clustering uses them for bias correction).
    eval_data / labels: inputs the report measures each step on (default: calibration_data) and
      their class labels (for top-1 accuracy).
    storage: how the result stores its weights: "sparse" (pruned weights in TFLite's sparse
      format behind DENSIFY wherever that is smaller; runs everywhere), "dense", or "lut"
      (TensorFlow Lite Micro's LUT compression of clustered weights; TFLM only, LiteRT refuses it).
    The report gives every step's size as written (sparse where smaller), gzip-compressed and LUT.
    """
    from edgelite.optimize.quantize.api import quantize as quantize_model

    if storage not in STORAGES:
        raise OptimizationError(f"unknown storage={storage!r}; choose one of {', '.join(STORAGES)}")
    source = _layers.load(model)
    evaluation = eval_data if eval_data is not None else calibration_data
    batches = None if evaluation is None else _layers.batches(source, evaluation, EVAL_LIMIT)
    labels = None if labels is None else np.asarray(labels).reshape(-1)[:EVAL_LIMIT]
    reference = None if batches is None else _outputs(source, batches)
    report = OptimizationReport()
    if batches is None:
        report.notes.append("no calibration or evaluation data: SQNR and accuracy not measured")
    work = source

    def record(step: str, current: Model, sparse: bool) -> None:
        written, storage = _written(current, sparse)
        sqnr, accuracy = math.nan, None
        if batches is not None:
            outputs = _outputs(written, batches)
            sqnr = sqnr_db(reference, outputs)
            if labels is not None:
                accuracy = float(np.mean(outputs.reshape(len(outputs), -1).argmax(1) == labels) * 100)
        content = written.to_bytes()
        counts = unique_values(current, nonzero=True)
        channel = unique_values(current, nonzero=True, per_channel=True)
        lut_content = compress_lut(current).to_bytes()
        report.steps.append(StepReport(step, len(content), gzip_size(content), len(lut_content),
                                       sparsity_of(current), max(counts.values(), default=0),
                                       max(channel.values(), default=0), sqnr, accuracy, storage))

    record("float", source, False)
    if prune is not None:
        options = _options(prune, "sparsity")
        work = prune_model(work, calibration_data=calibration_data, sparse_storage=False, **options)
        record("prune", work, True)
    if cluster is not None:
        work = cluster_model(work, **{"calibration_data": calibration_data, **_options(cluster, "clusters")})
        record("cluster", work, prune is not None)
    if quantize is not None:
        options = {"progress": False, **_options(quantize, "mode")}
        samples = None if calibration_data is None else _samples(work, calibration_data, QUANTIZE_LIMIT)
        work = quantize_model(work, calibration_data=samples, **options)
        record("quantize", work, prune is not None)
    if storage == "lut":
        final, tensors = compress_lut(work, return_report=True)
        report.notes.append(f"{len(tensors)} weight tensors LUT-compressed (TFLM's COMPRESSION_METADATA, "
                            f"{'/'.join(sorted({str(t.index_bits) for t in tensors})) or '-'}-bit indices)")
        weights = {final.subgraphs[0].tensors[layer.weight].name
                   for layer in _layers.layers(final, _layers.WEIGHT_OPS, types=_layers.ALL_TYPES)}
        dense = len(weights - {t.name for t in tensors})
        if dense:
            report.notes.append(f"{dense} weight tensors stay dense: a LUT would not be smaller, or one "
                                "table would need more than 128 values (float weights clustered per channel "
                                "share one table: quantize them per channel or cluster per tensor)")
    else:
        final, _ = _written(work, prune is not None and storage == "sparse")
    return final, report


def _samples(model: Model, data: Any, limit: int) -> list[list[np.ndarray]]:
    """The first `limit` samples of any accepted dataset form, one [input arrays] list each."""
    batches = _layers.batches(model, data, limit)
    return [[column[k:k + 1] for column in batch] for batch in batches for k in range(len(batch[0]))]


def _options(value: Any, key: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, (str, int, float)):
        return {key: value}
    raise OptimizationError(f"expected a {key} or a dict of keyword arguments, got {value!r}")


def _written(model: Model, sparse: bool) -> tuple[Model, dict[str, str]]:
    """The model as it is written: pruned weights stored sparse where that is smaller."""
    if not sparse:
        return model, {}
    written = copy.deepcopy(model)
    graph = written.subgraphs[0]
    weights = [layer.weight for layer in _layers.layers(written, _layers.WEIGHT_OPS, types=_layers.ALL_TYPES)]
    names = {i: graph.tensors[i].name for i in weights}
    layouts = store_sparse(written, weights)
    return written, {names[i]: layout for i, layout in layouts.items()}


def _outputs(model: Model, batches: list[list[np.ndarray]]) -> np.ndarray:
    """The first graph output over all evaluation samples, as float64 (dequantized if integer)."""
    graph = model.subgraphs[0]
    index = graph.outputs[0]
    values = _layers.run(model, batches)[index].astype(np.float64)
    quant = graph.tensors[index].quantization
    if graph.tensors[index].type.numpy.kind in "iu" and quant is not None and quant.scale.size:
        values = (values - float(quant.zero_point[0])) * float(quant.scale[0])
    return values
