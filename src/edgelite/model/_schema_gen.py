"""Writes model/_schema.py: the facts of the TFLite schema that the native reader needs, taken from
the generated `tflite` bindings, so that reading a model never imports them (~40 ms).

    python -m edgelite.model._schema_gen      # after upgrading the tflite package

tests/model/test_schema_tables.py checks that _schema.py still says what the bindings say.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tflite

from edgelite.model.option_tables import _OTHER, _VECTOR, _field_readers

# Flatbuffers number flags -> the walker's scalar kinds (_reader.c, K_*); vectors add 16, strings 0.
_KINDS = {"Int8Flags": 1, "Uint8Flags": 2, "Int16Flags": 3, "Uint16Flags": 4, "Int32Flags": 5,
          "Uint32Flags": 6, "Int64Flags": 7, "Uint64Flags": 8, "Float32Flags": 9, "Float64Flags": 10,
          "BoolFlags": 11}
STRING_KIND, VECTOR_KIND = 0, 16
_HEADER = '''"""The TFLite schema as the native reader needs it, generated from the tflite {version} bindings
by `python -m edgelite.model._schema_gen` (do not edit). Reading a model imports this, never `tflite`.

FIELDS: per options table, (CamelCase field, vtable offset, walker kind, default) of each field that
option_tables._field_readers reads, in its order; kind: 1-11 a scalar (_reader.c's K_*), 16 + that a
vector (default None), 0 a string or table the walker checks but does not keep (default None).
"""

# ruff: noqa: E501
'''


def enum_names(enum_class: type) -> dict[int, str]:
    """code -> name of a generated flatbuffers enum class."""
    return {value: name for name, value in vars(enum_class).items() if not name.startswith("_")}


def field_layout(name: str, slot: int, flags: Any, default: Any) -> tuple[str, int, int, Any]:
    if default is _OTHER:
        return name, slot, STRING_KIND, None
    kind = _KINDS[flags.__name__]
    return (name, slot, VECTOR_KIND + kind, None) if default is _VECTOR else (name, slot, kind, default)


def tables() -> dict[str, Any]:
    """What _schema.py holds, derived from the installed bindings."""
    unions = {"OPTIONS": enum_names(tflite.BuiltinOptions), "OPTIONS2": enum_names(tflite.BuiltinOptions2)}
    names = sorted({table for union in unions.values() for code, table in union.items() if code})
    return {
        "BUILTIN_OPERATORS": enum_names(tflite.BuiltinOperator),
        **unions,
        "FIELDS": {table: tuple(field_layout(*field) for field in _field_readers(table)) for table in names},
    }


def source() -> str:
    from importlib.metadata import version

    lines = [_HEADER.format(version=version("tflite"))]
    for name, mapping in tables().items():
        lines += [f"{name} = {{", *(f"    {key!r}: {value!r}," for key, value in mapping.items()), "}", ""]
    return "\n".join(lines)


def main() -> None:
    path = Path(__file__).with_name("_schema.py")
    path.write_text(source())
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
