"""Bounds-checked flatbuffer tables, so the generated `tflite` accessors can read untrusted files.

The generated accessors trust every offset: the stock Table reads past the end (struct.error),
before the start (Python's struct counts negative offsets from the end) or slices strings short.
CheckedTable replaces the table of each accessor object the reader touches; it checks the table
header against the file the way flatbuffers' C++ Verifier does (bounds and alignment) and checks
every read it makes.
Its vtable is decoded once, at construction; `vector` and `child` give the reader whole vectors
(one bounds check, then numpy or struct over the elements) and sub-tables without going through
the generated accessors, whose vtable slots `slot_of` learns once per accessor.
"""

from __future__ import annotations

import struct
from typing import Any

from flatbuffers import number_types
from flatbuffers.table import Table

_U16 = struct.Struct("<H")
_I32 = struct.Struct("<i")
_U32 = struct.Struct("<I")
_TWO_U16 = struct.Struct("<HH")


class CorruptError(Exception):
    """An offset or length in the flatbuffer points outside the file; the reader adds context."""


class CheckedTable(Table):
    """A flatbuffers Table whose header and field offsets were verified (so plain Tables may
    read its scalars too) and whose every read is bounds-checked."""

    __slots__ = ("vtable", "vtable_size", "table_size", "last_vector", "fields")

    def __init__(self, buf: Any, pos: int) -> None:
        size = len(buf)
        if not 0 <= pos <= size - 4:
            raise CorruptError(f"a table offset ({pos}) lies outside the {size}-byte file")
        if pos % 4:
            raise CorruptError(f"the table at {pos} is not 4-byte aligned")
        vtable = pos - _I32.unpack_from(buf, pos)[0]
        if not 0 <= vtable <= size - 4:
            raise CorruptError(f"the vtable of the table at {pos} lies outside the file")
        if vtable % 2:
            raise CorruptError(f"the vtable of the table at {pos} is not 2-byte aligned")
        vtable_size, table_size = _TWO_U16.unpack_from(buf, vtable)
        if vtable_size < 4 or vtable_size % 2 or vtable + vtable_size > size:
            raise CorruptError(f"the vtable of the table at {pos} is malformed")
        if table_size < 4 or pos + table_size > size:
            raise CorruptError(f"the table at {pos} runs past the end of the file")
        fields = struct.unpack_from(f"<{vtable_size // 2 - 2}H", buf, vtable + 4)
        if fields and max(fields) >= table_size:
            raise CorruptError(f"a field of the table at {pos} lies outside that table")
        self.Bytes, self.Pos = buf, pos
        self.vtable, self.vtable_size, self.table_size = vtable, vtable_size, table_size
        self.last_vector = 0
        self.fields = fields

    def Offset(self, vtableOffset: int) -> int:  # noqa: N802, N803 (flatbuffers API)
        slot = (vtableOffset - 4) >> 1
        return self.fields[slot] if 0 <= slot < len(self.fields) else 0

    def Get(self, flags: Any, off: int) -> Any:  # noqa: N802
        if not 0 <= off <= len(self.Bytes) - flags.bytewidth:
            raise CorruptError(f"offset {off} lies outside the {len(self.Bytes)}-byte file")
        if off % flags.bytewidth:
            raise CorruptError(f"a {flags.bytewidth}-byte field at {off} is not aligned")
        return flags.packer_type.unpack_from(self.Bytes, off)[0]

    def child(self, vtable_offset: int, accessor_class: type) -> Any:
        """The table field at `vtable_offset` as an `accessor_class` object over a CheckedTable
        (None when absent)."""
        slot = (vtable_offset - 4) >> 1
        field = self.fields[slot] if 0 <= slot < len(self.fields) else 0
        if not field:
            return None
        at = self.Pos + field
        _check_offset_word(at, len(self.Bytes))
        return accessor(accessor_class, self.Bytes, at + _U32.unpack_from(self.Bytes, at)[0])

    def vector(self, vtable_offset: int) -> tuple[int, int]:
        """(start of the elements, claimed count) of the vector field at `vtable_offset` ((0, 0)
        when absent); the caller checks the count against the file, as for VectorLen."""
        slot = (vtable_offset - 4) >> 1
        field = self.fields[slot] if 0 <= slot < len(self.fields) else 0
        if not field:
            return 0, 0
        size, at = len(self.Bytes), self.Pos + field
        _check_offset_word(at, size)
        start = at + _U32.unpack_from(self.Bytes, at)[0]
        _check_offset_word(start, size)
        count = _U32.unpack_from(self.Bytes, start)[0]
        self.last_vector = start + 4
        return start + 4, count

    def Indirect(self, off: int) -> int:  # noqa: N802
        return off + self.Get(number_types.UOffsetTFlags, off)

    def VectorLen(self, off: int) -> int:  # noqa: N802
        """The claimed length; the caller checks it against the element size and `last_vector`
        (where the elements start). Reads of elements past the end fail in Get regardless."""
        start = self.Indirect(off + self.Pos)
        length = self.Get(number_types.UOffsetTFlags, start)
        self.last_vector = start + 4
        return length

    def String(self, off: int) -> bytes:  # noqa: N802
        start = self.Indirect(off)
        length = self.Get(number_types.UOffsetTFlags, start)
        end = start + 4 + length
        if end >= len(self.Bytes):
            raise CorruptError(f"a string of {length} bytes at {start} runs past the end of the file")
        if self.Bytes[end] != 0:
            raise CorruptError(f"the string at {start} lacks its terminating zero byte")
        return bytes(self.Bytes[start + 4:end])


def _check_offset_word(at: int, size: int) -> None:
    """A 32-bit offset or length word lies inside the file, 4-byte aligned (as flatbuffers requires)."""
    if at > size - 4:
        raise CorruptError(f"offset {at} lies outside the {size}-byte file")
    if at % 4:
        raise CorruptError(f"the offset or length at {at} is not 4-byte aligned")


def accessor(accessor_class: type, buf: Any, pos: int) -> Any:
    """A generated accessor object of `accessor_class` reading the table at `pos` through a CheckedTable."""
    obj = accessor_class()
    obj._tab = CheckedTable(buf, pos)
    return obj


def checked(obj: Any) -> Any:
    """The generated accessor object `obj` (or None) with its table swapped for a CheckedTable."""
    if obj is not None:
        obj._tab = CheckedTable(obj._tab.Bytes, obj._tab.Pos)
    return obj


class _SlotSpy:
    """Stands in for a table to learn which vtable slot a generated accessor reads."""

    __slots__ = ("slot",)

    def Offset(self, vtableOffset: int) -> int:  # noqa: N802, N803
        self.slot = vtableOffset
        return 0


_SLOTS: dict[tuple[type, str], int] = {}


def slot_of(accessor_class: type, method: str) -> int:
    """The vtable offset the generated `accessor_class.method` reads (found once, then cached)."""
    key = (accessor_class, method)
    slot = _SLOTS.get(key)
    if slot is None:
        spy, accessor = _SlotSpy(), accessor_class()
        accessor._tab = spy
        getattr(accessor, method)()
        slot = _SLOTS[key] = spy.slot
    return slot
