"""Reads and writes builtin-option tables through the `tflite` schema bindings, by field name
(the checked Python reader and the writer; the native reader uses model/_schema.py instead).
"""

from __future__ import annotations

import enum
import importlib
from functools import cache
from typing import Any

import numpy as np
from flatbuffers.number_types import to_numpy_type

from edgelite.model._flatbuffer import CheckedTable, CorruptError

_NOT_FIELDS = ("Init", "GetRootAs")
_VECTOR_TYPES = {("BucketizeOptions", "Boundaries"): np.float32}


def _module(table: str):
    try:
        return importlib.import_module(f"tflite.{table}")
    except ModuleNotFoundError:
        return None


@cache
def table_fields(table: str) -> tuple[tuple[str, bool], ...]:
    """(CamelCase field name, is_vector) for every scalar or vector field of an options table."""
    module = _module(table)
    if module is None:
        return ()
    cls = getattr(module, table)
    names = [n for n in vars(cls) if n[:1].isupper() and callable(getattr(cls, n))]
    fields = []
    for name in names:
        if name.startswith(_NOT_FIELDS) or name.endswith(("AsNumpy", "Length", "IsNone")):
            continue
        if "BufferHasIdentifier" in name:
            continue
        fields.append((name, f"{name}Length" in names))
    return tuple(fields)


def read_table(table: str, buf: Any, pos: int) -> dict[str, Any]:
    """Read every scalar/vector field of an options table at `pos` into a CamelCase dict, each
    read bounds-checked (CheckedTable)."""
    tab = CheckedTable(buf, pos)
    values: dict[str, Any] = {}
    for name, slot, flags, default in _field_readers(table):
        offset = tab.Offset(slot)
        if default is _OTHER:  # a string or table: not kept, but read (so checked) as before
            if offset:
                reader = getattr(_module(table), table)()
                reader._tab = tab
                getattr(reader, name)()
        elif default is _VECTOR:
            values[name] = _vector_values(tab, slot, flags) if offset else ()
        else:
            values[name] = tab.Get(flags, tab.Pos + offset) if offset else default
    return values


_VECTOR, _OTHER = object(), object()


def _vector_values(tab: CheckedTable, slot: int, flags: Any) -> tuple:
    start, count = tab.vector(slot)
    if start + count * flags.bytewidth > len(tab.Bytes):
        raise CorruptError(f"an options vector of {count} elements at {start} runs past the end of the file")
    return tuple(np.frombuffer(tab.Bytes, to_numpy_type(flags), count, start).tolist())


class _Probe:
    """Stands in for a table to learn where and how a generated accessor reads its field."""

    def __init__(self, present: bool) -> None:
        self.present, self.Pos, self.Bytes = present, 0, b""
        self.slot, self.flags, self.kind = 0, None, None

    def Offset(self, vtableOffset: int) -> int:  # noqa: N802, N803 (flatbuffers API)
        self.slot = vtableOffset
        return 4 if self.present else 0

    def Get(self, flags: Any, off: int) -> Any:  # noqa: N802
        self.kind, self.flags = "scalar", flags
        return flags.py_type(0)

    def GetVectorAsNumpy(self, flags: Any, off: int) -> Any:  # noqa: N802
        self.kind, self.flags = "vector", flags
        return np.empty(0)

    def __getattr__(self, name: str) -> Any:  # strings, sub-tables, unions: not read
        raise _NotScalar


class _NotScalar(Exception):
    pass


@cache
def _field_readers(table: str) -> tuple[tuple[str, int, Any, Any], ...]:
    """(CamelCase name, vtable offset, number flags, default or _VECTOR) of each scalar or vector
    field that read_table returns, found once per table by probing the generated accessors."""
    module = _module(table)
    readers = []
    for name, is_vector in table_fields(table):
        method = f"{name}AsNumpy" if is_vector else name
        absent, present = _Probe(False), _Probe(True)
        try:
            default = _probe(module, table, method, absent)
            _probe(module, table, method, present)
        except _NotScalar:
            readers.append((name, absent.slot, None, _OTHER))
            continue
        if is_vector and present.kind == "vector":
            readers.append((name, present.slot, present.flags, _VECTOR))
        elif not is_vector and present.kind == "scalar" and isinstance(default, (int, float, bool)):
            readers.append((name, present.slot, present.flags, default))
    return tuple(readers)


def _probe(module: Any, table: str, method: str, probe: _Probe) -> Any:
    reader = getattr(module, table)()
    reader._tab = probe
    return getattr(reader, method)()


def write_table(builder: Any, table: str, values: dict[str, Any]) -> int:
    """Serialize an options table with the generated builder functions; return its offset."""
    module = _module(table)
    if module is None:
        raise TypeError(f"unknown options table {table!r}")
    known = dict(table_fields(table))
    vectors = {}
    for name, value in values.items():
        if known.get(name):
            dtype = _VECTOR_TYPES.get((table, name), np.int32)
            vectors[name] = builder.CreateNumpyVector(np.asarray(value, dtype=dtype))
    getattr(module, f"{table}Start")(builder)
    for name, value in values.items():
        if name not in known:
            raise TypeError(f"{table} has no field {name!r}")
        value = vectors.get(name, value)
        if not known[name]:
            value = int(value) if isinstance(value, (bool, enum.IntEnum)) else value
        getattr(module, f"{table}Add{name}")(builder, value)
    return getattr(module, f"{table}End")(builder)
