"""edgelite.quantize on real models: the digits CNN (scikit-learn's handwritten digits) in every
mode and MobileNetV2 in int8, checked in LiteRT (accuracy, size against TensorFlow's converter,
TFLite's conventions) and against edgelite's own kernels (identical integers)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

import edgelite
from edgelite.errors import UnsupportedOpError
from edgelite.model.ir import TensorType

litert = pytest.importorskip("ai_edge_litert.interpreter",
                             reason="ai-edge-litert (the oracle) is not installed")
MODELS = Path(__file__).parents[2].parent / "shared" / "models"
DIGITS = MODELS / "digits_cnn_float32.tflite"
MNV2 = MODELS / "mnv2_035_96_float32.tflite"
TF_FILES = {"int8": "digits_cnn_int8.tflite", "dynamic": "digits_cnn_dynamic_int8.tflite",
            "float16": "digits_cnn_float16.tflite"}
ALLOWED_LOSS = {"int8": 1.0, "int16x8": 1.0, "dynamic": 0.5, "float16": 0.5}  # accuracy points
TRAINING = 1400  # the first 1400 digits trained the model
IDENTICAL_SAMPLES = 60  # test images run through both runtimes

needs_models = pytest.mark.skipif(not DIGITS.is_file(), reason=f"shared test models not found in {MODELS}")
pytestmark = needs_models


@functools.cache
def digits() -> tuple[np.ndarray, np.ndarray]:
    datasets = pytest.importorskip("sklearn.datasets")
    data = datasets.load_digits()
    images = np.kron(data.images / 16.0, np.ones((2, 2))).astype(np.float32)[..., None]
    return images, data.target


def calibration_set() -> list[list[np.ndarray]]:
    """200 training images (every 7th of the first 1400)."""
    images, _ = digits()
    return [[images[i:i + 1]] for i in range(0, TRAINING, 7)]


@functools.cache
def quantized(mode: str) -> tuple[bytes, edgelite.QuantizationReport]:
    model, report = edgelite.quantize(str(DIGITS), mode, calibration_data=calibration_set(),
                                      return_report=True, progress=False)
    return model.to_bytes(), report


def oracle(content: bytes):
    resolver = litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    interpreter = litert.Interpreter(model_content=content, experimental_op_resolver_type=resolver)
    interpreter.allocate_tensors()
    return interpreter


def predict(interpreter, image: np.ndarray) -> np.ndarray:
    detail_in, detail_out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.set_tensor(detail_in["index"], image)
    interpreter.invoke()
    return interpreter.get_tensor(detail_out["index"])


@functools.cache
def accuracy(content: bytes) -> float:
    images, labels = digits()
    interpreter = oracle(content)
    hits = sum(int(predict(interpreter, images[i:i + 1]).argmax() == labels[i])
               for i in range(TRAINING, len(images)))
    return 100.0 * hits / (len(images) - TRAINING)


MODES = ["int8", "int16x8", "dynamic", "float16"]


@pytest.mark.parametrize("mode", MODES)
def test_accuracy_in_litert(mode: str) -> None:
    float_accuracy = accuracy(DIGITS.read_bytes())
    ours = accuracy(quantized(mode)[0])
    assert ours >= float_accuracy - ALLOWED_LOSS[mode], f"{mode}: {ours:.2f}% vs float {float_accuracy:.2f}%"


@pytest.mark.parametrize("method", ["moving_average", "percentile", "mse"])
def test_calibration_methods_keep_int8_accuracy(method: str) -> None:
    model = edgelite.quantize(DIGITS, "int8", calibration_data=calibration_set(), calibration=method,
                              progress=False)
    assert accuracy(model.to_bytes()) >= accuracy(DIGITS.read_bytes()) - ALLOWED_LOSS["int8"]


@pytest.mark.parametrize("mode", MODES)
def test_no_larger_than_tensorflow_converter(mode: str) -> None:
    content, report = quantized(mode)
    assert report.size_after == len(content) < report.size_before
    if mode in TF_FILES:  # TensorFlow's int16x8 file is not among the shared models
        tf_size = (MODELS / TF_FILES[mode]).stat().st_size
        assert len(content) <= tf_size, f"{mode}: {len(content)} bytes > TensorFlow's {tf_size}"


@pytest.mark.parametrize("mode", MODES)
def test_edgelite_matches_litert(mode: str) -> None:
    content, _ = quantized(mode)
    images, _ = digits()
    try:
        ours = edgelite.Interpreter(model_content=content)
        ours.allocate_tensors()
        theirs = oracle(content)
        for i in range(TRAINING, TRAINING + IDENTICAL_SAMPLES):
            a, b = predict(ours, images[i:i + 1]), predict(theirs, images[i:i + 1])
            if mode in ("int8", "int16x8"):
                np.testing.assert_array_equal(a, b, err_msg=f"{mode}, image {i}")
            else:
                np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-3, err_msg=f"{mode}, image {i}")
    except UnsupportedOpError as error:
        pytest.skip(f"edgelite cannot run it yet: {error}")


@pytest.mark.parametrize(("mode", "io_type"), [("int8", np.int8), ("int16x8", np.int16)])
def test_edgelite_matches_litert_with_integer_io(mode: str, io_type: type) -> None:
    """The all-integer graph (no QUANTIZE/DEQUANTIZE): every node is an integer kernel."""
    model = edgelite.quantize(DIGITS, mode, calibration_data=calibration_set(), input_type=io_type,
                              output_type=io_type, progress=False)
    content = model.to_bytes()
    assert {op.opcode for op in model.subgraphs[0].operators}.isdisjoint({"QUANTIZE", "DEQUANTIZE"})
    images, _ = digits()
    theirs = oracle(content)
    scale, zero = theirs.get_input_details()[0]["quantization"]
    info = np.iinfo(io_type)
    try:
        ours = edgelite.Interpreter(model_content=content)
        ours.allocate_tensors()
        for i in range(TRAINING, TRAINING + IDENTICAL_SAMPLES):
            image = np.clip(np.round(images[i:i + 1] / scale) + zero, info.min, info.max).astype(io_type)
            np.testing.assert_array_equal(predict(ours, image), predict(theirs, image), err_msg=f"image {i}")
    except UnsupportedOpError as error:
        pytest.skip(f"edgelite cannot run it yet: {error}")


def test_int8_follows_tensorflow_converter() -> None:
    """Same graph as TensorFlow's int8 file: op sequence and versions, tensor types, weights."""
    ours = edgelite.load(quantized("int8")[0]).subgraphs[0]
    tf_model = edgelite.load(MODELS / "digits_cnn_int8.tflite")
    tf = tf_model.subgraphs[0]
    assert [(op.opcode, op.version) for op in ours.operators] == \
        [(op.opcode, op.version) for op in tf.operators]
    for a, b in zip(ours.operators, tf.operators, strict=True):
        types_a = [ours.tensors[i].type if i >= 0 else None for i in (*a.inputs, *a.outputs)]
        types_b = [tf.tensors[i].type if i >= 0 else None for i in (*b.inputs, *b.outputs)]
        assert types_a == types_b, a.opcode
    ours_model = edgelite.load(quantized("int8")[0])
    for a, b in zip(ours.operators, tf.operators, strict=True):
        if a.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            wa, wb = ours.tensors[a.inputs[1]], tf.tensors[b.inputs[1]]
            np.testing.assert_array_equal(ours_model.constant(wa), tf_model.constant(wb))
            np.testing.assert_allclose(wa.quantization.scale, wb.quantization.scale, rtol=1e-6)
            assert wa.quantization.quantized_dimension == wb.quantization.quantized_dimension


