"""`record` (model/_record.py) against its oracle, `dataclasses.dataclass`: the same class body made
both ways behaves the same in every way the code base and users can see."""

from __future__ import annotations

import copy
import dataclasses
import enum
import inspect
import pickle
import sys
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgelite.model._record import record
from edgelite.model.options import _field_type
from edgelite.ops.registry import builtin_op_names, options_class


class Mode(enum.IntEnum):
    NONE = 0
    SAME = 1


@dataclass
class PlainDataclass:
    table: ClassVar[str] = "PlainOptions"
    padding: Mode = Mode.SAME
    stride_w: int = 1
    flag: bool = False


@record
class PlainRecord:
    table: ClassVar[str] = "PlainOptions"
    padding: Mode = Mode.SAME
    stride_w: int = 1
    flag: bool = False


@dataclass
class MixedDataclass:
    """Required fields, a default and a factory."""

    name: str
    shape: tuple[int, ...]
    count: int = 0
    items: list[Any] = field(default_factory=list)
    hidden: int = field(default=5, repr=False, compare=False)


@record
class MixedRecord:
    """Required fields, a default and a factory."""

    name: str
    shape: tuple[int, ...]
    count: int = 0
    items: list[Any] = field(default_factory=list)
    hidden: int = field(default=5, repr=False, compare=False)


@record(compiled_init=True)
class MixedCompiledRecord:
    """Required fields, a default and a factory."""

    name: str
    shape: tuple[int, ...]
    count: int = 0
    items: list[Any] = field(default_factory=list)
    hidden: int = field(default=5, repr=False, compare=False)


@dataclass(frozen=True)
class FrozenDataclass:
    scale: float
    zero_point: int = 0
    note: str = field(default="", compare=False)


@record(frozen=True)
class FrozenRecord:
    scale: float
    zero_point: int = 0
    note: str = field(default="", compare=False)


PAIRS = [(PlainDataclass, PlainRecord), (MixedDataclass, MixedRecord), (FrozenDataclass, FrozenRecord),
         (MixedDataclass, MixedCompiledRecord)]
VALUES = st.one_of(st.integers(-3, 3), st.booleans(), st.text(max_size=3), st.sampled_from(list(Mode)),
                   st.tuples(st.integers(0, 4)), st.none())


def outcome(cls: type, args: tuple, kwargs: dict) -> tuple[str, Any]:
    """('ok', field values, repr) or ('TypeError', None) of cls(*args, **kwargs)."""
    try:
        made = cls(*args, **kwargs)
    except TypeError:
        return "TypeError", None
    values = {f.name: getattr(made, f.name) for f in dataclasses.fields(made)}
    return "ok", (values, repr(made).split("(", 1)[1], dict(vars(made)))


@pytest.mark.parametrize("pair", PAIRS, ids=lambda pair: pair[1].__name__)
def test_class_level_facts_agree(pair: tuple[type, type]) -> None:
    oracle, made = pair
    assert made.__doc__.replace(made.__name__, oracle.__name__) == oracle.__doc__
    assert str(inspect.signature(made)) == str(inspect.signature(oracle))
    assert dataclasses.is_dataclass(made)
    assert [(f.name, f.type, f.default, f.default_factory, f.repr, f.compare, f.hash)
            for f in dataclasses.fields(made)] == [
        (f.name, f.type, f.default, f.default_factory, f.repr, f.compare, f.hash)
        for f in dataclasses.fields(oracle)]
    assert made.__match_args__ == oracle.__match_args__
    assert repr(made.__dataclass_params__) == repr(oracle.__dataclass_params__)
    assert (made.__hash__ is None) == (oracle.__hash__ is None)
    for name in ("__init__", "__repr__", "__eq__"):
        assert getattr(made, name).__qualname__ == f"{made.__qualname__}.{name}"


@settings(max_examples=300, deadline=None)
@given(pair=st.sampled_from(PAIRS), args=st.lists(VALUES, max_size=6),
       kwargs=st.dictionaries(st.sampled_from(["name", "shape", "count", "items", "hidden", "padding",
                                               "stride_w", "flag", "scale", "zero_point", "note", "bogus"]),
                              VALUES, max_size=4))
def test_construction_agrees(pair: tuple[type, type], args: list, kwargs: dict) -> None:
    oracle, made = pair
    assert outcome(made, tuple(args), dict(kwargs)) == outcome(oracle, tuple(args), dict(kwargs))


