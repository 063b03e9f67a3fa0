"""`edgelite.cluster`: post-training weight clustering (weight sharing), as TFMOT's clustering
API does at training time: k-means over each weight tensor (or each output channel), every weight
replaced by its centroid. Zeros are kept out of the clustering, so a pruned model stays exactly as
sparse: zero is then one of the `clusters` values (as in TFMOT's sparsity-preserving clustering),
so that k clusters fit log2(k)-bit indices. Storage stays dense: the gain shows after standard
compression (gzip), as TFMOT reports it, or with TFLM's LUT compression (optimize/lut.py)."""

from __future__ import annotations

import copy
import gzip
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgelite.model.ir import Model
from edgelite.optimize import _layers
from edgelite.optimize._layers import OptimizationError
from edgelite.optimize.quantize._graph import prune as drop_unused
from edgelite.optimize.sparse_storage import densify_constants

INITS = ("kmeans++", "linear")
PER = ("tensor", "channel")
ITERATIONS = 50
INIT_SAMPLE = 4096  # values k-means++ seeds from (deterministically chosen)
FIT_SAMPLE = 65536  # values the centroids are fitted on (all values are then assigned)
CALIBRATION_SAMPLES = 256  # calibration samples the mean inputs (bias correction) are measured on


@dataclass
class ClusteredTensor:
    op_index: int
    weight: str
    shape: tuple[int, ...]
    unique_before: int
    unique_after: int


@dataclass
class ClusterReport:
    clusters: int
    per: str
    tensors: list[ClusteredTensor] = field(default_factory=list)


def cluster(model: Model | str | os.PathLike | bytes, clusters: int = 16, per: str = "tensor",
            init: str = "kmeans++", skip: Iterable[str | int] = (), ops: Iterable[str] = _layers.WEIGHT_OPS,
            seed: int = 0, calibration_data: Any = None,
            return_report: bool = False) -> Model | tuple[Model, ClusterReport]:
    """Cluster the float weights of FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D ops; the input
    model is not modified. Sparse-stored weights come back dense (their zeros stay zeros).

    clusters: distinct values per tensor (per="tensor") or per output channel (per="channel"),
      zero included where the weights hold zeros (pruned weights stay zero).
    init: "kmeans++" (seeded with `seed`, deterministic) or "linear" (evenly over [min, max]).
    skip: op names, tensor names or op indices left as they are.
    calibration_data: representative inputs (any form `edgelite.quantize` accepts); when given,
      layer after layer, each bias takes back what clustering (of this layer and the ones before)
      moved its outputs by on average: W E[x] - W' E[x'], x the input in the given model, x' with
      the earlier layers clustered (bias correction; one model run per layer).
    """
    if int(clusters) < 1:
        raise OptimizationError(f"clusters must be at least 1, got {clusters}")
    if per not in PER:
        raise OptimizationError(f"unknown per={per!r}; choose one of {', '.join(PER)}")
    if init not in INITS:
        raise OptimizationError(f"unknown init={init!r}; choose one of {', '.join(INITS)}")
    result = copy.deepcopy(_layers.load(model))
    densify_constants(result)
    report = ClusterReport(int(clusters), per)
    chosen = _layers.layers(result, ops, skip)
    batches = None if calibration_data is None else _layers.batches(result, calibration_data,
                                                                     CALIBRATION_SAMPLES)
    reference = _input_means(result, chosen, batches)
    for position, layer in enumerate(chosen):
        weights = _layers.weights_of(result, layer)
        axis = _layers.rows_axis(layer.opcode)
        rng = np.random.default_rng(seed)
        if per == "tensor":
            clustered = cluster_values(weights, int(clusters), init, rng)
        else:
            moved = np.moveaxis(weights, axis, 0)
            clustered = np.moveaxis(np.stack([cluster_values(c, int(clusters), init, rng) for c in moved]),
                                    0, axis)
        if batches is not None:
            current = reference if position == 0 else _input_means(result, [layer], batches)
            _correct_bias(result, layer, weights, clustered, reference[layer.op_index],
                          current[layer.op_index])
        _layers.set_weights(result, layer, clustered)
        tensor = result.subgraphs[0].tensors[layer.weight]
        report.tensors.append(ClusteredTensor(layer.op_index, tensor.name, tuple(tensor.shape),
                                              int(np.unique(weights).size), int(np.unique(clustered).size)))
    drop_unused(result)
    return (result, report) if return_report else result


