"""Malformed files: each one loads or raises ModelError (never another exception, a hang or a huge
allocation), and hand-made defects raise ModelError saying what is wrong."""

from __future__ import annotations

import math
import struct
import tracemalloc
from pathlib import Path

import flatbuffers
import numpy as np
import pytest
import tflite
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import edgelite
from edgelite import ModelError
from tests.model.differential import assert_readers_agree
from tests.model.tiny import tiny_model

MODELS = Path(__file__).parents[2].parent / "shared" / "models"
FUZZED_MODELS = [MODELS / name for name in ("digits_cnn_int8.tflite", "digits_cnn_float16.tflite",
                                          "face_detection_short_range.tflite", "mnv2_035_96_int8.tflite")]
FUZZED_MODELS = [path for path in FUZZED_MODELS if path.exists()]
needs_models = pytest.mark.skipif(not FUZZED_MODELS, reason=f"no test models in {MODELS}")
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load_or_model_error(data: bytes) -> None:
    """Load hostile bytes: a Model whose constants all view cleanly, or a ModelError; the peak
    allocation stays proportional to the input."""
    tracemalloc.start()
    try:
        model = edgelite.load(data)
        for graph in model.subgraphs:
            for tensor in graph.tensors:
                model.constant(tensor)
    except ModelError as error:
        assert str(error)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < 2_000_000 + 200 * len(data), f"loading {len(data)} bytes allocated {peak}"
    assert_readers_agree(data)


def _structure_positions(data: bytes) -> np.ndarray:
    """Byte positions outside constant data, where a corruption changes the model's structure."""
    keep = np.ones(len(data), bool)
    base = np.frombuffer(data, np.uint8).__array_interface__["data"][0]
    for buffer in edgelite.load(data).buffers:
        if buffer is not None:
            start = buffer.__array_interface__["data"][0] - base
            keep[start:start + buffer.size] = False
    return np.flatnonzero(keep)

def _strings(*items: bytes, count: int | None = None, offsets: list[int] | None = None) -> bytes:
    header = 4 * (len(items) + 2)
    if offsets is None:
        offsets = list(np.cumsum([header, *map(len, items)]))
    count = len(items) if count is None else count
    return struct.pack(f"<I{len(offsets)}i", count, *offsets) + b"".join(items)

def _csr(segments, indices, dense=1) -> dict:
    return {"traversal_order": [0, 1], "block_map": [],
            "dims": [(0, dense, None, None), (1, 0, segments, indices)]}


REAL = {path.name: path.read_bytes() for path in FUZZED_MODELS}
TARGETS = {
    "tiny": tiny_model(),
    "tiny_external": tiny_model(external=True),
    "tiny_custom": tiny_model(builtin_code=32, custom_code="MyOp", custom_options=b"\x01\x02\x03"),
    "tiny_per_channel": tiny_model(const_quant={"scale": [0.5] * 4, "zero_point": [0] * 4,
                                                "quantized_dimension": 1}),
    "tiny_sparse": tiny_model(const_sparsity=_csr([0, 2], [1, 3]), const_data=bytes(8)),
    "tiny_strings": tiny_model(const_type=5, const_shape=(2,), const_data=_strings(b"ab", b"c")),
    **REAL,
}
POSITIONS = {name: _structure_positions(data) for name, data in TARGETS.items()}


@needs_models
@FUZZ
@given(name=st.sampled_from(sorted(REAL)), fraction=st.floats(0, 1, exclude_max=True))
def test_truncated_models(name: str, fraction: float) -> None:
    data = REAL[name]
    load_or_model_error(data[:int(len(data) * fraction)])


