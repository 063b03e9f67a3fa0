"""`edgelite compare` and its metrics: hand-computed values, the digits models, the CLI."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from edgelite.errors import EdgeliteError
from edgelite.model.ir import Quantization, Tensor, TensorType
from edgelite.model.reader import load
from edgelite.tools import _metrics as metrics
from edgelite.tools.compare import ComparisonError, compare_models, dequantize, match_tensors, to_input
from tests.tools.cli_runner import assert_one_line_error, cli

MODELS = Path(__file__).parents[2].parent / "shared" / "models"
FLOAT32 = MODELS / "digits_cnn_float32.tflite"
FLOAT16 = MODELS / "digits_cnn_float16.tflite"
INT8 = MODELS / "digits_cnn_int8.tflite"
INT8_IO = MODELS / "digits_cnn_int8_io.tflite"
needs_models = pytest.mark.skipif(not FLOAT32.exists(), reason=f"no digits models in {MODELS}")


@pytest.fixture(scope="module")
def digits_images() -> np.ndarray:
    """scikit-learn's held-out digits as the models take them: (N, 16, 16, 1) float32 in [0, 1]."""
    datasets = pytest.importorskip("sklearn.datasets", reason="scikit-learn provides the digits data")
    images = datasets.load_digits().images[1400:]
    return np.stack([np.kron(image / 16, np.ones((2, 2))) for image in images]).astype(np.float32)[..., None]


def runs_in_edgelite(path: Path) -> bool:
    """Whether edgelite has the kernels for a model yet (the int8 ones arrive separately)."""
    from edgelite.runtime.interpreter import Interpreter

    try:
        interpreter = Interpreter(model_path=str(path))
        interpreter.allocate_tensors()
        detail = interpreter.get_input_details()[0]
        interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], detail["dtype"]))
        interpreter.invoke()
    except (EdgeliteError, NotImplementedError):
        return False
    return True


# -- metrics -------------------------------------------------------------------------------------
def test_sqnr_of_known_noise():
    reference = np.full(1000, 2.0)
    noise = np.where(np.arange(1000) % 2 == 0, 0.02, -0.02)  # sum(ref^2) = 4000, sum(noise^2) = 0.4
    assert metrics.sqnr_db(reference, reference + noise) == pytest.approx(40.0)
    assert metrics.sqnr_db(reference, reference) == math.inf
    assert metrics.sqnr_db(np.zeros(3), np.ones(3)) == -math.inf
    assert metrics.rmse(reference, reference + noise) == pytest.approx(0.02)
    assert metrics.max_abs_error([1.0, -2.0, 3.0], [1.5, -2.0, 2.0]) == pytest.approx(1.0)


def test_cosine_similarity():
    assert metrics.cosine_similarity([1.0, 0.0], [1.0, 1.0]) == pytest.approx(1 / math.sqrt(2))
    assert metrics.cosine_similarity([1.0, 2.0, 3.0], [-1.0, -2.0, -3.0]) == pytest.approx(-1.0)
    assert metrics.cosine_similarity(np.ones((2, 3)), 5 * np.ones((2, 3))) == pytest.approx(1.0)
    assert metrics.cosine_similarity(np.zeros(4), np.zeros(4)) == 1.0
    assert metrics.cosine_similarity(np.zeros(4), np.ones(4)) == 0.0


def test_top1_agreement():
    reference = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    test = np.array([[0.2, 0.8], [0.4, 0.6], [0.6, 0.4]])
    np.testing.assert_array_equal(metrics.top1_matches(reference, test), [True, False, False])
    assert metrics.top1_agreement(reference, test) == pytest.approx(1 / 3)
    assert metrics.is_classifier_output((1, 10)) and not metrics.is_classifier_output((1, 4, 4, 8))
    with pytest.raises(ValueError, match="shapes"):
        metrics.sqnr_db(np.ones(3), np.ones(4))