def test_report_says_what_happened() -> None:
    _, report = quantized("int8")
    float_ops = [op.opcode for op in edgelite.load(DIGITS).subgraphs[0].operators]
    assert [op.opcode for op in report.quantized] == float_ops
    assert report.inserted == {"QUANTIZE": 1, "DEQUANTIZE": 1} and report.samples == 200
    softmax = report.ops[-1]
    assert softmax.opcode == "SOFTMAX" and "1/256" in softmax.reason
    _, dynamic = quantized("dynamic")
    kept = {op.index: op.reason for op in dynamic.kept_float}
    assert "too small" in kept[0] and "no weights" in kept[3]
    assert "int8" in str(report) and report.to_dict()["mode"] == "int8"


def test_int16x8_conventions() -> None:
    model = edgelite.load(quantized("int16x8")[0])
    graph = model.subgraphs[0]
    for op in graph.operators:
        if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            x, w, b, y = (graph.tensors[i] for i in (*op.inputs, op.outputs[0]))
            assert (x.type, w.type, b.type, y.type) == (TensorType.INT16, TensorType.INT8, TensorType.INT64,
                                                         TensorType.INT16)
            assert int(x.quantization.zero_point[0]) == 0 == int(y.quantization.zero_point[0])
        if op.opcode == "SOFTMAX":
            out = graph.tensors[op.outputs[0]].quantization
            assert float(out.scale[0]) == pytest.approx(1 / 32768) and int(out.zero_point[0]) == 0


