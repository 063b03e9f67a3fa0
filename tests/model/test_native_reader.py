"""The native walker (native/_reader.c) against its oracle, the checked Python reader: the same
Model from every shared model and every options table, the same verdict on real models cut short,
bit-flipped and overwritten, and the Python path alone when the extension is missing."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import tflite
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import edgelite
from edgelite import ModelError
from edgelite.model import _native, reader
from edgelite.model.ir import Model, Operator, Quantization, Subgraph, Tensor
from edgelite.model.option_tables import _field_readers
from edgelite.model.options import RawOptions
from edgelite.ops.registry import options_class
from tests.model.differential import assert_readers_agree, assert_same
from tests.model.tiny import tiny_model

MODELS = Path(__file__).parents[2].parent / "shared" / "models"
ALL_MODELS = sorted(MODELS.glob("*.tflite")) if MODELS.is_dir() else []
REAL = {path.name: path.read_bytes() for path in ALL_MODELS}
needs_native = pytest.mark.skipif(_native._engine is None, reason="the native extension is not built")
needs_models = pytest.mark.skipif(not ALL_MODELS, reason=f"no test models in {MODELS}")
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
pytestmark = needs_native


def python_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Load as an installation without the extension does."""
    monkeypatch.setattr(reader, "_engine", None)


@needs_models
@pytest.mark.parametrize("path", ALL_MODELS, ids=lambda p: p.name)
def test_shared_models_read_identically(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from_file = edgelite.load(path)
    assert_same(from_file, _native.read(reader._open(path)))
    assert_same(from_file, edgelite.load(path.read_bytes()))
    assert_readers_agree(path)
    python_only(monkeypatch)
    assert_same(edgelite.load(path), from_file)


def test_load_reads_valid_files_without_the_python_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The walker reads every valid file itself: load() falls back to Python only for defects."""
    def refuse(source: object, data: memoryview) -> None:
        raise AssertionError(f"load() fell back to the Python path: {_native.read(data)}")

    monkeypatch.setattr(reader, "read_checked", refuse)
    for source in [*ALL_MODELS, tiny_model(), tiny_model(external=True)]:
        edgelite.load(source)


def test_tiny_variants_read_identically() -> None:
    no_strings = struct.pack("<Ii", 0, 8)
    for spec in ({}, {"external": True}, {"const_type": 5, "const_shape": (0,), "const_data": no_strings},
                 {"builtin_code": 32, "custom_code": "MyOp", "custom_options": b"\x01\x02"},
                 {"const_quant": {"scale": [0.5] * 4, "zero_point": [1] * 4, "quantized_dimension": 1}},
                 {"const_shape_signature": (-1, 4)}, {"op_inputs": (0, -1)}, {"identifier": b""}):
        data = tiny_model(**spec)
        assert_same(_native.read(reader._open(data)), reader.read_checked(data, reader._open(data)))


def test_quantization_with_only_min_and_max() -> None:
    """No scales or zero points (the first tensor leaves the walker's pools empty), only a range."""
    quant = Quantization(np.zeros(0, np.float32), np.zeros(0, np.int64), 0, np.array([-1], np.float32),
                         np.array([1], np.float32))
    tensors = [Tensor("x", (2,), quantization=quant), Tensor("y", (2,))]
    data = Model(subgraphs=[Subgraph(tensors, (0,), (1,), [Operator("RELU", (0,), (1,))])]).to_bytes()
    assert_readers_agree(data)
    loaded = edgelite.load(data).subgraphs[0].tensors[0].quantization
    assert loaded.scale.size == 0 and loaded.min.tolist() == [-1] and loaded.max.tolist() == [1]


def test_misaligned_tables_are_refused() -> None:
    """Every table shifted by 2 bytes: offsets stay consistent, but flatbuffers requires alignment."""
    data = tiny_model()
    shifted = struct.pack("<I", struct.unpack_from("<I", data)[0] + 2) + data[4:8] + bytes(2) + data[8:]
    with pytest.raises(ModelError, match="not 4-byte aligned"):
        edgelite.load(shifted)
    assert_readers_agree(shifted)


@pytest.mark.parametrize("spec", [{"const_buffer": 99}, {"op_inputs": (0, 7)}, {"const_shape": (1, -4)},
                                  {"const_data": bytes(12)}, {"options_type": 250}, {"version": 4}])
def test_messages_do_not_depend_on_the_extension(spec: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tiny_model(**spec)
    with pytest.raises(ModelError) as native:
        edgelite.load(data)
    with pytest.raises(_native.Rejected):
        _native.read(reader._open(data))
    python_only(monkeypatch)
    with pytest.raises(ModelError) as python:
        edgelite.load(data)
    assert type(native.value) is type(python.value) and str(native.value) == str(python.value)


def _owners() -> dict[str, str]:
    """Options table -> a builtin op whose options class uses it."""
    owners = {}
    for name in vars(tflite.BuiltinOperator):
        cls = None if name.startswith("_") else options_class(name)
        if cls is not None and getattr(cls, "table", None):
            owners.setdefault(cls.table, name)
    return owners


OWNERS = _owners()
TABLES = sorted({name for union in (tflite.BuiltinOptions, tflite.BuiltinOptions2)
                 for name, code in vars(union).items() if not name.startswith("_") and code})
_RANGES = {"Int8Flags": (-128, 127), "Uint8Flags": (0, 255), "Int16Flags": (-2**15, 2**15 - 1),
           "Uint16Flags": (0, 2**16 - 1), "Int32Flags": (-2**31, 2**31 - 1), "Uint32Flags": (0, 2**32 - 1),
           "Int64Flags": (-2**63, 2**63 - 1), "Uint64Flags": (0, 2**64 - 1)}


def _value(flags: object) -> st.SearchStrategy:
    name = type(flags).__name__ if not isinstance(flags, type) else flags.__name__
    if name == "BoolFlags":
        return st.booleans()
    if name.startswith("Float"):
        return st.floats(width=32 if name == "Float32Flags" else 64)
    return st.integers(*_RANGES[name])


@FUZZ
@given(table=st.sampled_from(TABLES), custom=st.booleans(), data=st.data())
def test_every_options_table_reads_identically(table: str, custom: bool, data: st.DataObject) -> None:
    """Each builtin options table with drawn values, on its own op (options class, enums) or on a
    custom op (RawOptions): the walker decodes the layout option_tables.py derives as Python does."""
    values = {}
    for name, _, flags, default in _field_readers(table):
        if isinstance(default, (bool, int, float)) and not isinstance(default, type):
            if data.draw(st.booleans()):
                values[name] = data.draw(_value(flags))
        elif flags is not None and data.draw(st.booleans()):
            values[name] = data.draw(st.lists(st.integers(-2**31, 2**31 - 1), max_size=5))
    opname = "CUSTOM" if custom or table not in OWNERS else OWNERS[table]
    custom_code = "Op" if opname == "CUSTOM" else None
    op = Operator(opname, (0,), (1,), RawOptions(table, values), custom_code=custom_code)
    model = Model(subgraphs=[Subgraph([Tensor("x", (2,)), Tensor("y", (2,))], (0,), (1,), [op])])
    encoded = model.to_bytes()
    assert_readers_agree(encoded)
    assert_same(edgelite.load(encoded), reader.read_checked(encoded, reader._open(encoded)))
