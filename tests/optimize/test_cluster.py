"""edgelite.cluster: at most k distinct non-zero values per tensor / channel, zeros kept, the
same result every time, smaller after gzip, and files LiteRT runs like edgelite."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import edgelite
from edgelite.optimize import _layers
from edgelite.optimize._layers import OptimizationError
from edgelite.optimize.cluster import gzip_size, unique_values
from edgelite.optimize.sparse_storage import densify_constants
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


def weights(model: edgelite.Model) -> list[np.ndarray]:
    work = copy.deepcopy(model)
    densify_constants(work)
    return [_layers.weights_of(work, layer) for layer in _layers.layers(work, _layers.WEIGHT_OPS)]


@pytest.mark.parametrize("per,init", [("tensor", "kmeans++"), ("tensor", "linear"), ("channel", "kmeans++")])
def test_at_most_k_values(per: str, init: str) -> None:
    model = edgelite.cluster(DIGITS, 8, per, init)
    counts = unique_values(model, per_channel=per == "channel")
    assert counts and max(counts.values()) <= 8
    assert gzip_size(model) < 0.6 * gzip_size(edgelite.load(DIGITS))


def test_pruned_zeros_stay_zero_and_are_not_a_cluster() -> None:
    pruned = edgelite.prune(DIGITS, 0.5)  # stored sparse: clustering reads through DENSIFY
    clustered = edgelite.cluster(pruned, 4)
    for before, after in zip(weights(pruned), weights(clustered), strict=True):
        np.testing.assert_array_equal(before == 0, after == 0)
        assert np.unique(after).size <= 4  # zero is one of the 4 values: 2-bit LUT indices
    assert not any(op.opcode == "DENSIFY" for op in clustered.subgraphs[0].operators)


def test_deterministic_and_runs_in_litert() -> None:
    first, report = edgelite.cluster(DIGITS, 16, return_report=True)
    content = first.to_bytes()
    assert content == edgelite.cluster(DIGITS, 16).to_bytes()
    assert all(t.unique_after <= 16 < t.unique_before for t in report.tensors if t.unique_before > 16)
    images = digits()[0][TRAINING:TRAINING + 8]
    np.testing.assert_allclose(litert_outputs(content, images), outputs(first, images), atol=1e-5)


def test_bad_arguments() -> None:
    with pytest.raises(OptimizationError, match="per"):
        edgelite.cluster(DIGITS, 16, per="row")
    with pytest.raises(OptimizationError, match="clusters"):
        edgelite.cluster(DIGITS, 0)


def test_bias_correction_with_calibration_data_recovers_accuracy() -> None:
    """Given calibration data, each bias takes back the mean output shift clustering caused: the
    weights are the same k values, the accuracy of a coarse (8 per tensor) clustering is higher."""
    plain = edgelite.cluster(DIGITS, 8)
    corrected = edgelite.cluster(DIGITS, 8, calibration_data=calibration())
    for before, after in zip(weights(plain), weights(corrected), strict=True):
        np.testing.assert_array_equal(before, after)
    assert accuracy(corrected) > accuracy(plain) + 5
