"""Running the `edgelite` CLI in-process and checking its errors."""

from __future__ import annotations

import pytest

from edgelite.cli import main


def cli(capsys: pytest.CaptureFixture, *args: object) -> tuple[int, str, str]:
    """Run `edgelite ARGS` in-process; return (exit code, stdout, stderr)."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(err: str, *fragments: str) -> None:
    """The error is one line starting with the program's name and naming each fragment, no traceback."""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("edgelite"), err
    for fragment in fragments:
        assert fragment in lines[0], err
