"""Builtin options as the IR holds them: an op's options dataclass, or RawOptions.

An op's options dataclass names its fields as the schema does (snake_case) and its table in a
`table` class variable; this module converts between it and the table's CamelCase values (which
model/option_tables.py reads and writes through the `tflite` bindings, and the native reader reads
in C). Options of ops edgelite does not implement are kept as RawOptions so they survive a round trip.
"""

from __future__ import annotations

import builtins
import dataclasses
import enum
import sys
import typing
from dataclasses import dataclass, field
from functools import cache
from typing import Any


@dataclass
class RawOptions:
    """Options of an op edgelite has no options class for: table name and CamelCase fields."""

    table: str
    values: dict[str, Any] = field(default_factory=dict)


@cache
def camel(snake: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in snake.split("_"))


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _field_type(cls: type, f: dataclasses.Field) -> Any:
    """The field's evaluated annotation, as typing.get_type_hints gives it; a plain name (all
    options classes use them) is looked up as it would, without compiling it (~30 us each)."""
    annotation = f.type
    if not isinstance(annotation, str):
        return annotation
    if annotation.isidentifier():
        for namespace in (vars(cls), vars(sys.modules[cls.__module__]), vars(builtins)):
            if annotation in namespace:
                return namespace[annotation]
    return _hints(cls).get(f.name)


def to_options(cls: type | None, table: str, values: dict[str, Any]) -> Any:
    """Build the op's options dataclass (or RawOptions) from CamelCase table values."""
    if cls is None or getattr(cls, "table", None) != table:
        return RawOptions(table, values)
    kwargs = {}
    for name, key, kind in _field_plan(cls):
        if key not in values:
            continue
        value = values[key]
        if kind is not None and kind is not bool:
            try:
                value = kind(value)
            except ValueError:
                pass  # keep unknown enum values as ints; the kernel's check reports them
        elif kind is bool:
            value = bool(value)
        kwargs[name] = value
    return cls(**kwargs)


@cache
def _field_plan(cls: type) -> tuple[tuple[str, str, type | None], ...]:
    """(field, CamelCase key, IntEnum or bool type to convert to, else None) per dataclass field."""
    plan = []
    for f in dataclasses.fields(cls):
        kind = _field_type(cls, f)
        convert = kind is bool or (isinstance(kind, type) and issubclass(kind, enum.IntEnum))
        plan.append((f.name, camel(f.name), kind if convert else None))
    return tuple(plan)


def options_values(options: Any) -> tuple[str, dict[str, Any]]:
    """(table name, CamelCase values) of an options dataclass or RawOptions."""
    if isinstance(options, RawOptions):
        return options.table, options.values
    table = getattr(options, "table", None)
    if table is None or not dataclasses.is_dataclass(options):
        raise TypeError(f"{type(options).__name__} is not an options dataclass with a `table`")
    return table, {camel(f.name): getattr(options, f.name) for f in dataclasses.fields(options)}


