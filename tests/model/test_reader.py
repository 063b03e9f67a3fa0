"""The reader against the real models, with LiteRT's view of the same files as the oracle."""

from __future__ import annotations

import mmap
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

import edgelite
from edgelite.model.ir import Model, TensorType
from edgelite.model.options import RawOptions
from tests.model.differential import assert_same
from tests.model.tiny import tiny_model

MODELS = Path(__file__).parents[2].parent / "shared" / "models"
ALL_MODELS = sorted(MODELS.glob("*.tflite")) if MODELS.is_dir() else []
every_model = pytest.mark.parametrize("path", ALL_MODELS, ids=lambda p: p.name)
pytestmark = pytest.mark.skipif(not ALL_MODELS, reason=f"no test models in {MODELS}")


def litert(source: Path | bytes) -> Interpreter:
    """LiteRT with its default resolver, whose XNNPACK delegate also runs MediaPipe's deconv op."""
    where = {"model_path": str(source)} if isinstance(source, Path) else {"model_content": source}
    return Interpreter(**where)


@every_model
def test_tensors_match_litert(path: Path) -> None:
    model = edgelite.load(path)
    graph = model.subgraphs[0]
    details = litert(path).get_tensor_details()
    assert len(details) == len(graph.tensors)
    for detail in details:
        tensor = graph.tensors[detail["index"]]
        assert tensor.name == detail["name"]
        assert tensor.shape == tuple(detail["shape"])
        assert (tensor.shape_signature or tensor.shape) == tuple(detail["shape_signature"])
        assert tensor.dtype == np.dtype(detail["dtype"])
        params = detail["quantization_parameters"]
        quant = tensor.quantization
        if quant is None:
            assert params["scales"].size == 0
            continue
        np.testing.assert_array_equal(quant.scale, params["scales"])
        np.testing.assert_array_equal(quant.zero_point, params["zero_points"])
        assert quant.quantized_dimension == params["quantized_dimension"]


@every_model
def test_operators_and_signatures_match_litert(path: Path) -> None:
    model = edgelite.load(path)
    interpreter = litert(path)
    ops = interpreter._get_ops_details()
    graph = model.subgraphs[0]
    assert [op.name for op in graph.operators] == [op["op_name"] for op in ops]
    for op, detail in zip(graph.operators, ops, strict=True):
        assert op.inputs == tuple(detail["inputs"]) and op.outputs == tuple(detail["outputs"])
        assert op.options is None or not isinstance(op.options, RawOptions) or op.opcode == "CUSTOM"
    assert [i["index"] for i in interpreter.get_input_details()] == list(graph.inputs)
    assert [o["index"] for o in interpreter.get_output_details()] == list(graph.outputs)
    assert {s.key for s in model.signatures} == set(interpreter.get_signature_list())
    for signature in model.signatures:
        runner = interpreter.get_signature_runner(signature.key)
        assert signature.inputs == {k: v["index"] for k, v in runner.get_input_details().items()}
        assert signature.outputs == {k: v["index"] for k, v in runner.get_output_details().items()}


@every_model
def test_constants_match_litert(path: Path) -> None:
    model = edgelite.load(path)
    interpreter = litert(path)  # LiteRT reads constants before allocate_tensors (custom ops)
    constants = 0
    for index, tensor in enumerate(model.subgraphs[0].tensors):
        value = model.constant(tensor)
        if value is not None:
            np.testing.assert_array_equal(value, interpreter.get_tensor(index))
            constants += 1
    assert constants > 0


def _owner(array: np.ndarray) -> object:
    """The object at the bottom of an array's base chain (what its memory belongs to)."""
    while isinstance(array, np.ndarray) and array.base is not None:
        array = array.base
    return array.obj if isinstance(array, memoryview) else array


@every_model
def test_constants_are_read_only_views_of_the_mapped_file(path: Path) -> None:
    model = edgelite.load(path)
    assert model.buffers[0] is None
    data = [b for b in model.buffers if b is not None]
    assert data
    mapped = _owner(data[0])
    assert isinstance(mapped, mmap.mmap)
    whole = np.frombuffer(mapped, np.uint8)
    assert len(mapped) == path.stat().st_size
    for buffer in data:
        assert buffer.dtype == np.uint8 and not buffer.flags.writeable
        assert _owner(buffer) is mapped and np.shares_memory(buffer, whole)


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_constants_are_views_of_the_given_bytes(kind: type) -> None:
    source = kind(ALL_MODELS[0].read_bytes())
    model = edgelite.load(source)
    whole = np.frombuffer(source, np.uint8)
    data = [b for b in model.buffers if b is not None]
    assert data and all(np.shares_memory(b, whole) and not b.flags.writeable for b in data)