def _correct_bias(model: Model, layer: _layers.Layer, weights: np.ndarray, clustered: np.ndarray,
                  mean_before: np.ndarray, mean_now: np.ndarray) -> None:
    """Add to the bias the mean output the layer lost: weights . E[x] - clustered . E[x']."""
    bias_index = layer.op.inputs[2] if len(layer.op.inputs) > 2 else -1
    bias = None if bias_index < 0 else model.constant(model.subgraphs[0].tensors[bias_index])
    if bias is None:
        return
    axes = tuple(a for a in range(weights.ndim) if a != _layers.rows_axis(layer.opcode))
    shift = np.sum(weights * mean_before, axis=axes) - np.sum(clustered * mean_now, axis=axes)
    _layers.set_weights(model, bias_index, bias + shift.reshape(bias.shape).astype(bias.dtype))


def _input_means(model: Model, layers: list[_layers.Layer], batches: list | None) -> dict[int, np.ndarray]:
    """op index -> mean of the input each weight multiplies (over the calibration data and every
    position), broadcastable to the weights; empty without data."""
    if batches is None or not layers:
        return {}
    graph = model.subgraphs[0]
    inputs = _layers.run(model, batches, [layer.op.inputs[0] for layer in layers])
    means = {}
    for layer in layers:
        x = inputs[layer.op.inputs[0]].astype(np.float64)
        mean = np.mean(x.reshape(-1, x.shape[-1]), axis=0)
        shape = graph.tensors[layer.weight].shape
        if layer.opcode == "DEPTHWISE_CONV_2D":  # output channel c reads input channel c // multiplier
            mean = np.repeat(mean, shape[3] // mean.size).reshape(1, 1, 1, -1)
        elif layer.opcode == "CONV_2D":
            mean = mean.reshape(1, 1, 1, -1)
        means[layer.op_index] = mean
    return means


def cluster_values(values: np.ndarray, clusters: int, init: str, rng: np.random.Generator) -> np.ndarray:
    """`values` with each non-zero replaced by the nearest of the k-means centroids: `clusters`
    of them, or `clusters` - 1 beside zero when `values` hold zeros (at least one)."""
    out = np.array(values, dtype=np.float32)
    nonzero = out != 0
    points = out[nonzero].astype(np.float64)
    if points.size < out.size:
        clusters = max(1, clusters - 1)
    if np.unique(points).size <= clusters:
        return out
    sample = points if points.size <= FIT_SAMPLE else rng.choice(points, FIT_SAMPLE, replace=False)
    centroids = _initial(sample, clusters, init, rng)
    for _ in range(ITERATIONS):
        labels = _assign(sample, centroids)
        sums = np.bincount(labels, weights=sample, minlength=clusters)
        counts = np.bincount(labels, minlength=clusters)
        updated = np.where(counts > 0, sums / np.maximum(counts, 1), centroids)
        if np.array_equal(updated, centroids):
            break
        centroids = np.sort(updated)
    out[nonzero] = centroids[_assign(points, centroids)].astype(np.float32)
    return out


def _assign(points: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Nearest centroid (sorted centroids: a binary search over their midpoints)."""
    return np.searchsorted((centroids[1:] + centroids[:-1]) / 2, points)


def _initial(points: np.ndarray, clusters: int, init: str, rng: np.random.Generator) -> np.ndarray:
    if init == "linear":
        return np.linspace(points.min(), points.max(), clusters)
    sample = points if points.size <= INIT_SAMPLE else rng.choice(points, INIT_SAMPLE, replace=False)
    chosen = [sample[rng.integers(sample.size)]]
    distance = (sample - chosen[0]) ** 2
    for _ in range(clusters - 1):
        total = distance.sum()
        pick = sample[rng.choice(sample.size, p=distance / total)] if total > 0 else sample[0]
        chosen.append(pick)
        distance = np.minimum(distance, (sample - pick) ** 2)
    return np.sort(np.asarray(chosen))


def gzip_size(model: Model | bytes) -> int:
    """Size of the .tflite file after gzip -9: what clustering gains in a compressed download."""
    content = model if isinstance(model, bytes) else model.to_bytes()
    return len(gzip.compress(content, compresslevel=9, mtime=0))


def unique_values(model: Model, ops: Iterable[str] = _layers.WEIGHT_OPS, per_channel: bool = False,
                  nonzero: bool = False) -> dict[str, int]:
    """Weight tensor name -> number of distinct values (the most of any output channel when
    `per_channel`; zeros not counted when `nonzero`), for float and int8 weights."""
    work = copy.deepcopy(model)
    densify_constants(work)
    found = {}
    for layer in _layers.layers(work, ops, types=_layers.ALL_TYPES):
        weights = _layers.weights_of(work, layer)
        parts = np.moveaxis(weights, _layers.rows_axis(layer.opcode), 0) if per_channel else [weights]
        counts = [np.unique(p[p != 0] if nonzero else p).size for p in parts]
        found[work.subgraphs[0].tensors[layer.weight].name] = int(max(counts))
    return found
