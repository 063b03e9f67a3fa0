"""TensorFlow Lite Micro's LUT compression: the bit layout of tflite-micro's compression.md
examples, files edgelite writes, reads back and runs like the dense model, what LiteRT does with
them, and corrupt compression data refused with ModelError."""

from __future__ import annotations

import copy
import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import edgelite
from edgelite.errors import ModelError
from edgelite.model import _lut
from edgelite.model.ir import Quantization, Tensor, TensorType
from edgelite.model.writer import write_model
from edgelite.optimize.lut import compress_lut
from tests.optimize.digits_data import (
    DIGITS,
    TRAINING,
    calibration,
    digits,
    litert_outputs,
    needs_models,
    outputs,
)


def bits(text: str) -> np.ndarray:
    return np.packbits(np.array([int(c) for c in text], np.uint8))


def test_bitstring_of_the_tflm_example() -> None:
    """compression.md: indices 7, 0, 3, 2 at 3 bits are 111 000 011 010 + 4 padding zeros."""
    packed = _lut.pack_indices(np.array([7, 0, 3, 2]), 3)
    np.testing.assert_array_equal(packed, bits("1110000110100000"))
    np.testing.assert_array_equal(_lut.unpack_indices(packed, 4, 3), [7, 0, 3, 2])


def test_tables_of_the_tflm_examples_decode() -> None:
    """compression.md's INT16 example, with one table and with two channel tables (padded)."""
    data = np.array([2, 4, 4, 10, 1, 7, 99, 10, 2, 4], np.int16)
    single = Tensor("t", (10,), TensorType.INT16, 1)
    table = np.array([99, 2, 10, 4, 1, 7], np.int16).view(np.uint8)
    packed = bits("00101101101010010100001000101100")
    np.testing.assert_array_equal(_lut.decode("t", single, packed, table, 3), data)
    channels = Tensor("t", (2, 5), TensorType.INT16, 1, Quantization.of([1.0, 1.0]))
    table = np.array([1, 10, 2, 4, 0, 99, 10, 2, 7, 4], np.int16).view(np.uint8)
    packed = bits("01001101100100001100000101010000")
    np.testing.assert_array_equal(_lut.decode("t", channels, packed, table, 3), data.reshape(2, 5))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 7), st.integers(0, 300), st.integers(0, 2**31 - 1))
def test_pack_unpack_round_trip(width: int, count: int, seed: int) -> None:
    indices = np.random.default_rng(seed).integers(0, 2**width, count)
    packed = _lut.pack_indices(indices, width)
    assert packed.size == (count * width + 7) // 8
    np.testing.assert_array_equal(_lut.unpack_indices(packed, count, width), indices)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([(4, 3, 5), (6, 2), (2, 3, 3, 4)]), st.booleans(), st.integers(1, 128),
       st.sampled_from([np.int8, np.int32, np.float32]), st.integers(0, 2**31 - 1))
def test_encode_decode_round_trip(shape: tuple, last_axis: bool, distinct: int, dtype, seed: int) -> None:
    rng = np.random.default_rng(seed)
    channels = shape[-1] if last_axis else shape[0]
    quant = Quantization.of(np.ones(channels), 0, len(shape) - 1 if last_axis else 0)
    tensor = Tensor("t", shape, TensorType.from_numpy(dtype), 1, quant if dtype != np.float32 else None)
    table = rng.choice(np.arange(-64, 64), distinct, replace=False).astype(dtype)
    values = table[rng.integers(0, distinct, shape)]
    packed, table, width = _lut.encode(values, tensor)
    assert 2 ** width >= np.unique(values).size / channels
    decoded = _lut.decode("t", tensor, packed, table.view(np.uint8), width)
    np.testing.assert_array_equal(decoded, values)


@functools.cache
def clustered_int8() -> edgelite.Model:
    """Prune 50% + 16 clusters per channel + int8 per channel: per-channel tables on axis 0 (conv,
    fully connected) and on the last axis (depthwise)."""
    model, _ = edgelite.optimize(DIGITS, prune=0.5, cluster={"clusters": 16, "per": "channel"},
                                 quantize="int8", calibration_data=calibration(), storage="dense")
    return model


@functools.cache
def clustered_float() -> edgelite.Model:
    return edgelite.cluster(DIGITS, 16)


