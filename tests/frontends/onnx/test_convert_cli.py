"""`edgelite convert`: writes the .tflite, prints the summary, reports bad usage and unsupported ops."""

from __future__ import annotations

import json

import numpy as np
import onnx
from onnx import TensorProto, helper

from edgelite.cli import main
from tests.frontends.onnx.common import make_model


def write_conv(path, batch="N"):
    w = np.random.default_rng(0).standard_normal((4, 3, 3, 3)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["y"])]
    onnx.save(make_model(nodes, [("x", (batch, 3, 8, 8), TensorProto.FLOAT)], ["y"], {"w": w}), path)


def test_convert_writes_model_and_summary(tmp_path, capsys):
    source, target = tmp_path / "m.onnx", tmp_path / "m.tflite"
    write_conv(source)
    assert main(["convert", str(source), "-o", str(target)]) == 0
    out = capsys.readouterr().out
    assert "ops: 2 ONNX -> 3 TFLite" in out and "transposes left: 2" in out and "wrote" in out
    import edgelite

    interpreter = edgelite.Interpreter(model_path=str(target))
    assert interpreter.get_input_details()[0]["name"] == "x"


def test_convert_json_nhwc_and_pinned_shape(tmp_path, capsys):
    source, target = tmp_path / "m.onnx", tmp_path / "m.tflite"
    write_conv(source)
    assert main(["convert", str(source), "-o", str(target), "--nhwc-io", "--input-shape", "x=2,3,8,8",
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["transposes"] == 0 and summary["ops_out"] == 1 and summary["ops_in"] == 2
    import edgelite

    detail = edgelite.Interpreter(model_path=str(target)).get_input_details()[0]
    assert tuple(detail["shape"]) == (2, 8, 8, 3)


def test_convert_errors(tmp_path, capsys):
    source = tmp_path / "m.onnx"
    write_conv(source)
    assert main(["convert", str(source), "-o", str(tmp_path / "o.tflite"), "--input-shape", "x:1"]) == 2
    assert "NAME=D0,D1" in capsys.readouterr().err
    assert main(["convert", str(tmp_path / "missing.onnx"), "-o", str(tmp_path / "o.tflite")]) == 1
    assert "does not exist" in capsys.readouterr().err
    nodes = [helper.make_node("Det", ["x"], ["y"], name="det")]
    onnx.save(make_model(nodes, [("x", (3, 3), TensorProto.FLOAT)], ["y"]), source)
    assert main(["convert", str(source), "-o", str(tmp_path / "o.tflite")]) == 1
    assert "Det" in capsys.readouterr().err
    assert main(["convert", str(source), "-o", str(tmp_path / "o.tflite"), "--allow-custom-ops"]) == 0
    assert "custom ops kept: Det" in capsys.readouterr().out
