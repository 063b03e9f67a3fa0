"""Operators read by the walker build their options on first read of `Operator.options`: every way of
looking at an operator (equality, repr, copies, pickling, dataclasses.replace, the writer) sees what
the checked Python reader builds eagerly, and ir.deferred gives the walker's values until
then (checked against options.to_options, the Python reader's conversion)."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from pathlib import Path

import pytest

from edgelite.model import _native, _schema, reader
from edgelite.model.ir import Model, Operator, deferred
from edgelite.model.options import to_options
from edgelite.ops.registry import options_class

BUNDLED = Path(__file__).resolve().parents[2] / "src" / "edgelite" / "data" / "digits_mlp.tflite"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "models"
MODELS = [BUNDLED, *(SHARED / name for name in ("mnv2_035_96_int8.tflite", "selfie_segmentation.tflite"))]
pytestmark = pytest.mark.skipif(_native._engine is None, reason="the native extension is not built")



def raw_options(operator: Operator) -> tuple | None:
    """(union, code, values) the walker read for an operator whose options are not built yet."""
    pending = deferred(operator, "options")
    return None if pending is None else pending[1][:3]

def both_reads(path: Path) -> tuple[Model, Model]:
    """(the walker's Model, its options unbuilt; the checked Python reader's)."""
    if not path.exists():
        pytest.skip(f"{path} is not here (shared test models)")
    data = reader._open(path)
    return _native.read(data), reader.read_checked(path, data)


def operator_pairs(lazy: Model, eager: Model) -> list[tuple[Operator, Operator]]:
    return [(a, b) for graph, other in zip(lazy.subgraphs, eager.subgraphs, strict=True)
            for a, b in zip(graph.operators, other.operators, strict=True)]


@pytest.mark.parametrize("path", MODELS, ids=lambda path: path.stem)
def test_raw_options_convert_to_the_options_read_later(path: Path) -> None:
    lazy, eager = both_reads(path)
    pairs = operator_pairs(lazy, eager)
    deferred = 0
    for operator, checked in pairs:
        raw = raw_options(operator)
        assert (raw is None) == (checked.options is None), operator.opcode
        if raw is not None:
            deferred += 1
            union, code, values = raw
            table = (_schema.OPTIONS if union == 1 else _schema.OPTIONS2)[code]
            names = [name for name, _, kind, _ in _schema.FIELDS[table] if kind != 0]
            cls = None if operator.opcode == "CUSTOM" else options_class(operator.opcode)
            assert to_options(cls, table, dict(zip(names, values, strict=True))) == checked.options
        assert operator.options == checked.options and type(operator.options) is type(checked.options)
        assert raw_options(operator) is None  # built now
    assert deferred > 0


@pytest.mark.parametrize("path", MODELS[:2], ids=lambda path: path.stem)
def test_unbuilt_options_survive_copies_and_compare_equal(path: Path) -> None:
    lazy, eager = both_reads(path)
    for operator, checked in operator_pairs(lazy, eager):
        copies = [copy.copy(operator), copy.deepcopy(operator), pickle.loads(pickle.dumps(operator))]
        if checked.options is not None:  # the copies defer too, until read
            assert all(raw_options(each) is not None for each in copies)
        assert all(each == checked for each in copies)
        assert dataclasses.replace(copy.copy(operator), version=checked.version) == checked
        assert repr(copy.copy(operator)) == repr(checked)
        assert dataclasses.asdict(copy.copy(operator)) == dataclasses.asdict(checked)
        assert operator == checked


def test_the_writer_writes_the_same_bytes_from_either_read() -> None:
    lazy, eager = both_reads(MODELS[1])
    assert lazy.to_bytes() == eager.to_bytes()


def test_options_assigned_before_the_first_read_win() -> None:
    lazy, eager = both_reads(BUNDLED)
    operator = next(op for op in lazy.subgraphs[0].operators if raw_options(op) is not None)
    softmax = next(op for op in eager.subgraphs[0].operators if op.opcode == "SOFTMAX")
    replacement = copy.deepcopy(softmax.options)
    operator.options = replacement
    assert operator.options is replacement and raw_options(operator) is None
    assert operator != next(op for op in eager.subgraphs[0].operators if op.outputs == operator.outputs)


def test_operators_built_in_python_keep_plain_options() -> None:
    operator = Operator("RELU", (0,), (1,))
    assert operator.options is None and Operator.options is None
    assert [f.default for f in dataclasses.fields(Operator) if f.name == "options"] == [None]
    assert raw_options(operator) is None
    operator.options = "anything"
    assert operator.options == "anything" and raw_options(operator) is None
    del operator.options  # as with a plain dataclass default: the class-level default shows
    assert operator.options is None
