"""The bundled demo: the model classifies scikit-learn's held-out digits, quantizes, agrees with LiteRT."""

from __future__ import annotations

import numpy as np
import pytest

from edgelite.tools.demo import classify, demo_files, litert_probabilities, load_digits, run_demo


def test_demo_model_classifies_held_out_digits():
    images, labels, _ = load_digits()
    probabilities, _, _ = classify(demo_files()[0], images)
    assert probabilities.shape == (len(labels), 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)
    assert np.mean(probabilities.argmax(axis=1) == labels) > 0.9


def test_demo_digits_are_scikit_learns():
    datasets = pytest.importorskip("sklearn.datasets", reason="scikit-learn provides the digits data")
    digits = datasets.load_digits()
    with np.load(demo_files()[1]) as data:
        held_out = len(data["labels"])
        np.testing.assert_array_equal(data["images"], digits.data[-held_out:])
        np.testing.assert_array_equal(data["labels"], digits.target[-held_out:])
        np.testing.assert_array_equal(data["calibration"], digits.data[:-held_out:7])


def test_demo_float_model_agrees_with_litert():
    pytest.importorskip("ai_edge_litert", reason="ai-edge-litert (the oracle) is not installed")
    images = load_digits()[0]
    np.testing.assert_allclose(classify(demo_files()[0], images)[0],
                               litert_probabilities(demo_files()[0], images), rtol=1e-5, atol=1e-6)


def test_demo_quantizes_without_losing_accuracy_and_matches_litert_bit_for_bit(tmp_path, capsys):
    pytest.importorskip("ai_edge_litert", reason="ai-edge-litert (the oracle) is not installed")
    result = run_demo(tmp_path)
    assert result["int8_accuracy"] > result["accuracy"] - 0.01
    assert result["size_ratio"] > 2.5  # 4x on the weights; a 10k-parameter file carries fixed overhead
    assert result["sqnr_db"] > 20
    assert result["litert_exact"] is True
    assert (tmp_path / "digits_mlp_int8.tflite").exists()
    assert "quantize" in capsys.readouterr().out