def test_error_stats_over_samples_equal_the_metrics_of_all_data():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(6, 10))
    test = reference + rng.normal(scale=0.1, size=reference.shape)
    stats = metrics.ErrorStats(top1=True)
    for k in range(6):
        stats.update(reference[k:k + 1], test[k:k + 1])
    assert stats.max_abs == pytest.approx(metrics.max_abs_error(reference, test))
    assert stats.rmse == pytest.approx(metrics.rmse(reference, test))
    assert stats.sqnr_db == pytest.approx(metrics.sqnr_db(reference, test))
    assert stats.cosine == pytest.approx(metrics.cosine_similarity(reference, test))
    assert stats.top1_agreement == pytest.approx(metrics.top1_agreement(reference, test))
    assert metrics.ErrorStats().summary()["top1_agreement"] is None


def test_dequantize_and_input_quantization():
    per_channel = Tensor("w", (2, 2), TensorType.INT8, quantization=Quantization.of([0.5, 2.0], [1, -1], 1))
    value = np.array([[3, 3], [1, 1]], np.int8)
    np.testing.assert_array_equal(dequantize(value, per_channel), [[1.0, 8.0], [0.0, 4.0]])
    per_channel.quantization.quantized_dimension = 0
    np.testing.assert_array_equal(dequantize(value, per_channel), [[1.0, 1.0], [4.0, 4.0]])
    int8_input = Tensor("x", (1, 5), TensorType.INT8, quantization=Quantization.of(0.5, -3))
    real = np.array([[0.0, 0.25, -0.25, 1.0, 100.0]], np.float32)  # halves round away from zero
    quantized = to_input(real, int8_input, "B")
    assert quantized.dtype == np.int8
    np.testing.assert_array_equal(quantized, [[-3, -2, -4, -1, 127]])
    uint8_input = Tensor("x", (1, 2), TensorType.UINT8, quantization=Quantization.of(1 / 255, 0))
    np.testing.assert_array_equal(to_input(np.array([[0.0, 1.0]]), uint8_input, "B"), [[0, 255]])
    with pytest.raises(ComparisonError, match="without quantization"):
        to_input(real, Tensor("ids", (1, 5), TensorType.INT32), "B")


# -- the digits models ---------------------------------------------------------------------------
@needs_models
def test_float16_is_close_to_float32_on_real_digits(digits_images):
    result = compare_models(FLOAT32, FLOAT16, data={"keras_tensor": digits_images})
    assert result.samples == len(digits_images)
    assert len(result.layers) == 11  # every op of the float model, renamed '...Squeeze2' ones included
    assert [layer.op_index for layer in result.layers] == list(range(11))
    assert all(layer.sqnr_db > 40 for layer in result.layers), [(x.op, x.sqnr_db) for x in result.layers]
    assert all(layer.cosine > 0.9999 for layer in result.layers)
    (output,) = result.outputs
    assert output.top1_agreement == 1.0 and output.sqnr_db > 40 and output.max_abs_error < 1e-2
    assert result.unmatched_a == []


@needs_models
def test_a_model_compared_with_itself_is_exact():
    result = compare_models(FLOAT32, FLOAT32.read_bytes(), samples=3)
    assert result.samples == 3 and result.inputs == "random (seed 0)"
    for entry in [*result.outputs, *result.layers]:
        assert entry.sqnr_db == math.inf and entry.max_abs_error == 0 and entry.rmse == 0
        assert entry.cosine == pytest.approx(1.0)
    assert result.outputs[0].top1_agreement == 1.0
    assert result.worst_layers() == []
    assert json.loads(result.to_json())["layers"][0]["sqnr_db"] == "inf"


@needs_models
def test_float16_weights_are_not_paired_with_float32_activations():
    float32, float16 = load(FLOAT32.read_bytes()), load(FLOAT16.read_bytes())
    pairs = match_tensors(float32, float16)
    g32, g16 = float32.subgraphs[0], float16.subgraphs[0]
    assert len(pairs) == 11
    for i, j in pairs:
        assert g32.tensors[i].shape == g16.tensors[j].shape
        assert float16.constant(g16.tensors[j]) is None
    assert sum(g32.tensors[i].name != g16.tensors[j].name for i, j in pairs) == 4  # '...1' -> '...2'


@needs_models
def test_samples_as_an_iterable_and_models_in_memory(digits_images):
    model = load(FLOAT32.read_bytes())
    samples = [{"serving_default_keras_tensor:0": image[None]} for image in digits_images[:4]]
    result = compare_models(model, FLOAT16, data=samples)
    assert result.samples == 4 and result.model_a == "<A: in-memory model>"
    limited = compare_models(FLOAT32, FLOAT16, data=[[image[None]] for image in digits_images], samples=5)
    assert limited.samples == 5


