"""Shared by the CLI tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables wide enough that long tensor names are not folded (pytest-xdist sets COLUMNS=80)."""
    monkeypatch.setenv("COLUMNS", "200")