def test_skip_keeps_ops_float() -> None:
    model, report = edgelite.quantize(DIGITS, "int8", calibration_data=calibration_set()[:20],
                                      return_report=True, skip=["SOFTMAX", 4], progress=False)
    kept = {op.index: op.reason for op in report.kept_float}
    assert set(kept) == {4, 10} and all("skipped by user" in r for r in kept.values())
    assert accuracy(model.to_bytes()) >= accuracy(DIGITS.read_bytes()) - 1.0


def test_int8_io_and_input_untouched() -> None:
    source = edgelite.load(DIGITS)
    before = source.to_bytes()
    model = edgelite.quantize(source, "int8", calibration_data=calibration_set()[:50], input_type=np.int8,
                              output_type="int8", progress=False)
    assert source.to_bytes() == before
    interpreter = oracle(model.to_bytes())
    detail_in, detail_out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    assert detail_in["dtype"] == detail_out["dtype"] == np.int8
    assert detail_out["quantization"] == pytest.approx((1 / 256, -128))
    assert model.to_bytes().__len__() <= (MODELS / "digits_cnn_int8_io.tflite").stat().st_size


def test_mobilenet_v2_int8() -> None:
    if not MNV2.is_file():
        pytest.skip("MobileNetV2 test model not found")
    rng = np.random.default_rng(0)
    samples = [[rng.uniform(-1, 1, (1, 96, 96, 3)).astype(np.float32)] for _ in range(4)]
    model, report = edgelite.quantize(MNV2, "int8", calibration_data=samples, return_report=True,
                                      progress=False)
    content = model.to_bytes()
    assert not report.kept_float
    assert len(content) <= (MODELS / "mnv2_035_96_int8.tflite").stat().st_size
    theirs = predict(oracle(content), samples[0][0])
    assert theirs.shape == (1, 10) and np.isfinite(theirs).all()
    try:
        ours = edgelite.Interpreter(model_content=content)
        ours.allocate_tensors()
    except UnsupportedOpError as error:
        pytest.skip(f"edgelite cannot run it yet: {error}")
    np.testing.assert_array_equal(predict(ours, samples[0][0]), theirs)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"mode": "int4"}, "unknown quantization mode 'int4'; choose one of int8, int16x8, dynamic, float16"),
    ({"mode": "int8"}, "needs calibration_data"),
    ({"mode": "dynamic", "calibration": "best"}, "unknown calibration method 'best'"),
    ({"mode": "dynamic", "input_type": "int8"}, "input_type=int8 is not available in mode 'dynamic'"),
    ({"mode": "int16x8", "output_type": "uint8", "calibration_data": [[np.zeros((1, 16, 16, 1))]]},
     "output_type=uint8 is not available in mode 'int16x8'; choose one of float32, int16"),
    ({"mode": "float16", "skip": ["NO_SUCH_OP"]}, "skip entries \\['NO_SUCH_OP'\\] match no op"),
])
def test_bad_requests(kwargs: dict, message: str) -> None:
    with pytest.raises(edgelite.EdgeliteError, match=message):
        edgelite.quantize(DIGITS, **kwargs)
