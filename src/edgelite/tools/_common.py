"""Helpers shared by the CLI verbs: errors with exit codes, model loading, rich consoles."""

from __future__ import annotations

import os
import re

from rich.console import Console

from edgelite.errors import EdgeliteError
from edgelite.model.ir import Model, Tensor


class CliError(EdgeliteError):
    """A failure the CLI reports as one line on stderr; `exit_code` 2 means bad usage."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class UsageError(CliError):
    """The command line names something that does not exist or is malformed (exit code 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=2)


def describe_error(error: BaseException) -> str:
    """A one-line description of an exception (OSError without its errno noise)."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    text = " ".join(str(error).split()) or type(error).__name__
    return text


def read_model_bytes(path: str | os.PathLike) -> bytes:
    """The bytes of a model file, or a CliError naming the file."""
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as error:
        raise CliError(f"cannot read model '{os.fspath(path)}': {describe_error(error)}") from error


def load_model(path: str | os.PathLike) -> Model:
    """Read and validate a .tflite file; any failure becomes a CliError naming the file."""
    from edgelite.model.reader import load

    data = read_model_bytes(path)
    try:
        return load(data)
    except (EdgeliteError, ValueError, IndexError, TypeError) as error:
        raise CliError(f"cannot read model '{os.fspath(path)}': {describe_error(error)}") from error


def dtype_name(tensor: Tensor) -> str:
    """The lower-case element type name of a tensor ('float32', 'int8', 'string', ...)."""
    return tensor.type.name.lower()


def sanitize(name: str, limit: int = 80) -> str:
    """A file-name-safe version of a tensor name ('StatefulPartitionedCall:0' -> '..._0')."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return cleaned[:limit] or "tensor"


def console() -> Console:
    """The console tables are printed on: stdout, 120 columns when piped (unless COLUMNS says)."""
    out = Console(highlight=False)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out.width = 120
    return out
