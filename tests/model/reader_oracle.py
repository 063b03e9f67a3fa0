"""pytest plugin: every model a test run loads through the native walker is also read by the checked
Python reader, which must give the same verdict and the same Model (tests/model/differential.py).

    python -m pytest -p tests.model.reader_oracle [tests ...]

With EDGELITE_READER_ORACLE_LOG=FILE, each test process appends how many loads it compared.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from edgelite.errors import ModelError
from edgelite.model import _native
from edgelite.model.reader import read_checked  # bound here: tests may patch reader.read_checked
from tests.model.differential import assert_same

_compared = {"accepted": 0, "rejected": 0}


def _checked_read(original: Any) -> Any:
    def read(data: memoryview) -> Any:
        try:
            model = original(data)
        except _native.Rejected as rejection:
            with pytest.raises(ModelError):
                read_checked(data, data)  # the walker must not refuse a file Python reads
            _compared["rejected"] += 1
            raise rejection from None
        try:
            expected = read_checked(data, data)
        except ModelError as error:
            raise AssertionError(f"the walker accepts a file the Python reader rejects: {error}") from None
        assert_same(expected, model)
        _compared["accepted"] += 1
        return model

    return read


@pytest.fixture(autouse=True)
def _reader_oracle(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(_native, "read", _checked_read(_native.read))
    yield


def pytest_sessionfinish(session: pytest.Session) -> None:
    log = os.environ.get("EDGELITE_READER_ORACLE_LOG")
    if log:
        with open(log, "a") as out:
            out.write(f"{os.getpid()} accepted {_compared['accepted']} rejected {_compared['rejected']}\n")