@settings(max_examples=200, deadline=None)
@given(pair=st.sampled_from(PAIRS[1:]), first=st.tuples(VALUES, VALUES, VALUES),
       second=st.tuples(VALUES, VALUES, VALUES))
def test_equality_and_hashing_agree(pair: tuple[type, type], first: tuple, second: tuple) -> None:
    oracle, made = pair
    width = 2 if oracle is MixedDataclass else 3
    a, b = made(*first[:width]), made(*second[:width])
    x, y = oracle(*first[:width]), oracle(*second[:width])
    assert (a == b) == (x == y)
    assert (a != b) == (x != y)
    assert made(*first[:width]) == a and (a == x) is False
    if oracle.__hash__ is None:
        with pytest.raises(TypeError):
            hash(a)
    else:
        assert (hash(a) == hash(made(*first[:width])))
        assert hash(a) == hash(x)  # the same tuple of the same values


def test_frozen_records_refuse_assignment_as_dataclasses_do() -> None:
    for cls in (FrozenDataclass, FrozenRecord):
        value = cls(0.5, 3)
        for action, arguments in ((setattr, ("scale", 1.0)), (setattr, ("other", 1)), (delattr, ("scale",))):
            with pytest.raises(dataclasses.FrozenInstanceError) as error:
                action(value, *arguments)
            assert "cannot" in str(error.value)
        assert dataclasses.replace(value, zero_point=4).zero_point == 4


def test_copies_pickles_and_conversions_agree() -> None:
    for oracle, made in PAIRS:
        args = ("x", (1, 2)) if oracle is MixedDataclass else (0.25,) if oracle is FrozenDataclass else ()
        a, x = made(*args), oracle(*args)
        assert pickle.loads(pickle.dumps(a)) == a
        assert copy.deepcopy(a) == a and copy.copy(a) == a
        assert dataclasses.asdict(a) == dataclasses.asdict(x)
        assert dataclasses.astuple(a) == dataclasses.astuple(x)
        changed = dataclasses.replace(a, **{dataclasses.fields(a)[0].name: args[0] if args else Mode.NONE})
        assert type(changed) is made


def test_recursive_repr_and_arrays_as_dataclass() -> None:
    loop, oracle_loop = MixedRecord("a", ()), MixedDataclass("a", ())
    loop.items.append(loop)
    oracle_loop.items.append(oracle_loop)
    assert repr(loop).replace("MixedRecord", "MixedDataclass") == repr(oracle_loop)
    with pytest.raises(ValueError):  # tuples of arrays compare elementwise: ambiguous, as in dataclass
        _ = MixedRecord("a", np.arange(3)) == MixedRecord("a", np.arange(3))


def test_unsupported_fields_are_refused() -> None:
    with pytest.raises(TypeError, match="follows default argument"):
        @record
        class Misordered:
            first: int = 0
            second: int
    with pytest.raises(TypeError, match="need @dataclass"):
        @record
        class KeywordOnly:
            first: int = field(default=0, kw_only=True)


def test_every_options_class_is_a_working_dataclass() -> None:
    """Each op's options class: defaults construct, positional and keyword construction agree."""
    for name in builtin_op_names():
        cls = options_class(name)
        if cls is None:
            continue
        default = cls()
        values = [getattr(default, f.name) for f in dataclasses.fields(cls)]
        keywords = {f.name: v for f, v in zip(dataclasses.fields(cls), values, strict=True)}
        assert cls(*values) == default == cls(**keywords)
        assert repr(default).startswith(f"{cls.__name__}(")


def test_options_field_plans_read_annotations_as_get_type_hints_does() -> None:
    """options._field_plan resolves plain-name annotations itself: the same types as typing's."""
    for name in builtin_op_names():
        cls = options_class(name)
        if cls is None:
            continue
        hints = typing.get_type_hints(cls)
        assert {f.name: _field_type(cls, f) for f in dataclasses.fields(cls)} == \
            {f.name: hints[f.name] for f in dataclasses.fields(cls)}, cls.__name__


@pytest.mark.skipif(sys.implementation.name != "cpython", reason="the template renames CPython bytecode")
def test_records_without_factories_get_dataclass_bytecode() -> None:
    """The fast path stays on: PlainRecord's __init__ is the template renamed, not the shared one."""
    code = PlainRecord.__init__.__code__
    assert code.co_varnames == ("self", "padding", "stride_w", "flag")
    assert code.co_names == ("padding", "stride_w", "flag")