@needs_models
@pytest.mark.parametrize("quantized", [INT8, INT8_IO], ids=["float_io", "int8_io"])
def test_int8_agrees_with_float_on_real_digits(quantized, digits_images):
    if not runs_in_edgelite(quantized):
        pytest.skip(f"edgelite cannot run {quantized.name} yet (int8 kernels missing)")
    result = compare_models(FLOAT32, quantized, data={"keras_tensor": digits_images})
    (output,) = result.outputs
    assert output.top1_agreement > 0.95
    assert output.dtype_b == ("int8" if quantized == INT8_IO else "float32")
    assert len(result.layers) >= 10
    # LiteRT gives 27-45 dB per layer on these images
    assert all(math.isfinite(layer.sqnr_db) and layer.sqnr_db > 20 for layer in result.layers)


# -- the CLI -------------------------------------------------------------------------------------
@needs_models
def test_cli_table_and_json(capsys, tmp_path, digits_images):
    data = tmp_path / "digits.npz"
    np.savez(data, keras_tensor=digits_images[:20])
    code, out, err = cli(capsys, "compare", FLOAT32, FLOAT16, "--data", data)
    assert code == 0, err
    assert "20 sample(s)" in out and "SOFTMAX" in out and "top-1" in out and "100.00%" in out
    code, out, err = cli(capsys, "compare", FLOAT32, FLOAT16, "--json", "--samples", "2", "--seed", "3")
    assert code == 0, err
    report = json.loads(out)
    assert report["samples"] == 2 and report["inputs"] == "random (seed 3)"
    assert len(report["layers"]) == 11
    assert set(report["layers"][0]) >= {"name", "op", "shape", "max_abs_error", "rmse", "sqnr_db", "cosine"}
    assert report["outputs"][0]["top1_agreement"] == 1.0


@needs_models
def test_cli_plot(capsys, tmp_path):
    pytest.importorskip("matplotlib", reason="--plot needs matplotlib (pip install 'edgelite[plot]')")
    plot = tmp_path / "sqnr.png"
    code, out, err = cli(capsys, "compare", FLOAT32, FLOAT16, "--samples", "2", "--plot", plot)
    assert code == 0, err
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, _, err = cli(capsys, "compare", FLOAT32, FLOAT32, "--samples", "1", "--plot", plot, "--json")
    assert code == 0, err  # an all-exact chart draws too


@needs_models
def test_cli_plot_without_matplotlib(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    code, out, err = cli(capsys, "compare", FLOAT32, FLOAT16, "--plot", tmp_path / "x.png")
    assert code == 1 and out == ""
    assert_one_line_error(err, "matplotlib", "pip install 'edgelite[plot]'")


@needs_models
def test_cli_bad_arguments(capsys, tmp_path):
    code, _, err = cli(capsys, "compare", tmp_path / "missing.tflite", FLOAT32)
    assert code == 1
    assert_one_line_error(err, "missing.tflite")
    renamed = load(FLOAT32.read_bytes())
    graph = renamed.subgraphs[0]
    graph.tensors[graph.inputs[0]].name = "image"
    renamed.signatures = []
    renamed.save(str(tmp_path / "renamed.tflite"))
    code, _, err = cli(capsys, "compare", FLOAT32, tmp_path / "renamed.tflite")
    assert code == 1
    assert_one_line_error(err, "different inputs", "image")
    data = tmp_path / "wrong.npz"
    np.savez(data, pixels=np.zeros((2, 16, 16, 1), np.float32))
    code, _, err = cli(capsys, "compare", FLOAT32, FLOAT16, "--data", data)
    assert code == 1
    assert_one_line_error(err, "'pixels'", "keras_tensor")
    code, _, err = cli(capsys, "compare", FLOAT32, FLOAT16, "--data", tmp_path / "absent.npz")
    assert code == 1
    assert_one_line_error(err, "absent.npz")
    code, _, err = cli(capsys, "compare", FLOAT32, FLOAT16, "--samples", "0")
    assert code == 2
    assert_one_line_error(err, "--samples")
