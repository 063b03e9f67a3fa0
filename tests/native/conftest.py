"""Shared by the native-engine tests."""

from __future__ import annotations

import pytest

from edgelite.runtime import native


@pytest.fixture(params=native.supported_isas())
def isa(request):
    """Run the test with the dispatch level capped at each level the CPU supports."""
    previous = native.isa()
    assert native.set_isa(request.param) == request.param
    yield request.param
    native.set_isa(previous)
