"""The oracle of the native reader: the checked pure-Python reader (reader.read_checked).

`assert_readers_agree(data)` reads `data` both ways: both accept it and build the same Model
(field by field, arrays by dtype and value), or both reject it. tests/model/reader_oracle.py
applies it to every model a test-suite run loads.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from edgelite.errors import ModelError
from edgelite.model import _native, reader


def assert_same(a: object, b: object, where: str = "model") -> None:
    """Field-by-field equality of IR objects, arrays compared by dtype and value."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), where
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), where
    elif dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), where
        for field in dataclasses.fields(a):
            assert_same(getattr(a, field.name), getattr(b, field.name), f"{where}.{field.name}")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), where
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b), f"{where}: {a!r} != {b!r}"
    else:
        assert type(a) is type(b) and a == b, f"{where}: {a!r} != {b!r}"


def assert_readers_agree(data: Any) -> None:
    """Same verdict from the walker and the checked Python reader, and the same Model when read
    (`data`: what load() takes). Without the extension there is nothing to compare."""
    if _native._engine is None:
        return
    try:
        view = reader._open(data)
    except ModelError:
        return  # an empty file: refused before either reader runs
    try:
        expected: object = reader.read_checked(data, view)
    except ModelError as error:
        expected = error
    try:
        got: object = _native.read(view)
    except _native.Rejected as error:
        got = error
    except _native.Unsupported:
        return  # left to the Python path (LUT-compressed tensors): nothing to compare
    if isinstance(expected, ModelError):
        assert isinstance(got, _native.Rejected), f"the walker accepts a file Python rejects: {expected}"
    else:
        assert not isinstance(got, _native.Rejected), f"the walker rejects a file Python reads: {got}"
        assert_same(expected, got)
