"""`edgelite quantize` end to end: a calibration .npz in, a LiteRT-runnable file and a report out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.tools.cli_runner import cli

MODELS = Path(__file__).parents[2].parent / "shared" / "models"
DIGITS = MODELS / "digits_cnn_float32.tflite"
pytestmark = pytest.mark.skipif(not DIGITS.is_file(), reason=f"no test models in {MODELS}")


@pytest.fixture
def calibration(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "calibration.npz"
    np.savez(path, keras_tensor=rng.uniform(0, 1, (16, 1, 16, 16, 1)).astype(np.float32))
    return path


def litert_output(path: Path) -> np.ndarray:
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    interpreter = litert.Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], detail["dtype"]))
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def test_int8_with_report(capsys, tmp_path, calibration) -> None:
    out = tmp_path / "int8.tflite"
    code, stdout, _ = cli(capsys, "quantize", DIGITS, "-o", out, "--calibration", calibration,
                          "--calibration-method", "percentile", "--skip", "SOFTMAX")
    assert code == 0, stdout
    assert "Quantization (int8, percentile over 16 samples)" in stdout
    assert "DEPTHWISE_CONV_2D" in stdout and "skipped by user ('SOFTMAX')" in stdout
    assert "10/11 ops quantized" in stdout and f"wrote {out}" in stdout
    assert litert_output(out).shape == (1, 10)


def test_int8_io_json(capsys, tmp_path, calibration) -> None:
    out = tmp_path / "int8_io.tflite"
    code, stdout, _ = cli(capsys, "quantize", DIGITS, "-o", out, "--calibration", calibration,
                          "--input-type", "int8", "--output-type", "uint8", "--no-per-channel", "--json")
    assert code == 0
    report = json.loads(stdout)
    assert report["mode"] == "int8" and report["per_channel"] is False and report["output"] == str(out)
    assert report["size_after"] == out.stat().st_size
    assert litert_output(out).dtype == np.uint8


@pytest.mark.parametrize("mode", ["dynamic", "float16"])
def test_modes_without_data(capsys, tmp_path, mode: str) -> None:
    out = tmp_path / f"{mode}.tflite"
    code, stdout, _ = cli(capsys, "quantize", DIGITS, "-o", out, "--mode", mode)
    assert code == 0 and out.is_file()
    assert f"Quantization ({mode})" in stdout
    np.testing.assert_allclose(litert_output(out).sum(), 1.0, rtol=1e-4)


@pytest.mark.parametrize(("args", "code", "fragment"), [
    (["--mode", "int4"], 2, "invalid choice: 'int4'"),
    ([], 2, "--mode int8 needs --calibration DATA.npz"),
    (["--mode", "int16x8"], 2, "--mode int16x8 needs --calibration"),
    (["--calibration", "/nonexistent.npz"], 1, "calibration data '/nonexistent.npz' does not exist"),
    (["--mode", "dynamic", "--input-type", "int8"], 1, "input_type=int8 is not available in mode 'dynamic'"),
    (["--mode", "float16", "--skip", "NOPE"], 1, "skip entries ['NOPE'] match no op"),
])
def test_bad_command_lines(capsys, tmp_path, args, code, fragment) -> None:
    got, _, stderr = cli(capsys, "quantize", DIGITS, "-o", tmp_path / "x.tflite", *args)
    assert got == code
    assert fragment in stderr and len(stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.tflite").exists()


def test_calibration_file_with_wrong_inputs(capsys, tmp_path) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, a=np.zeros((2, 16, 16, 1), np.float32), b=np.zeros((2, 3), np.float32))
    code, _, stderr = cli(capsys, "quantize", DIGITS, "-o", tmp_path / "x.tflite", "--calibration", path)
    assert code == 1 and "has no array for input" in stderr


def test_unreadable_model(capsys, tmp_path) -> None:
    code, _, stderr = cli(capsys, "quantize", tmp_path / "missing.tflite", "-o", tmp_path / "x.tflite",
                          "--mode", "dynamic")
    assert code == 1 and "cannot read model" in stderr