@FUZZ
@given(data=st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    load_or_model_error(data)


@FUZZ
@given(root=st.integers(0, 4096), rest=st.binary(min_size=8, max_size=4096))
def test_random_bytes_behind_a_tflite_header(root: int, rest: bytes) -> None:
    load_or_model_error(struct.pack("<I", root) + b"TFL3" + rest)


@FUZZ
@given(name=st.sampled_from(sorted(TARGETS)), data=st.data())
def test_overwritten_bytes(name: str, data: st.DataObject) -> None:
    model = bytearray(TARGETS[name])
    positions = POSITIONS[name]
    edits = data.draw(st.lists(st.tuples(st.integers(0, len(positions) - 1), st.integers(0, 255)),
                               min_size=1, max_size=8))
    for index, value in edits:
        model[positions[index]] = value
    load_or_model_error(bytes(model))


@FUZZ
@given(name=st.sampled_from(sorted(TARGETS)), data=st.data())
def test_flipped_bits(name: str, data: st.DataObject) -> None:
    model = bytearray(TARGETS[name])
    positions = POSITIONS[name]
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(positions) - 1), st.integers(0, 7)),
                               min_size=1, max_size=4))
    for index, bit in flips:
        model[positions[index]] ^= 1 << bit
    load_or_model_error(bytes(model))