@needs_models
@pytest.mark.parametrize("which", ["float", "int8"])
def test_lut_file_runs_in_edgelite_like_the_dense_one(which: str) -> None:
    dense = clustered_float() if which == "float" else clustered_int8()
    compressed, report = compress_lut(dense, return_report=True)
    assert report and {t.index_bits for t in report} == {4}
    content = compressed.to_bytes()
    assert len(content) < len(dense.to_bytes())
    loaded = edgelite.load(content)
    assert sum(t.lut for t in loaded.subgraphs[0].tensors) == len(report)
    assert loaded.to_bytes() == content  # reads back as it was written
    images = digits()[0][TRAINING:TRAINING + 32]
    np.testing.assert_array_equal(outputs(loaded, images), outputs(dense, images))
    interpreter = edgelite.Interpreter(model_content=content)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], images[:1])
    interpreter.invoke()
    np.testing.assert_array_equal(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]),
                                  outputs(dense, images[:1]))


@needs_models
def test_per_channel_tables_on_both_axes() -> None:
    _, report = compress_lut(clustered_int8(), return_report=True)
    graph = clustered_int8().subgraphs[0]
    axes = {graph.tensors[t.tensor].quantization.quantized_dimension for t in report if t.channels > 1}
    assert axes  # the big conv at least; per-channel tables cost 16 bytes a channel
    compressed = compress_lut(clustered_int8())
    for tensor in compressed.subgraphs[0].tensors:
        is_weight = tensor.type == TensorType.INT8 and compressed.constant(tensor) is not None
        tensor.lut = tensor.lut or is_weight
    loaded = edgelite.load(compressed.to_bytes())  # every int8 weight, depthwise (axis 3) included
    assert {t.quantization.quantized_dimension for t in loaded.subgraphs[0].tensors if t.lut} == {0, 3}
    images = digits()[0][TRAINING:TRAINING + 8]
    np.testing.assert_array_equal(outputs(loaded, images), outputs(clustered_int8(), images))


@needs_models
def test_litert_refuses_the_lut_file_and_runs_the_dense_one() -> None:
    """LiteRT does not know TFLM's compression: the packed buffers are shorter than the tensors."""
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    dense = clustered_int8()
    with pytest.raises(ValueError, match="invalidly specified"):
        litert.Interpreter(model_content=compress_lut(dense).to_bytes())
    images = digits()[0][TRAINING:TRAINING + 8]
    theirs = litert_outputs(dense.to_bytes(), images, exact=True)
    np.testing.assert_array_equal(theirs, outputs(dense, images))


def lut_parts() -> tuple[edgelite.Model, dict]:
    """The digits float model as written with LUT tensors (a Model holding the raw compressed
    buffers and metadata) and its (subgraph, tensor) -> LutEntry."""
    written = _lut.for_writing(compress_lut(clustered_float()))
    entries = _lut.entries_of(written.metadata_bytes(_lut.METADATA_NAME),
                              [len(g.tensors) for g in written.subgraphs], len(written.buffers))
    return written, entries


def with_metadata(written: edgelite.Model, subgraphs: list[list[_lut.LutEntry]], version: int = 1) -> bytes:
    raw = _lut.build_metadata(subgraphs, version)
    written.buffers[written.metadata[_lut.METADATA_NAME]] = np.frombuffer(raw, np.uint8)
    return write_model(written)


@needs_models
def test_metadata_schema_version_and_fields_read_back() -> None:
    written, entries = lut_parts()
    version, subgraphs = _lut.parse_metadata(written.metadata_bytes(_lut.METADATA_NAME))
    assert version == 1 and len(subgraphs) == 1
    assert {(0, e.tensor) for e in subgraphs[0]} == set(entries)
    assert all(e.index_bitwidth == 4 and written.buffers[e.value_buffer].size == 64 for e in subgraphs[0])