@every_model
def test_round_trip_is_lossless(path: Path) -> None:
    model = edgelite.load(path)
    again = edgelite.load(model.to_bytes())
    assert_same(model, again)
    assert_same(again, edgelite.load(again.to_bytes()))


@every_model
def test_round_trip_runs_identically_in_litert(path: Path) -> None:
    original, rewritten = litert(path), litert(edgelite.load(path).to_bytes())
    original.allocate_tensors()
    rewritten.allocate_tensors()
    rng = np.random.default_rng(0)
    for detail in original.get_input_details():
        dtype = np.dtype(detail["dtype"])
        if dtype.kind == "f":
            value = rng.random(detail["shape"], dtype=np.float32).astype(dtype)
        else:
            info = np.iinfo(dtype)
            value = rng.integers(info.min, info.max, detail["shape"], dtype=dtype, endpoint=True)
        original.set_tensor(detail["index"], value)
        rewritten.set_tensor(detail["index"], value)
    original.invoke()
    rewritten.invoke()
    for detail in original.get_output_details():
        np.testing.assert_array_equal(original.get_tensor(detail["index"]),
                                      rewritten.get_tensor(detail["index"]))


def test_model_fields() -> None:
    path = MODELS / "digits_cnn_int8.tflite"
    if not path.exists():
        pytest.skip(f"{path.name} is missing")
    model = edgelite.load(path)
    assert model.version == 3 and model.description == "MLIR Converted."
    assert set(model.metadata) == {"min_runtime_version", "CONVERSION_METADATA"}
    assert model.metadata_bytes("min_runtime_version").rstrip(b"\0").decode().count(".") == 2
    graph = model.subgraphs[0]
    conv = next(op for op in graph.operators if op.opcode == "CONV_2D")
    assert conv.version == 3 and conv.options.stride_h >= 1
    weights = graph.tensors[conv.inputs[1]]
    assert weights.type == TensorType.INT8 and weights.quantization.per_channel
    assert model.constant(weights).shape == weights.shape


def test_custom_op_keeps_code_and_options() -> None:
    path = MODELS / "selfie_segmentation.tflite"
    if not path.exists():
        pytest.skip(f"{path.name} is missing")
    ops = [op for op in edgelite.load(path).subgraphs[0].operators if op.opcode == "CUSTOM"]
    assert ops and all(op.custom_code == "Convolution2DTransposeBias" for op in ops)
    assert all(op.options is None and isinstance(op.custom_options, bytes) for op in ops)


def test_external_buffer_is_read_by_offset_and_size(tmp_path: Path) -> None:
    inline, external = tiny_model(), tiny_model(external=True)
    (tmp_path / "external.tflite").write_bytes(external)
    for source in (external, tmp_path / "external.tflite"):
        model = edgelite.load(source)
        constant = model.constant(model.subgraphs[0].tensors[1])
        np.testing.assert_array_equal(constant, [[0, 1, 2, 3]])
        assert _owner(model.buffers[1]) is not None and not model.buffers[1].flags.writeable
        assert_same(model, edgelite.load(inline))
    interpreter = litert(external)
    interpreter.allocate_tensors()
    interpreter.set_tensor(0, np.ones((1, 4), np.float32))
    interpreter.invoke()
    np.testing.assert_array_equal(interpreter.get_tensor(2), [[1, 2, 3, 4]])


def test_tiny_model_round_trip() -> None:
    model = edgelite.load(tiny_model())
    assert isinstance(model, Model)
    assert model.signatures[0].inputs == {"x": 0} and model.signatures[0].outputs == {"y": 2}
    assert model.metadata_bytes("meta") == b"meta"
    assert model.subgraphs[0].operators[0].options.fused_activation_function == 0
    assert_same(model, edgelite.load(model.to_bytes()))


def test_builtin_code_newer_than_schema_loads_round_trips_and_fails_at_allocate():
    import edgelite
    from edgelite.model.ir import Model, Operator, Subgraph, Tensor

    tensors = [Tensor("x", (2,)), Tensor("y", (2,))]
    model = Model(subgraphs=[Subgraph(tensors, (0,), (1,), [Operator("BUILTIN_999", (0,), (1,))])])
    loaded = edgelite.load(model.to_bytes())
    assert loaded.subgraphs[0].operators[0].opcode == "BUILTIN_999"
    assert edgelite.load(loaded.to_bytes()).subgraphs[0].operators[0].opcode == "BUILTIN_999"
    interpreter = edgelite.Interpreter(model_content=loaded.to_bytes())
    with pytest.raises(edgelite.UnsupportedOpError, match=r"BUILTIN_999 \(node 0\)"):
        interpreter.allocate_tensors()
