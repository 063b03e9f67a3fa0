"""edgelite.optimize and `edgelite optimize`: prune -> cluster -> int8 on the digits CNN keeps
accuracy, sparsity and the cluster count, and LiteRT computes the same integers as edgelite."""

from __future__ import annotations

import copy
import functools

import numpy as np
import pytest

import edgelite
from edgelite.cli import main
from edgelite.model import _lut
from edgelite.model.ir import TensorType
from edgelite.optimize import _layers
from edgelite.optimize.cluster import unique_values
from edgelite.optimize.prune import sparsity_of
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
PRUNED_OPS = ("FULLY_CONNECTED", "CONV_2D")


@functools.cache
def optimized():
    images, labels = digits()
    return edgelite.optimize(DIGITS, prune={"sparsity": 0.5, "method": "reconstruct"},
                             cluster={"clusters": 16, "per": "channel"}, quantize="int8",
                             calibration_data=calibration(), eval_data={"x": images[TRAINING:]},
                             labels=labels[TRAINING:])


def test_prune_cluster_int8_keeps_accuracy() -> None:
    model, report = optimized()
    assert [s.step for s in report.steps] == ["float", "prune", "cluster", "quantize"]
    assert report.steps[-1].accuracy == pytest.approx(accuracy(model))
    assert accuracy(model) >= accuracy(edgelite.load(DIGITS)) - 1.0
    print("\n" + report.table())


def test_each_step_keeps_the_earlier_properties() -> None:
    model, report = optimized()
    prune, cluster, quantize = report.steps[1:]
    assert prune.sparsity <= cluster.sparsity <= quantize.sparsity  # int8 rounding may add zeros
    assert cluster.unique_per_channel <= 16 and quantize.unique_per_channel <= 16
    assert sparsity_of(model, PRUNED_OPS) >= 0.49
    work = copy.deepcopy(model)
    densify_constants(work)
    layers = _layers.layers(work, _layers.WEIGHT_OPS, types=(TensorType.INT8,))
    assert len(layers) == 6
    assert max(unique_values(model, per_channel=True, nonzero=True).values()) <= 16
    assert quantize.gzip_size < 0.3 * report.steps[0].gzip_size


def test_int8_file_runs_identically_in_litert() -> None:
    model, _ = optimized()
    content = model.to_bytes()
    images = digits()[0][TRAINING:TRAINING + 16]
    np.testing.assert_array_equal(litert_outputs(content, images, exact=True), outputs(model, images))


def test_sparse_int8_weights_behind_densify_run_in_litert() -> None:
    model, report = edgelite.optimize(DIGITS, prune=0.9, quantize="int8", calibration_data=calibration())
    assert "csr" in report.steps[-1].storage.values()
    assert any(op.opcode == "DENSIFY" for op in model.subgraphs[0].operators)
    images = digits()[0][TRAINING:TRAINING + 8]
    theirs = litert_outputs(model.to_bytes(), images, exact=True)
    np.testing.assert_array_equal(theirs, outputs(model, images))


def test_cli(tmp_path, capsys) -> None:
    data = tmp_path / "d.npz"
    np.savez(data, x=digits()[0][:200])
    out = tmp_path / "o.tflite"
    assert main([str(v) for v in ("optimize", DIGITS, "-o", out, "--prune", "0.5", "--pattern", "2:4",
                                  "--cluster", "16", "--quantize", "int8", "--calibration", data)]) == 0
    assert "quantize" in capsys.readouterr().out
    assert len(edgelite.load(out).subgraphs[0].operators) >= 11
    assert main(["optimize", str(DIGITS), "-o", str(out)]) == 2


def test_lut_storage_reports_its_size_and_runs_as_reported() -> None:
    images, labels = digits()
    model, report = edgelite.optimize(DIGITS, prune={"sparsity": 0.5, "method": "reconstruct"},
                                      cluster={"clusters": 16, "per": "channel"}, quantize="int8",
                                      calibration_data=calibration(), eval_data={"x": images[TRAINING:]},
                                      labels=labels[TRAINING:], storage="lut")
    content = model.to_bytes()
    assert report.steps[-1].lut_size == len(content) < report.steps[-1].size
    assert _lut.METADATA_NAME.encode() in content
    loaded = edgelite.load(content)
    assert any(t.lut for t in loaded.subgraphs[0].tensors)
    assert accuracy(loaded) == pytest.approx(report.steps[-1].accuracy)
    assert "LUT B" in report.table() and "vs float" in report.table()


def test_cli_lut_storage(tmp_path, capsys) -> None:
    data = tmp_path / "d.npz"
    np.savez(data, x=digits()[0][:200])
    out = tmp_path / "o.tflite"
    assert main([str(v) for v in ("optimize", DIGITS, "-o", out, "--prune", "0.5", "--cluster", "16",
                                  "--quantize", "int8", "--quantize-per", "tensor", "--storage", "lut",
                                  "--calibration", data)]) == 0
    printed = capsys.readouterr().out
    assert "LUT B" in printed and "4-bit" in printed
    loaded = edgelite.load(out)
    assert sum(t.lut for t in loaded.subgraphs[0].tensors) == 6
    assert out.stat().st_size < 0.3 * DIGITS.stat().st_size


def test_pruned_clustered_float_file_stored_sparse_runs_in_litert() -> None:
    model, report = edgelite.optimize(DIGITS, prune=0.75, cluster=8, calibration_data=calibration())
    assert set(report.steps[-1].storage.values()) - {"dense"}  # some weights stored sparse
    images = digits()[0][TRAINING:TRAINING + 8]
    np.testing.assert_allclose(litert_outputs(model.to_bytes(), images), outputs(model, images), atol=1e-5)