@needs_models
@pytest.mark.parametrize("corruption,message", [
    ("bits0", "1 to 7"), ("bits8", "1 to 7"), ("tensor", "tensors"), ("value_buffer", "buffers"),
    ("duplicate", "twice"), ("version", "schema version"), ("short_indices", "need"),
    ("odd_table", "whole number"), ("index_past_table", "past the end"), ("garbage", "not a valid"),
])
def test_corrupt_compression_is_a_model_error(corruption: str, message: str) -> None:
    written, entries = lut_parts()
    listed = [entry for (_, _), entry in sorted(entries.items())]
    first = listed[0]
    tensor = written.subgraphs[0].tensors[first.tensor]
    version = 1
    if corruption.startswith("bits"):
        listed[0] = _lut.LutEntry(first.tensor, first.value_buffer, int(corruption[4:]))
    elif corruption == "tensor":
        listed[0] = _lut.LutEntry(10_000, first.value_buffer, 4)
    elif corruption == "value_buffer":
        listed[0] = _lut.LutEntry(first.tensor, 10_000, 4)
    elif corruption == "duplicate":
        listed.append(first)
    elif corruption == "version":
        version = 2
    elif corruption == "short_indices":
        written.buffers[tensor.buffer] = written.buffers[tensor.buffer][:-1]
    elif corruption == "odd_table":
        written.buffers[first.value_buffer] = written.buffers[first.value_buffer][:-2]
    elif corruption == "index_past_table":
        written.buffers[first.value_buffer] = written.buffers[first.value_buffer][:4]  # one value
    if corruption == "garbage":
        written.buffers[written.metadata[_lut.METADATA_NAME]] = np.frombuffer(b"\xff" * 12, np.uint8)
        content = write_model(written)
    else:
        content = with_metadata(written, [listed], version)
    with pytest.raises(ModelError, match=message):
        edgelite.load(content)


@needs_models
def test_marked_tensor_that_does_not_fit_a_table_is_refused_at_write() -> None:
    model = copy.deepcopy(edgelite.load(DIGITS))  # float weights: hundreds of distinct values
    next(t for t in model.subgraphs[0].tensors if t.name == "sequential_1/conv2d_2_1/convolution").lut = True
    with pytest.raises(ModelError, match="compress_lut"):
        model.to_bytes()
    assert not any(t.lut for t in compress_lut(DIGITS).subgraphs[0].tensors)  # compress_lut skips them


def tflm_outputs(content: bytes, images: np.ndarray) -> np.ndarray:
    """TensorFlow Lite Micro's outputs (the `tflite-micro` wheel's interpreter), one image at a time."""
    runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime",
                                  reason="TFLM's interpreter (pip install tflite-micro) is not installed")
    interpreter = runtime.Interpreter.from_bytes(content)
    found = []
    for image in images:
        interpreter.set_input(image[None], 0)
        interpreter.invoke()
        found.append(interpreter.get_output(0)[0])
    return np.array(found)


@needs_models
@pytest.mark.parametrize("which", ["float", "int8"])
def test_tflm_runs_the_lut_file_like_edgelite(which: str) -> None:
    """The oracle of the format: TFLM decompresses edgelite's LUT tensors (float: one table; int8:
    every weight, with per-channel tables on axis 0 and on the depthwise filters' last axis)."""
    dense = clustered_float() if which == "float" else clustered_int8()
    compressed = compress_lut(dense)
    for tensor in compressed.subgraphs[0].tensors:
        is_weight = tensor.type == TensorType.INT8 and compressed.constant(tensor) is not None
        tensor.lut = tensor.lut or is_weight
    images = digits()[0][TRAINING:TRAINING + 16]
    theirs = tflm_outputs(compressed.to_bytes(), images)
    if which == "int8":
        np.testing.assert_array_equal(theirs, outputs(dense, images))
    else:
        np.testing.assert_allclose(theirs, outputs(dense, images), atol=1e-5)


@needs_models
def test_passes_that_rewrite_weights_of_a_lut_file_write_them_dense() -> None:
    """Reconstruct-pruning a LUT file updates the kept weights (many new values): those are
    written dense (or sparse where smaller), never as a LUT that cannot hold them."""
    content = compress_lut(clustered_float()).to_bytes()
    before = edgelite.load(content)
    pruned = edgelite.prune(content, 0.5, method="reconstruct", calibration_data=calibration())
    marked = {t.name for t in before.subgraphs[0].tensors if t.lut}
    still = {t.name for t in pruned.subgraphs[0].tensors if t.lut}
    assert still < marked  # the rewritten ones lost the mark
    images = digits()[0][TRAINING:TRAINING + 8]
    np.testing.assert_allclose(outputs(edgelite.load(pruned.to_bytes()), images), outputs(pruned, images),
                               atol=1e-6)
