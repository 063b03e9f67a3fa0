"""model/_schema.py, which the native reader reads instead of the `tflite` bindings, still says
what the installed bindings say (regenerate it with `python -m edgelite.model._schema_gen`)."""

from __future__ import annotations

from edgelite.model import _lut, _native, _schema, _schema_gen


def test_schema_tables_match_the_tflite_bindings() -> None:
    derived = _schema_gen.tables()
    for name, mapping in derived.items():
        assert getattr(_schema, name) == mapping, f"stale {name}: python -m edgelite.model._schema_gen"


def test_schema_file_is_what_the_generator_writes() -> None:
    with open(_schema.__file__, encoding="utf-8") as stored:
        assert stored.read() == _schema_gen.source()


def test_native_reader_names_the_lut_metadata_as_lut_does() -> None:
    assert _native.LUT_METADATA_NAME == _lut.METADATA_NAME
