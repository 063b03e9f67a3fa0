"""Selective quantization (`target_sqnr=`, `fallback=`) on the digits CNN with scikit-learn's
handwritten digits: the SQNR is re-measured here in LiteRT, independently of edgelite's search."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest

import edgelite
from edgelite.errors import UnsupportedOpError
from edgelite.optimize.quantize import api, selective

litert = pytest.importorskip("ai_edge_litert.interpreter",
                             reason="ai-edge-litert (the oracle) is not installed")
MODELS = Path(__file__).parents[2].parent / "shared" / "models"
DIGITS = MODELS / "digits_cnn_float32.tflite"
TRAINING = 1400  # the first 1400 digits trained the model
pytestmark = pytest.mark.skipif(not DIGITS.is_file(), reason=f"shared test models not found in {MODELS}")


@functools.cache
def digits() -> tuple[np.ndarray, np.ndarray]:
    datasets = pytest.importorskip("sklearn.datasets")
    data = datasets.load_digits()
    return np.kron(data.images / 16.0, np.ones((2, 2))).astype(np.float32)[..., None], data.target


def calibration_set() -> list[list[np.ndarray]]:
    """200 training images (every 7th of the first 1400)."""
    images, _ = digits()
    return [[images[i:i + 1]] for i in range(0, TRAINING, 7)]


def measured_images() -> list[np.ndarray]:
    """The calibration samples the search measures on."""
    return [sample[0] for sample in calibration_set()[:selective.SAMPLES]]


def held_out_images() -> list[np.ndarray]:
    images, _ = digits()
    return [images[i:i + 1] for i in range(TRAINING, len(images))]


@functools.cache
def selective_int8(target: float, fallback: str = "float") -> tuple[bytes, edgelite.QuantizationReport]:
    model, report = edgelite.quantize(DIGITS, "int8", calibration_data=calibration_set(), target_sqnr=target,
                                      fallback=fallback, return_report=True, progress=False)
    return model.to_bytes(), report


def outputs(content: bytes, images: list[np.ndarray], ours: bool = False) -> np.ndarray:
    if ours:
        interpreter = edgelite.Interpreter(model_content=content)
    else:
        resolver = litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        interpreter = litert.Interpreter(model_content=content, experimental_op_resolver_type=resolver)
    interpreter.allocate_tensors()
    detail_in, detail_out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    results = []
    for image in images:
        interpreter.set_tensor(detail_in["index"], image)
        interpreter.invoke()
        results.append(interpreter.get_tensor(detail_out["index"]).copy())
    return np.concatenate(results)


def sqnr(reference: np.ndarray, test: np.ndarray) -> float:
    reference, test = reference.astype(np.float64), test.astype(np.float64)
    return float(10 * np.log10(np.sum(reference ** 2) / np.sum((test - reference) ** 2)))


def litert_sqnr(content: bytes, images: list[np.ndarray]) -> float:
    return sqnr(outputs(DIGITS.read_bytes(), images), outputs(content, images))


def test_reachable_target_keeps_some_layers_float() -> None:
    content, report = selective_int8(38.0)
    fully = edgelite.quantize(DIGITS, "int8", calibration_data=calibration_set(), progress=False).to_bytes()
    before = litert_sqnr(fully, measured_images())
    after = litert_sqnr(content, measured_images())
    assert before < 38.0 <= after  # int8 alone does not reach it; the selective model does, in LiteRT
    assert after == pytest.approx(report.sqnr_db, abs=0.01)  # edgelite measured what LiteRT computes
    kept = [op.index for op in report.kept_float]
    assert 1 <= len(kept) < len(report.ops)
    assert all("target_sqnr" in op.reason for op in report.kept_float)
    moved = [step.index for step in report.steps[1:]]
    assert sorted(moved) == kept and report.steps[0].index is None
    assert report.steps[0].sqnr_db == pytest.approx(before, abs=0.01)
    assert "target_sqnr 38 dB reached" in report.notes[-1] and "step 1:" in str(report)
    # on held-out digits too, the kept layers buy SQNR back
    assert litert_sqnr(content, held_out_images()) > litert_sqnr(fully, held_out_images()) + 2.0


def test_skipped_layers_run_bit_exactly_in_edgelite() -> None:
    content, _ = selective_int8(38.0)
    images = measured_images()[:30] + held_out_images()[:30]
    try:
        ours = outputs(content, images, ours=True)
    except UnsupportedOpError as error:
        pytest.skip(f"edgelite cannot run it yet: {error}")
    np.testing.assert_array_equal(ours, outputs(content, images))


def test_unreachable_target_ends_with_a_clear_report() -> None:
    content, report = selective_int8(200.0, "int16")
    assert len(report.steps) == len(report.ops) + 1  # one layer per step, then nothing is left
    assert all(op.kind == "int16x8" for op in report.ops)
    note = report.notes[-1]
    assert "target_sqnr 200 dB NOT reached" in note and "no layer of the mode's type is left" in note
    assert report.sqnr_db == max(step.sqnr_db for step in report.steps) < 200
    result = litert_sqnr(content, measured_images())  # the file runs in LiteRT
    assert result == pytest.approx(report.sqnr_db, abs=0.01)


def test_int16_fallback_mixes_int8_and_int16_layers(monkeypatch: pytest.MonkeyPatch) -> None:
    calls, calibrate = [], api.calibrate
    monkeypatch.setattr(api, "calibrate", lambda *args, **kw: calls.append(1) or calibrate(*args, **kw))
    model, report = edgelite.quantize(DIGITS, "int8", calibration_data=calibration_set(), target_sqnr=33.0,
                                      fallback="int16", return_report=True, progress=False)
    assert len(calls) == 1  # calibrated once, whatever the number of candidate models
    kinds = {op.kind for op in report.ops}
    assert kinds == {"int8", "int16x8"} and report.sqnr_db >= 33.0
    content = model.to_bytes()
    assert litert_sqnr(content, measured_images()) >= 33.0
    images = measured_images()[:30] + held_out_images()[:30]
    try:
        ours = outputs(content, images, ours=True)
    except UnsupportedOpError as error:
        pytest.skip(f"edgelite cannot run it yet: {error}")
    np.testing.assert_array_equal(ours, outputs(content, images))


def test_int16_fallback_with_int8_io_runs_bit_exactly() -> None:
    """int16x8 layers next to int8 model inputs and outputs (QUANTIZE int8 -> int16 -> int8), with
    user-skipped float layers between them (kept out of the search: 3 candidates, 6 trials)."""
    middle = list(range(2, 10))
    model, report = edgelite.quantize(DIGITS, "int8", calibration_data=calibration_set()[:64],
                                      target_sqnr=200, fallback="int16", input_type=np.int8,
                                      output_type=np.int8, skip=middle, return_report=True, progress=False)
    assert [op.kind for op in report.ops] == ["int16x8"] * 2 + ["float"] * 8 + ["int16x8"]
    assert [step.tried for step in report.steps] == [1, 3, 2, 1] and "NOT reached" in report.notes[-1]
    content = model.to_bytes()
    scale, zero = litert.Interpreter(model_content=content).get_input_details()[0]["quantization"]
    images = [np.clip(np.round(x / scale) + zero, -128, 127).astype(np.int8) for x in held_out_images()[:60]]
    try:
        ours = outputs(content, images, ours=True)
    except UnsupportedOpError as error:
        pytest.skip(f"edgelite cannot run it yet: {error}")
    np.testing.assert_array_equal(ours, outputs(content, images))


def test_target_already_met_changes_nothing() -> None:
    model, report = edgelite.quantize(DIGITS, "int8", calibration_data=calibration_set()[:40], target_sqnr=20,
                                      return_report=True, progress=False)
    assert len(report.steps) == 1 and not report.kept_float and "no layer kept float" in report.notes[-1]


def test_cli_target_sqnr(capsys: pytest.CaptureFixture, tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    from edgelite.cli import main

    monkeypatch.setenv("COLUMNS", "200")
    data = tmp_path / "calibration.npz"
    np.savez(data, keras_tensor=np.stack([sample[0] for sample in calibration_set()[:64]]))
    out = tmp_path / "selective.tflite"
    args = ["quantize", str(DIGITS), "-o", str(out), "--calibration", str(data)]
    assert main([*args, "--target-sqnr", "36"]) == 0
    stdout = capsys.readouterr().out
    assert "Target SQNR 36 dB (fallback: float" in stdout and "target_sqnr 36 dB reached" in stdout
    assert litert_sqnr(out.read_bytes(), measured_images()) >= 36.0
    assert main([*args, "--target-sqnr", "20", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["target_sqnr"] == 20 and report["fallback"] == "float" and len(report["steps"]) == 1


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"mode": "dynamic", "target_sqnr": 30}, "target_sqnr needs mode 'int8' or 'int16x8'"),
    ({"mode": "int8", "target_sqnr": "high"}, "target_sqnr='high' is not a number of dB"),
    ({"mode": "int8", "target_sqnr": 30, "fallback": "int4"}, "unknown fallback 'int4'"),
    ({"mode": "int16x8", "target_sqnr": 30, "fallback": "int16"}, "fallback='int16' needs mode 'int8'"),
    ({"mode": "int8", "target_sqnr": 30, "fallback": "int16", "output_type": "uint8"}, "no int16 -> uint8"),
])
def test_bad_requests(kwargs: dict, message: str) -> None:
    with pytest.raises(edgelite.EdgeliteError, match=message):
        edgelite.quantize(DIGITS, calibration_data=calibration_set()[:4], progress=False, **kwargs)
