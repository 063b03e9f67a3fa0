"""End-to-end tests of the `edgelite` CLI over the real models, with LiteRT as the oracle."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tests.tools.cli_runner import assert_one_line_error, cli

MODELS = Path(__file__).parents[2].parent / "shared" / "models"
ALL_MODELS = sorted(p.name for p in MODELS.glob("*.tflite")) if MODELS.is_dir() else []
FLOAT_MODELS = [name for name in ALL_MODELS
                if name.startswith(("digits_cnn_float", "mnv2_035_96_float32", "face_", "hand_", "selfie_"))]
DIGITS = "digits_cnn_float32.tflite"
needs_models = pytest.mark.skipif(not ALL_MODELS, reason=f"no test models in {MODELS}")


def litert(path: Path, default_delegates: bool = True):
    interpreter_module = pytest.importorskip("ai_edge_litert.interpreter")
    resolver = interpreter_module.OpResolverType
    kind = resolver.AUTO if default_delegates else resolver.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    return interpreter_module.Interpreter(model_path=str(path), experimental_op_resolver_type=kind)


def litert_run(path: Path, inputs: list[np.ndarray]) -> list[np.ndarray]:
    interpreter = litert(path)
    interpreter.allocate_tensors()
    for detail, value in zip(interpreter.get_input_details(), inputs, strict=True):
        interpreter.set_tensor(detail["index"], value)
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]


def seeded_inputs(path: Path, seed: int) -> list[np.ndarray]:
    """The documented rule: one default_rng(seed), uniform [0, 1) float64 cast down, in input order."""
    rng = np.random.default_rng(seed)
    details = litert(path).get_input_details()
    return [rng.random(tuple(d["shape"]), dtype=np.float64).astype(d["dtype"]) for d in details]


def constant_bytes(path: Path) -> int:
    """Bytes of the buffers tensors refer to, read with the independent `tflite` flatbuffer package."""
    import tflite

    model = tflite.Model.GetRootAsModel(path.read_bytes(), 0)
    buffers = {model.Subgraphs(s).Tensors(t).Buffer() for s in range(model.SubgraphsLength())
               for t in range(model.Subgraphs(s).TensorsLength())}
    return sum(model.Buffers(b).DataLength() for b in buffers if b < model.BuffersLength())


# -- inspect --------------------------------------------------------------------------------
@needs_models
@pytest.mark.parametrize("name", ALL_MODELS)
def test_inspect_json_matches_litert(capsys, name):
    path = MODELS / name
    code, out, err = cli(capsys, "inspect", path, "--json")
    assert code == 0, err
    info = json.loads(out)
    oracle = litert(path, default_delegates=False)
    assert info["ops"] == dict(Counter(op["op_name"] for op in oracle._get_ops_details()))
    for ours, theirs in zip(info["inputs"] + info["outputs"],
                            oracle.get_input_details() + oracle.get_output_details(), strict=True):
        assert ours["name"] == theirs["name"]
        assert ours["shape"] == theirs["shape"].tolist()
        assert ours["shape_signature"] == theirs["shape_signature"].tolist()
        assert ours["dtype"] == np.dtype(theirs["dtype"]).name
        scale, zero_point = theirs["quantization"]
        if ours["quantization"] is None:
            assert scale == 0.0
        else:
            assert not ours["quantization"]["per_channel"]
            assert ours["quantization"]["scale"] == pytest.approx(scale)
            assert ours["quantization"]["zero_point"] == zero_point
    assert info["file_size"] == path.stat().st_size
    assert info["subgraph_count"] == 1
    assert info["parameters"]["bytes"] == constant_bytes(path)
    assert info["parameters"]["count"] > 0
    assert {s["key"] for s in info["signatures"]} == set(oracle.get_signature_list())
    if info["arena"] is None:
        assert info["arena_error"], "planning failed without saying why"
        assert info["arena_error"].startswith("UnsupportedOpError"), info["arena_error"]
        assert info["unsupported_ops"]
    else:
        io_bytes = sum(int(np.prod(t["shape"])) * np.dtype(t["dtype"]).itemsize
                       for t in info["inputs"] + info["outputs"])
        assert info["arena"]["size"] >= info["arena"]["lower_bound"] >= io_bytes
        assert info["unsupported_ops"] == []


@needs_models
@pytest.mark.parametrize("name", ALL_MODELS)
def test_inspect_tables(capsys, name):
    code, out, err = cli(capsys, "inspect", MODELS / name)
    assert code == 0, err
    for heading in ("Model", "Inputs", "Outputs", "Operators", "Parameters"):
        assert heading in out
    ops = Counter(op["op_name"] for op in litert(MODELS / name, False)._get_ops_details())
    for op in ops:
        assert op in out


@needs_models
def test_inspect_reports_quantization(capsys):
    code, out, _ = cli(capsys, "inspect", MODELS / "digits_cnn_int8_io.tflite", "--json")
    assert code == 0
    info = json.loads(out)
    (tensor,) = info["inputs"]
    assert tensor["dtype"] == "int8" and tensor["quantization"]["scale"] > 0
    assert set(info["parameters"]["by_dtype"]) >= {"int8", "int32"}


# -- run ------------------------------------------------------------------------------------
@needs_models
@pytest.mark.parametrize("name", FLOAT_MODELS)
def test_run_matches_litert(capsys, tmp_path, name):
    path = MODELS / name
    code, out, err = cli(capsys, "run", path, "--seed", "7", "--output-dir", tmp_path, "--json")
    assert code == 0, err
    summaries = json.loads(out)["outputs"]
    expected = litert_run(path, seeded_inputs(path, 7))
    assert len(summaries) == len(expected)
    for k, (summary, want) in enumerate(zip(summaries, expected, strict=True)):
        file = Path(summary["file"])
        assert file.parent == tmp_path and file.name.startswith(f"output_{k}_") and file.suffix == ".npy"
        got = np.load(file)
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
        assert summary["max"] == pytest.approx(float(got.max()))


@needs_models
def test_run_with_input_file(capsys, tmp_path):
    path = MODELS / DIGITS
    image = np.kron(np.random.default_rng(1).integers(0, 17, (8, 8)) / 16, np.ones((2, 2)))
    npy = tmp_path / "digit.npy"
    np.save(npy, image.reshape(1, 16, 16, 1))  # float64: the CLI casts it to the model's float32
    expected = litert_run(path, [image.reshape(1, 16, 16, 1).astype(np.float32)])[0]
    for input_name in ("keras_tensor", "serving_default_keras_tensor:0"):
        code, out, err = cli(capsys, "run", path, "--input", f"{input_name}={npy}", "--output-dir", tmp_path)
        assert code == 0, err
        assert "Outputs" in out and "argmax" in out
        (file,) = tmp_path.glob("output_0_*.npy")
        assert file.name == "output_0_StatefulPartitionedCall_1_0.npy"
        np.testing.assert_allclose(np.load(file), expected, rtol=1e-4, atol=1e-4)


@needs_models
def test_run_summary_table(capsys):
    code, out, err = cli(capsys, "run", MODELS / DIGITS, "--seed", "1")
    assert code == 0, err
    assert "StatefulPartitionedCall_1:0" in out and "float32[1,10]" in out and "seed 1" in out


# -- errors ---------------------------------------------------------------------------------
def test_missing_model_file(capsys, tmp_path):
    for verb in ("inspect", "run"):
        code, _, err = cli(capsys, verb, tmp_path / "missing.tflite")
        assert code == 1
        assert_one_line_error(err, "cannot read model", "missing.tflite")


@pytest.mark.parametrize("content", [b"", b"not a model at all\n" * 10, bytes(range(256)) * 4])
def test_not_a_tflite_file(capsys, tmp_path, content):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(content)
    for verb in ("inspect", "run"):
        code, _, err = cli(capsys, verb, bad)
        assert code == 1
        assert_one_line_error(err, "cannot read model", "bad.tflite")


@needs_models
def test_unknown_input_name(capsys, tmp_path):
    npy = tmp_path / "x.npy"
    np.save(npy, np.zeros((1, 16, 16, 1), np.float32))
    code, _, err = cli(capsys, "run", MODELS / DIGITS, "--input", f"nope={npy}")
    assert code == 2
    assert_one_line_error(err, "unknown input 'nope'", "keras_tensor")


@needs_models
@pytest.mark.parametrize("array", [np.zeros((1, 8, 8, 1), np.float32), np.zeros((16, 16), np.float32),
                                   np.zeros((1, 16, 16, 1), np.complex64)])
def test_wrong_input_array(capsys, tmp_path, array):
    npy = tmp_path / "x.npy"
    np.save(npy, array)
    code, _, err = cli(capsys, "run", MODELS / DIGITS, "--input", f"keras_tensor={npy}")
    assert code == 1
    assert_one_line_error(err, "input 'keras_tensor' expects")


@needs_models
def test_bad_input_arguments(capsys, tmp_path):
    code, _, err = cli(capsys, "run", MODELS / DIGITS, "--input", "no-equals-sign")
    assert code == 2
    assert_one_line_error(err, "NAME=FILE.npy")
    code, _, err = cli(capsys, "run", MODELS / DIGITS, "--input", f"keras_tensor={tmp_path / 'none.npy'}")
    assert code == 1
    assert_one_line_error(err, "cannot read input file", "none.npy")
    (tmp_path / "text.npy").write_text("hello")
    code, _, err = cli(capsys, "run", MODELS / DIGITS, "--input", f"keras_tensor={tmp_path / 'text.npy'}")
    assert code == 1
    assert_one_line_error(err, "cannot read input file")


@pytest.mark.parametrize("args", [[], ["frobnicate"], ["inspect"], ["run", "m.tflite", "--seed", "x"],
                                  ["inspect", "m.tflite", "--bogus"]])
def test_bad_usage_exits_2(capsys, args):
    code, out, err = cli(capsys, *args)
    assert code == 2 and out == ""
    assert_one_line_error(err, "error:")


def test_version_and_help(capsys):
    code, out, _ = cli(capsys, "--version")
    assert code == 0 and out.strip() == "edgelite 0.1.0"
    code, out, _ = cli(capsys, "--help")
    assert code == 0 and "examples:" in out and "inspect" in out and "run" in out
    for verb in ("inspect", "run"):
        code, out, _ = cli(capsys, verb, "--help")
        assert code == 0 and "examples:" in out


def test_subprocess_error_is_one_line(tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\x00" * 64)
    result = subprocess.run([sys.executable, "-m", "edgelite.cli", "inspect", str(bad)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and result.stdout == ""
    assert_one_line_error(result.stderr, "cannot read model")


@needs_models
def test_subprocess_inspect_json():
    result = subprocess.run([sys.executable, "-m", "edgelite.cli", "inspect", str(MODELS / DIGITS), "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ops"]["CONV_2D"] == 3


@needs_models
@pytest.mark.parametrize("name", [n for n in ALL_MODELS if n not in FLOAT_MODELS])
def test_run_quantized_models_succeed_or_fail_cleanly(capsys, tmp_path, name):
    code, out, err = cli(capsys, "run", MODELS / name, "--output-dir", tmp_path, "--json")
    if code == 0:
        assert len(json.loads(out)["outputs"]) == len(list(tmp_path.glob("output_*.npy")))
    else:
        assert code == 1
        assert_one_line_error(err, "cannot prepare model", name)


@needs_models
def test_inspect_reports_unsupported_op_instead_of_crashing(capsys, tmp_path):
    import edgelite

    model = edgelite.load(MODELS / DIGITS)
    op = model.subgraphs[0].operators[0]
    op.opcode, op.custom_code, op.options, op.custom_options = "CUSTOM", "NoSuchCustomOp", None, b""
    path = tmp_path / "custom.tflite"
    model.save(str(path))
    code, out, err = cli(capsys, "inspect", path, "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["arena"] is None and "NoSuchCustomOp" in info["arena_error"]
    assert info["unsupported_ops"] == ["NoSuchCustomOp"] and info["ops"]["NoSuchCustomOp"] == 1
    code, out, err = cli(capsys, "inspect", path)
    assert code == 0 and "NoSuchCustomOp (unsupported)" in out
    code, _, err = cli(capsys, "run", path)
    assert code == 1
    assert_one_line_error(err, "cannot prepare model", "NoSuchCustomOp")


def test_random_inputs_follow_the_documented_rule():
    from edgelite.model.ir import Tensor, TensorType
    from edgelite.tools.run import random_input

    rng = np.random.default_rng(0)
    floats = random_input(Tensor("f", (1000,), TensorType.FLOAT32), rng)
    assert floats.dtype == np.float32 and 0 <= floats.min() and floats.max() < 1
    ints = random_input(Tensor("i", (5000,), TensorType.INT8), rng)
    assert ints.dtype == np.int8 and ints.min() == -128 and ints.max() == 127
    flags = random_input(Tensor("b", (100,), TensorType.BOOL), rng)
    assert flags.dtype == bool and flags.any() and not flags.all()


def test_output_file_names_are_sanitized():
    from edgelite.tools._common import sanitize

    assert sanitize("StatefulPartitionedCall_1:0") == "StatefulPartitionedCall_1_0"
    assert sanitize("../../etc/passwd") == "etc_passwd"
    assert sanitize(":::") == "tensor"
