"""Reads a .tflite file into a Model, checking every offset, length and index on the way.

Files are memory-mapped and constant buffers stay zero-copy, read-only uint8 views of the file.
Nothing in the file is trusted: tables, vectors and strings are bounds- and alignment-checked
before they are read, every index is checked against what it indexes, and any malformed input
raises ModelError. With the native extension, its walker (native/_reader.c, via model/_native.py)
makes the same checks and hands over the content in bulk; the checked Python path
(model/checked_reader.py, which imports the `tflite` bindings) reads when the extension is missing,
names the defect when the walker refuses a file, and is the walker's test oracle. The walker's
operators build their options object on the first read of `Operator.options`, and its tensors their
Quantization on the first read of `Tensor.quantization` (ir.defer), so reading a model imports no
op module and makes no numpy view per tensor.
Not kept (the IR has no place for them): the deprecated metadata_buffer list (its indices are
still checked), custom quantization details, variant_tensors, mutating_variable_inputs and
debug_metadata_index; absent and empty optional vectors read alike. Tensors compressed with
TensorFlow Lite Micro's LUT scheme (the COMPRESSION_METADATA entry) are checked and expanded to
dense data at load, marked `Tensor.lut` so that the writer compresses them again (model/_lut.py).
"""

from __future__ import annotations

import errno
import mmap
import os
import stat
from typing import Any

from edgelite.errors import ModelError
from edgelite.model import _native
from edgelite.model._native import _engine
from edgelite.model.ir import Model


def load(source: str | os.PathLike | bytes | bytearray | memoryview) -> Model:
    """Read a .tflite model from a path (memory-mapped) or from bytes.

    Constant buffers are read-only views of the file or of `source` (do not modify a bytearray
    after loading it). Raises ModelError, naming what is wrong, for any malformed file.
    """
    data = _open(source)
    if _engine is not None:
        try:
            return _native.read(data)
        except (_native.Rejected, _native.Unsupported):
            pass  # the checked Python path below names the defect (or reads what C leaves to it)
    return read_checked(source, data)


def read_checked(source: Any, data: memoryview) -> Model:
    """The checked pure-Python reader (without the extension, and to name a defect C found)."""
    from edgelite.model import checked_reader  # the tflite bindings: imported on this path only

    return checked_reader.read_checked(source, data)


def _open(source: Any) -> memoryview:
    if isinstance(source, (str, os.PathLike)):
        descriptor = os.open(source, os.O_RDONLY | getattr(os, "O_BINARY", 0))  # no Python file object
        try:
            status = os.fstat(descriptor)
            if stat.S_ISDIR(status.st_mode):  # what open() would say
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(source))
            if status.st_size == 0:
                raise ModelError(f"{os.fspath(source)} is empty, not a TFLite model")
            return memoryview(mmap.mmap(descriptor, 0, access=mmap.ACCESS_READ))
        finally:
            os.close(descriptor)
    if isinstance(source, (bytes, bytearray, memoryview)):
        view = memoryview(source)
        if not view.c_contiguous:
            view = memoryview(view.tobytes())
        return view if (view.format, view.ndim) == ("B", 1) else view.cast("B")
    raise TypeError(f"load() takes a path or bytes, not {type(source).__name__}")