@FUZZ
@given(name=st.sampled_from(sorted(TARGETS)), data=st.data())
def test_overwritten_words(name: str, data: st.DataObject) -> None:
    """Offsets and lengths are 32-bit words: replace aligned words with extreme values."""
    model = bytearray(TARGETS[name])
    words = data.draw(st.lists(st.tuples(st.integers(0, len(model) // 4 - 1),
                                         st.sampled_from([0, 1, 4, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
                                                          len(model), len(model) - 4])),
                               min_size=1, max_size=3))
    for word, value in words:
        model[4 * word:4 * word + 4] = struct.pack("<I", value)
    load_or_model_error(bytes(model))


def expect(message: str, data: bytes) -> None:
    """Loading `data` raises ModelError matching `message`; the native walker rejects it too."""
    with pytest.raises(ModelError, match=message):
        edgelite.load(data)
    assert_readers_agree(data)


def test_tiny_model_loads() -> None:
    edgelite.load(tiny_model())
    edgelite.load(tiny_model(op_inputs=(0, -1)))  # -1: an omitted optional input


@pytest.mark.parametrize(("spec", "message"), [
    ({"const_buffer": 99},
     r"tensor 1 \('c'\) of subgraph 0 refers to buffer 99 but the model has 4 buffers"),
    ({"opcode_index": 5}, "operator 0 of subgraph 0 uses operator code 5 but the model has 1 operator codes"),
    ({"builtin_code": -5}, "operator code 0 has negative builtin code -5"),
    ({"builtin_code": 32}, "operator code 0 is a custom operator without a custom_code"),
    ({"op_inputs": (0, 7)}, r"operator 0 \(ADD\) of subgraph 0: inputs\[1\] is tensor 7, but the subgraph "
                            "has 3 tensors"),
    ({"op_inputs": (0, -2)}, r"inputs\[1\] is tensor -2"),
    ({"op_outputs": (-1,)}, r"operator 0 \(ADD\) of subgraph 0: outputs\[0\] is tensor -1"),
    ({"graph_inputs": (3,)}, r"subgraph 0: inputs\[0\] is tensor 3, but the subgraph has 3 tensors"),
    ({"graph_outputs": (0, 12)}, r"subgraph 0: outputs\[1\] is tensor 12"),
    ({"const_shape": (1, -4)},
     r"tensor 1 \('c'\) of subgraph 0 has a negative dimension in its shape \[1, -4\]"),
    ({"const_shape": (1,) * 17}, "has a shape of rank 17; TFLite allows at most 16"),
    ({"const_shape": (2**31 - 1,) * 3, "const_data": bytes(16)}, "elements is too many to address"),
    ({"const_shape": (2, 4), "const_data": bytes(16)},
     r"needs 32 bytes of constant data but its buffer 1 holds 16"),
    ({"const_data": bytes(12)}, r"\(FLOAT32, shape \[1, 4\]\) needs 16 bytes of constant data but its "
                                "buffer 1 holds 12"),
    ({"const_type": 99}, r"tensor 1 \('c'\) of subgraph 0 has type 99, which the TFLite schema"),
    ({"const_shape_signature": (-1, -2)}, r"negative dimension in its shape_signature \[-1, -2\]"),
    ({"const_shape_signature": (-1,)}, "of another rank"),
    ({"signature_tensor": 9}, r"signature def 0 \('serving_default'\): output 'y' is tensor 9, but "
                              "subgraph 0 has 3 tensors"),
    ({"signature_subgraph": 2}, "refers to subgraph 2 but the model has 1 subgraphs"),
    ({"metadata_buffer": 10}, "metadata 'meta' refers to buffer 10 but the model has 4 buffers"),
    ({"version": 4}, "schema version 4; edgelite reads versions up to 3"),
    ({"identifier": b"ABCD"}, "file identifier is 'ABCD', not 'TFL3'"),
    ({"options_type": 250}, r"builtin options of type 250, which the TFLite schema does not define"),
    ({"const_quant": {"scale": [0.5, 0.5], "zero_point": [0]}},
     "has 2 quantization scales but 1 zero points"),
    ({"const_quant": {"scale": [0.5], "zero_point": [0], "quantized_dimension": 2}},
     "has quantized_dimension 2, outside its rank-2 shape"),
    ({"const_quant": {"scale": [0.5] * 3, "zero_point": [0] * 3, "quantized_dimension": 1}},
     r"has 3 per-channel scales but dimension 1 of its shape \[1, 4\] has 4 channels"),
])
def test_defect_is_named(spec: dict, message: str) -> None:
    expect(message, tiny_model(**spec))


def test_valid_variants_load() -> None:
    quant = {"scale": [0.5] * 4, "zero_point": [0] * 4, "quantized_dimension": 1}
    model = edgelite.load(tiny_model(const_quant=quant))
    assert model.subgraphs[0].tensors[1].quantization.per_channel
    assert edgelite.load(tiny_model(identifier=b"")).description == "tiny"
    custom = edgelite.load(tiny_model(builtin_code=32, custom_code="MyOp", custom_options=b"\x01\x02"))
    op = custom.subgraphs[0].operators[0]
    assert (op.opcode, op.name, op.custom_options) == ("CUSTOM", "MyOp", b"\x01\x02")




def test_string_constants() -> None:
    model = edgelite.load(tiny_model(const_type=5, const_shape=(2,), const_data=_strings(b"ab", b"c")))
    assert model.constant(model.subgraphs[0].tensors[1]).tobytes().endswith(b"abc")
    expect("string constant whose buffer has 2 bytes", tiny_model(const_type=5, const_shape=(2,),
                                                                    const_data=b"ab"))
    expect("claims 1000 strings", tiny_model(const_type=5, const_shape=(2,),
                                             const_data=_strings(b"ab", b"c", count=1000)))
    expect("shape with 3 elements but its buffer holds 2 strings",
           tiny_model(const_type=5, const_shape=(3,), const_data=_strings(b"ab", b"c")))
    bad_offsets = _strings(b"ab", b"c", offsets=[16, 20, 19])
    expect("string offsets that are not increasing from 16 to 19",
           tiny_model(const_type=5, const_shape=(2,), const_data=bad_offsets))




def test_sparse_constants() -> None:
    model = edgelite.load(tiny_model(const_sparsity=_csr([0, 2], [1, 3]), const_data=bytes(8)))
    sparsity = model.subgraphs[0].tensors[1].sparsity
    assert sparsity.dim_metadata[1].array_indices.tolist() == [1, 3]
    expect(r"needs 8 bytes of constant data but its buffer 1 holds 16",
           tiny_model(const_sparsity=_csr([0, 2], [1, 3])))
    expect("inconsistent CSR segments or indices at sparsity level 1",
           tiny_model(const_sparsity=_csr([0, 2], [1, 4]), const_data=bytes(8)))
    expect("inconsistent CSR", tiny_model(const_sparsity=_csr([0, 3], [1, 2]), const_data=bytes(12)))
    expect("dense sparsity level 0 of size 2, expected 1",
           tiny_model(const_sparsity=_csr([0, 2], [1, 3], dense=2), const_data=bytes(8)))
    expect("traversal_order", tiny_model(const_sparsity={**_csr([0, 2], [1, 3]), "traversal_order": [1, 1]},
                                         const_data=bytes(8)))
    expect("without valid segments and indices",
           tiny_model(const_sparsity=_csr(None, [1, 3]), const_data=bytes(8)))


def test_external_buffer_past_the_end() -> None:
    data = tiny_model(external=True)
    expect(rf"buffer 1 lies at bytes {len(data) - 16}\.\.{len(data)}, past the end of the "
           f"{len(data) - 4}-byte file", data[:-4])


def test_short_and_empty_inputs(tmp_path: Path) -> None:
    expect("the input has 3 bytes, too few for a TFLite model", b"abc")
    (tmp_path / "empty.tflite").write_bytes(b"")
    expect("empty.tflite is empty", tmp_path / "empty.tflite")
    with pytest.raises(TypeError):
        edgelite.load(42)
    with pytest.raises(FileNotFoundError, match="missing.tflite"):
        edgelite.load(tmp_path / "missing.tflite")
    with pytest.raises(IsADirectoryError, match=str(tmp_path)):
        edgelite.load(tmp_path)


def _vector_length_at(data: bytes, table: object, slot: int) -> int:
    """The file position of the length word of the vector in `slot` of a generated table."""
    tab = table._tab
    return tab.Vector(tab.Offset(slot)) - 4


@pytest.mark.parametrize(("where", "message"), [
    ("tensors", "subgraph 0: its tensors vector claims 2147483647 elements, more than the file holds"),
    ("shape", r"tensor 1 \('c'\) of subgraph 0: its shape vector claims 2147483647 elements"),
    ("buffers", "the model table: its buffers vector claims"),
])
def test_huge_vector_length(where: str, message: str) -> None:
    data = bytearray(tiny_model())
    model = tflite.Model.GetRootAs(data)
    table, slot = {"tensors": (model.Subgraphs(0), 4), "shape": (model.Subgraphs(0).Tensors(1), 4),
                   "buffers": (model, 12)}[where]
    position = _vector_length_at(data, table, slot)
    data[position:position + 4] = struct.pack("<I", 0x7FFFFFFF)
    expect(message, bytes(data))


def test_invalid_utf8_name() -> None:
    data = tiny_model()
    assert data.count(b"\x01\x00\x00\x00c\x00") == 1
    expect(r"tensor 1 of subgraph 0: its name is not valid UTF-8",
           data.replace(b"\x01\x00\x00\x00c\x00", b"\x01\x00\x00\x00\xff\x00"))


def test_aliased_strings_cannot_blow_up_memory() -> None:
    """Many tensors naming one huge string decode to far more than the file: refused early."""
    b = flatbuffers.Builder(0)
    name = b.CreateString("n" * 100_000)
    shape = b.CreateNumpyVector(np.zeros(0, np.int32))
    tensors = []
    for _ in range(2000):
        tflite.TensorStart(b)
        tflite.TensorAddName(b, name)
        tflite.TensorAddShape(b, shape)
        tensors.append(tflite.TensorEnd(b))
    b.StartVector(4, len(tensors), 4)
    for tensor in reversed(tensors):
        b.PrependUOffsetTRelative(tensor)
    vector = b.EndVector()
    tflite.SubGraphStart(b)
    tflite.SubGraphAddTensors(b, vector)
    subgraph = tflite.SubGraphEnd(b)
    b.StartVector(4, 1, 4)
    b.PrependUOffsetTRelative(subgraph)
    subgraphs = b.EndVector()
    tflite.ModelStart(b)
    tflite.ModelAddVersion(b, 3)
    tflite.ModelAddSubgraphs(b, subgraphs)
    b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
    data = bytes(b.Output())
    assert math.prod([2000, 100_000]) > 100 * len(data)
    expect("overlap so much that decoding them needs more than four times the file size", data)
    load_or_model_error(data)


def test_model_without_subgraphs() -> None:
    b = flatbuffers.Builder(0)
    tflite.ModelStart(b)
    tflite.ModelAddVersion(b, 3)
    b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
    expect("the model has no subgraphs", bytes(b.Output()))


def test_non_contiguous_memoryview_is_copied() -> None:
    data = tiny_model()
    doubled = bytes(np.repeat(np.frombuffer(data, np.uint8), 2))
    model = edgelite.load(memoryview(doubled)[::2])
    np.testing.assert_array_equal(model.constant(model.subgraphs[0].tensors[1]), [[0, 1, 2, 3]])
