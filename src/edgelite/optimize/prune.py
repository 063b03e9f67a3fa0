"""`edgelite.prune`: post-training pruning of FULLY_CONNECTED and CONV_2D weights, by magnitude
or by one-shot OBS reconstruction on calibration data, stored in TFLite's sparse format.

method="reconstruct" prunes the layers in graph order; each layer's calibration inputs come from
running the model as pruned so far (so later layers also correct earlier layers' errors), its
proxy Hessian is H = X^T X over those inputs (im2col patches for convolutions), and
_masks.reconstruct removes weights by w^2/[H^-1]_jj while updating the rest (SparseGPT).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgelite.model.ir import Model, TensorType
from edgelite.optimize import _layers
from edgelite.optimize._layers import OptimizationError
from edgelite.optimize._masks import Pattern, magnitude_masks, reconstruct, refit
from edgelite.optimize.quantize._graph import prune as drop_unused
from edgelite.optimize.sparse_storage import densify_constants, store_sparse

METHODS = ("magnitude", "reconstruct")
SCOPES = ("layer", "global")
DEFAULT_OPS = ("FULLY_CONNECTED", "CONV_2D")
CALIBRATION_LIMIT = 2048  # samples used by "reconstruct" (the first ones given)


@dataclass
class PrunedLayer:
    op_index: int
    opcode: str
    weight: str
    shape: tuple[int, ...]
    sparsity: float = 0.0
    method: str = "magnitude"
    storage: str = "dense"
    note: str = ""


@dataclass
class PruneReport:
    pattern: str
    method: str
    target: float
    layers: list[PrunedLayer] = field(default_factory=list)

    @property
    def sparsity(self) -> float:
        """Zeros over all weights of the pruned layers."""
        total = sum(int(np.prod(layer.shape)) for layer in self.layers)
        zeros = sum(layer.sparsity * int(np.prod(layer.shape)) for layer in self.layers)
        return zeros / total if total else 0.0


def prune(model: Model | str | os.PathLike | bytes, sparsity: float = 0.75, pattern: str = "unstructured",
          method: str = "magnitude", calibration_data: Any = None, skip: Iterable[str | int] = (),
          scope: str = "layer", ops: Iterable[str] = DEFAULT_OPS, sparse_storage: bool = True,
          damping: float = 0.01, return_report: bool = False) -> Model | tuple[Model, PruneReport]:
    """Prune a float model's weights; the input model is not modified.

    sparsity: fraction of each layer's weights set to zero (n:m patterns fix it to n/m).
    pattern: "unstructured", "2:4" (any n:m), "block(1,4)", "block(1,16)" or "channel" (whole
      output channels); units run along the weights' last dimension (the input channels).
    method: "magnitude" (smallest |w|) or "reconstruct" (OBS/SparseGPT on calibration_data,
      which takes any form `edgelite.quantize` accepts).
    scope: "layer" (every layer at `sparsity`) or "global" (one magnitude threshold over all
      layers; "reconstruct" and n:m patterns are always per layer).
    skip: op names, tensor names or op indices left dense. ops: which op types to prune
      (add "DEPTHWISE_CONV_2D" to prune depthwise filters, by magnitude, unstructured/channel).
    sparse_storage: write pruned weights in TFLite's sparse format behind DENSIFY where smaller.
    """
    chosen = Pattern.parse(pattern)
    if method not in METHODS:
        raise OptimizationError(f"unknown pruning method {method!r}; choose one of {', '.join(METHODS)}")
    if scope not in SCOPES:
        raise OptimizationError(f"unknown scope {scope!r}; choose one of {', '.join(SCOPES)}")
    target = chosen.fixed_sparsity if chosen.fixed_sparsity is not None else float(sparsity)
    if not 0.0 <= target < 1.0:
        raise OptimizationError(f"sparsity must be in [0, 1), got {sparsity}")
    if method == "reconstruct" and calibration_data is None:
        raise OptimizationError("method='reconstruct' needs calibration_data: representative inputs "
                                "(as for edgelite.quantize); or use method='magnitude'")
    result = copy.deepcopy(_layers.load(model))
    densify_constants(result)
    report = PruneReport(chosen.name, method, target)
    targets = []
    for layer in _layers.layers(result, ops, skip):
        shape = result.subgraphs[0].tensors[layer.weight].shape
        entry = PrunedLayer(layer.op_index, layer.opcode, result.subgraphs[0].tensors[layer.weight].name,
                            tuple(shape), method=method)
        report.layers.append(entry)
        depthwise_ok = chosen.name in ("unstructured", "channel")
        if layer.opcode == "DEPTHWISE_CONV_2D" and not depthwise_ok:
            entry.note = f"{chosen.name} does not apply to depthwise filters; kept dense"
        elif layer.opcode != "DEPTHWISE_CONV_2D" and not chosen.fits(shape[-1]):
            entry.note = (f"input channels ({shape[-1]}) are not a multiple of the {chosen.name} unit; "
                          "kept dense")
        else:
            targets.append((layer, entry))
    if method == "magnitude" or not targets:
        _prune_by_magnitude(result, targets, chosen, target, scope)
    else:
        _prune_by_reconstruction(result, targets, chosen, target, calibration_data, damping)
    for layer, entry in targets:
        entry.sparsity = float(np.mean(_layers.weights_of(result, layer) == 0))
    drop_unused(result)
    if sparse_storage:
        layouts = store_sparse(result, [layer.weight for layer, _ in targets])
        for layer, entry in targets:
            entry.storage = layouts.get(layer.weight, "dense")
    return (result, report) if return_report else result


def _prune_by_magnitude(model: Model, targets: list, pattern: Pattern, target: float, scope: str) -> None:
    matrices = [_layers.as_matrix(_layers.weights_of(model, layer), layer.opcode) for layer, _ in targets]
    masks = magnitude_masks(matrices, pattern, target, scope)
    for (layer, _), matrix, mask in zip(targets, matrices, masks, strict=True):
        _store(model, layer, np.where(mask, 0.0, matrix))


def _prune_by_reconstruction(model: Model, targets: list, pattern: Pattern, target: float,
                             calibration_data: Any, damping: float) -> None:
    data = _layers.batches(model, calibration_data, CALIBRATION_LIMIT)
    originals = _layers.run(model, data, [layer.op.inputs[0] for layer, _ in targets])
    for layer, entry in targets:  # graph order: each layer sees the inputs of the pruned model so far
        x_index = layer.op.inputs[0]
        inputs = _layers.run(model, data, [x_index])[x_index]
        weights = _layers.weights_of(model, layer)
        bias_index = _bias_of(model, layer)
        stats = _layers.hessian(layer, inputs, weights.shape, bias_index is not None, originals[x_index])
        matrix = _layers.as_matrix(weights, layer.opcode)
        if stats is None:
            entry.method, entry.note = "magnitude", "rows read different inputs; pruned by magnitude"
            (mask,) = magnitude_masks([matrix], pattern, target, "layer")
            _store(model, layer, np.where(mask, 0.0, matrix))
            continue
        gram, cross = stats
        bias = None if bias_index is None else model.constant(model.subgraphs[0].tensors[bias_index])
        pruned, _ = reconstruct(matrix, gram, target, pattern, damping, bias)
        # OBS chose the mask; the weights that stay are then solved exactly for that mask, against
        # the float model's output (which also corrects the error of the layers pruned before).
        pruned, new_bias = refit(matrix, bias, pruned == 0, gram, cross, damping)
        _store(model, layer, pruned)
        if new_bias is not None:
            _layers.set_weights(model, bias_index, new_bias.astype(np.float32))


def _bias_of(model: Model, layer: _layers.Layer) -> int | None:
    """The layer's float32 constant bias, which reconstruction updates along with the weights."""
    inputs = layer.op.inputs
    if len(inputs) < 3 or inputs[2] < 0:
        return None
    tensor = model.subgraphs[0].tensors[inputs[2]]
    return inputs[2] if tensor.type == TensorType.FLOAT32 and model.constant(tensor) is not None else None


def _store(model: Model, layer: _layers.Layer, matrix: np.ndarray) -> None:
    shape = model.subgraphs[0].tensors[layer.weight].shape
    _layers.set_weights(model, layer, _layers.from_matrix(matrix.astype(np.float32), shape, layer.opcode))


def sparsity_of(model: Model, ops: Iterable[str] = _layers.WEIGHT_OPS) -> float:
    """Fraction of zeros over the weights of `ops` (sparse-stored weights expanded first)."""
    work = copy.deepcopy(model)
    densify_constants(work)
    values = [np.asarray(work.constant(work.subgraphs[0].tensors[layer.weight]))
              for layer in _layers.layers(work, ops, types=_layers.ALL_TYPES)]
    total = sum(v.size for v in values)
    return sum(int(np.count_nonzero(v == 0)) for v in values) / total if total else 0.0
