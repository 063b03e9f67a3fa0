"""edgelite.prune on the digits CNN with real images: accuracy of OBS reconstruction against
magnitude pruning, the patterns' structure, and sparse files that LiteRT runs like edgelite."""

from __future__ import annotations

import copy
import functools

import numpy as np
import pytest

import edgelite
from edgelite.optimize import _layers
from edgelite.optimize._layers import OptimizationError
from edgelite.optimize.prune import sparsity_of
from edgelite.optimize.sparse_storage import LAYOUTS, densify_constants, store_sparse
from tests.optimize.digits_data import (
    DIGITS,
    TRAINING,
    accuracy,
    calibration,
    digits,
    litert_outputs,
    needs_models,
    outputs,
)

pytestmark = needs_models
PRUNED_OPS = ("FULLY_CONNECTED", "CONV_2D")


@functools.cache
def float_accuracy() -> float:
    return accuracy(edgelite.load(DIGITS))


@functools.cache
def pruned(sparsity: float, pattern: str, method: str) -> edgelite.Model:
    data = calibration() if method == "reconstruct" else None
    return edgelite.prune(DIGITS, sparsity, pattern, method, calibration_data=data)


def dense_weights(model: edgelite.Model) -> list[np.ndarray]:
    work = copy.deepcopy(model)
    densify_constants(work)
    return [_layers.weights_of(work, layer) for layer in _layers.layers(work, PRUNED_OPS)]


@pytest.mark.parametrize("pattern", ["unstructured", "2:4"])
def test_reconstruct_keeps_accuracy_at_half_sparsity(pattern: str) -> None:
    model = pruned(0.5, pattern, "reconstruct")
    assert accuracy(model) >= float_accuracy() - 1.0
    assert sparsity_of(model, PRUNED_OPS) >= 0.45  # the 3x3x1 conv stays dense for 2:4


@pytest.mark.parametrize("sparsity", [0.75, 0.9])
def test_reconstruct_beats_magnitude(sparsity: float) -> None:
    assert accuracy(pruned(sparsity, "unstructured", "reconstruct")) >= \
        accuracy(pruned(sparsity, "unstructured", "magnitude"))


def test_two_of_four_zeroes_two_of_every_four_input_weights() -> None:
    for weights in dense_weights(pruned(0.5, "2:4", "reconstruct")):
        if weights.shape[-1] % 4 == 0:
            groups = weights.reshape(-1, 4)
            assert np.all(np.sum(groups == 0, axis=1) >= 2)


@pytest.mark.parametrize("pattern,width", [("block(1,4)", 4), ("block(1,16)", 16)])
def test_blocks_are_all_zero_or_kept(pattern: str, width: int) -> None:
    model, report = edgelite.prune(DIGITS, 0.75, pattern, return_report=True)
    for weights in dense_weights(model):
        if weights.shape[-1] % width == 0:
            blocks = weights.reshape(-1, width) == 0
            assert np.all(blocks.all(axis=1) | ~blocks.any(axis=1))
    assert any("kept dense" in layer.note for layer in report.layers)  # the 1-channel first conv


def test_channel_pattern_removes_whole_output_channels() -> None:
    for weights in dense_weights(edgelite.prune(DIGITS, 0.5, "channel")):
        rows = weights.reshape(len(weights), -1)
        assert np.sum(~rows.any(axis=1)) == round(0.5 * len(rows))


def test_global_scope_hits_the_overall_target() -> None:
    model = edgelite.prune(DIGITS, 0.75, scope="global")
    assert sparsity_of(model, PRUNED_OPS) == pytest.approx(0.75, abs=0.01)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_sparse_layouts_run_in_litert_like_edgelite(layout: str) -> None:
    model = copy.deepcopy(pruned(0.5, "2:4", "reconstruct"))
    densify_constants(model)
    chosen = store_sparse(model, [layer.weight for layer in _layers.layers(model, PRUNED_OPS)], layout,
                          force=True)
    assert layout in chosen.values()
    assert sum(op.opcode == "DENSIFY" for op in model.subgraphs[0].operators) == \
        sum(v == layout for v in chosen.values())
    content = model.to_bytes()
    images = digits()[0][TRAINING:TRAINING + 8]
    ours = outputs(edgelite.load(content), images)
    np.testing.assert_allclose(ours, outputs(pruned(0.5, "2:4", "reconstruct"), images), atol=1e-6)
    np.testing.assert_allclose(litert_outputs(content, images), ours, atol=1e-5)


def test_default_storage_is_smaller_and_sparse() -> None:
    model = pruned(0.75, "unstructured", "magnitude")
    assert any(op.opcode == "DENSIFY" for op in model.subgraphs[0].operators)
    assert len(model.to_bytes()) < 0.6 * DIGITS.stat().st_size


def test_bad_requests_name_the_fix() -> None:
    with pytest.raises(OptimizationError, match="pattern"):
        edgelite.prune(DIGITS, 0.5, "3x3")
    with pytest.raises(OptimizationError, match="calibration_data"):
        edgelite.prune(DIGITS, 0.5, method="reconstruct")
    with pytest.raises(OptimizationError, match="sparsity"):
        edgelite.prune(DIGITS, 1.5)
