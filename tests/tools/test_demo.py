"""The bundled demo: the model classifies scikit-learn's held-out digits and agrees with LiteRT."""

from __future__ import annotations

import numpy as np
import pytest

from edgelite.tools.demo import classify, demo_files, litert_probabilities, run_demo


def test_demo_model_classifies_held_out_digits():
    model_path, data_path = demo_files()
    with np.load(data_path) as data:
        images, labels = data["images"].astype(np.float32) / 16, data["labels"]
    probabilities, _, _ = classify(model_path, images)
    assert probabilities.shape == (len(labels), 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)
    assert np.mean(probabilities.argmax(axis=1) == labels) > 0.9


def test_demo_test_set_is_scikit_learns_held_out_digits():
    datasets = pytest.importorskip("sklearn.datasets", reason="scikit-learn provides the digits data")
    digits = datasets.load_digits()
    with np.load(demo_files()[1]) as data:
        np.testing.assert_array_equal(data["images"], digits.data[-len(data["labels"]):])
        np.testing.assert_array_equal(data["labels"], digits.target[-len(data["labels"]):])


def test_demo_agrees_with_litert(capsys):
    pytest.importorskip("ai_edge_litert", reason="ai-edge-litert (the oracle) is not installed")
    result = run_demo()
    assert result["max_error_vs_litert"] < 1e-5
    model_path, data_path = demo_files()
    with np.load(data_path) as data:
        images = data["images"].astype(np.float32) / 16
    np.testing.assert_allclose(classify(model_path, images)[0], litert_probabilities(model_path, images),
                               rtol=1e-5, atol=1e-6)
    assert "accuracy" in capsys.readouterr().out
