"""The fast path of model/reader.py: the extension's walker (native/_reader.c) verifies the file and
returns its content in bulk; this module builds the IR from it with a few steps per tensor. The
schema's names and option-table layouts come from the generated model/_schema.py: this path never
imports the `tflite` bindings.

The walker makes every check of the checked Python path (checked_reader._Reader), so both accept the
same files and build the same Model. It rejects a defect with a short message (`Rejected`); `load`
then runs the Python path, which names the defect. Files the walker leaves to Python (`Unsupported`):
those with TFLM's LUT-compressed tensors (expanded by model/_lut.py), and all on big-endian hosts.

Operators keep the walker's option values and build their options object (which imports the op's
module) when `Operator.options` is first read (ir.defer; ir.deferred gives the values until then).
"""

from __future__ import annotations

import dataclasses
import math
from functools import cache, lru_cache
from typing import Any

import numpy as np

from edgelite.errors import ModelError
from edgelite.model import _schema
from edgelite.model import _validate as check
from edgelite.model.ir import (
    UNKNOWN_BUILTIN_PREFIX,
    DimensionMetadata,
    Model,
    Operator,
    Quantization,
    SignatureDef,
    Sparsity,
    Subgraph,
    Tensor,
    TensorType,
    defer,
)
from edgelite.model.options import RawOptions, _field_plan

try:
    from edgelite.native import _engine
except ImportError:  # no compiler at install time: reader.py reads in Python
    _engine = None

SCHEMA_VERSION = 3
LUT_METADATA_NAME = "COMPRESSION_METADATA"  # _lut.METADATA_NAME (model/_lut.py imports flatbuffers)
_CUSTOM = "CUSTOM"
_STRING = 0  # the walker's kind of a string or table field (_schema.FIELDS)
_SIZE_KIND = {TensorType.STRING: 1, TensorType.RESOURCE: 2, TensorType.VARIANT: 2}
_SPARSE_DTYPES = {1: np.dtype(np.int32), 2: np.dtype(np.uint16), 3: np.dtype(np.uint8)}
_UNIONS = {1: _schema.OPTIONS, 2: _schema.OPTIONS2}


class Rejected(Exception):
    """The walker found a defect; the checked Python path names it."""


class Unsupported(Exception):
    """A file the walker leaves to the Python path."""


def read(data: memoryview) -> Model:
    """The Model of `data` through the walker; Rejected or Unsupported otherwise."""
    try:
        raw = _engine.read_model(data, _types(), *_layouts(), SCHEMA_VERSION, LUT_METADATA_NAME)
    except ValueError as error:
        raise Rejected(str(error)) from None
    if raw is None:
        raise Unsupported("LUT-compressed tensors, or a big-endian host")
    model = _Builder(data, raw).model()
    model._walked = Walked(data, raw)
    return model


class Walked:
    """The file and walker tuples a Model was built from: runtime/compiled.py compiles from them.
    A deep copy or pickle of the Model (which may then be changed) does not carry them."""

    __slots__ = ("data", "raw")

    def __init__(self, data: memoryview, raw: tuple) -> None:
        self.data, self.raw = data, raw

    def __deepcopy__(self, memo: dict) -> None:
        return None

    def __reduce__(self) -> tuple:
        return type(None), ()


@cache
def _types() -> tuple:
    """(TensorType, bits per element, size-check kind) per type code, for the walker."""
    types = list(TensorType)  # in code order
    assert [int(t) for t in types] == list(range(len(types))), "TensorType codes must be contiguous from 0"
    return tuple((t, check.bits_per_element(t), _SIZE_KIND.get(t, 0)) for t in types)


@cache
def _layouts() -> tuple[tuple, tuple]:
    """Per union (BuiltinOptions, BuiltinOptions2): per type code the table's layout
    ((vtable offset, kind, default), ...) from _schema.FIELDS, None if undefined."""
    return tuple(_union_layouts(_UNIONS[union]) for union in (1, 2))


def _union_layouts(names: dict[int, str]) -> tuple:
    layouts: list[Any] = [None] * (max(names) + 1)
    for code, table in names.items():
        if code:
            layouts[code] = tuple((slot, kind, default) for _, slot, kind, default in _schema.FIELDS[table])
    return tuple(layouts)


@cache
def _field_names(table: str) -> tuple[str, ...]:
    """The CamelCase names of the values the walker returns for `table`, in its order."""
    return tuple(name for name, _, kind, _ in _schema.FIELDS[table] if kind != _STRING)


def _build_options(source: tuple[int, int, tuple, str]) -> Any:
    """The options object of (union, code, values, opcode): what Operator.options reads as."""
    union, code, values, opcode = source
    return _options_maker(union, code, opcode)(values)


@lru_cache(maxsize=1024)  # bounded: hostile files may name any number of unknown opcodes
def _options_maker(union: int, code: int, opcode: str) -> Any:
    """values -> the op's options object, as options.to_options builds it from option_tables.read_table."""
    from edgelite.ops.registry import options_class  # the op's module: imported on first build

    table = _UNIONS[union][code]
    names = _field_names(table)
    cls = None if opcode == _CUSTOM else options_class(opcode)
    if cls is None or getattr(cls, "table", None) != table:
        return lambda values: RawOptions(table, dict(zip(names, values, strict=True)))
    position = {name: k for k, name in enumerate(names)}
    plan = tuple((field, position[key], _converter(kind)) for field, key, kind in _field_plan(cls)
                 if key in position)
    if len(plan) == len(dataclasses.fields(cls)):  # every field in the table: positional arguments
        steps = tuple((k, convert) for _, k, convert in plan)
        return lambda values: cls(*[values[k] if convert is None else convert(values[k])
                                    for k, convert in steps])

    def make(values: tuple) -> Any:
        return cls(**{field: values[k] if convert is None else convert(values[k])
                      for field, k, convert in plan})

    return make


def _converter(kind: type | None) -> Any:
    """What options.to_options does to a value of a field of type `kind`: bool(), the IntEnum member
    (unknown values stay ints, for the kernel's check to report), or nothing (None)."""
    if kind is bool:
        return bool
    if kind is None:
        return None
    members = kind._value2member_map_  # IntEnum(value) looks values up here
    return lambda value: members.get(value, value)


def _opcode_name(builtin: int) -> str:
    name = _schema.BUILTIN_OPERATORS.get(builtin)
    return f"{UNKNOWN_BUILTIN_PREFIX}{builtin}" if name is None else name


class _Builder:
    """Builds the Model from the walker's tuples (reader.h)."""

    def __init__(self, data: memoryview, raw: tuple) -> None:
        self.data = data
        (self.version, self.spans, codes, self.metadata_entries, self.subgraph_entries,
         self.signature_entries, self.description, floats, ints) = raw
        self.codes = [(_opcode_name(builtin), custom, version) for builtin, custom, version in codes]
        self.floats = np.frombuffer(floats, np.float32)
        self.ints = np.frombuffer(ints, np.int64)
        self.buffers: list[np.ndarray | None] = []

    def model(self) -> Model:
        metadata = _unique(self.metadata_entries, "metadata entries")
        self.buffers = self.buffer_views()
        subgraphs = [self.subgraph(s, entry) for s, entry in enumerate(self.subgraph_entries)]
        signatures = [SignatureDef(key, _unique(inputs, "signature inputs"),
                                   _unique(outputs, "signature outputs"), subgraph)
                      for key, subgraph, inputs, outputs in self.signature_entries]
        return Model(subgraphs, self.buffers, signatures, metadata, self.description or "", self.version)

    def buffer_views(self) -> list[np.ndarray | None]:
        whole = np.frombuffer(self.data, np.uint8)
        whole.flags.writeable = False
        spans = self.spans
        # Buffer 0 is the schema's empty sentinel: TFLite ignores whatever it holds.
        return [None, *(whole[spans[k]:spans[k] + spans[k + 1]] if spans[k + 1] else None
                        for k in range(2, len(spans), 2))]

    def subgraph(self, s: int, entry: tuple) -> Subgraph:
        name, tensor_arguments, inputs, outputs, operator_entries, raw, checks = entry
        tensors = self.tensors(s, tensor_arguments, raw, checks)
        return Subgraph(tensors, inputs, outputs, self.operators(operator_entries), name)

    def tensors(self, s: int, arguments: tuple, raw: list[int], checks: list[int]) -> list[Tensor]:
        """Tensors from their arguments; `raw` ones get their sparsity built and their quantization
        left to be built on first read, `checks` (sparse constants) their metadata checked against
        their data by _validate."""
        tensors = [Tensor(*each) for each in arguments]
        for i in raw:
            tensor = tensors[i]
            entry = vars(tensor)["quantization"]  # the walker's tuple, in the field
            if entry is not None:
                defer(tensor, "quantization", self.quantization, entry)
            if tensor.sparsity is not None:
                tensor.sparsity = self.sparsity(tensor.sparsity)
        for i in checks:
            tensor = tensors[i]
            label = f"tensor {i} ({tensor.name[:60]!r}) of subgraph {s}"
            try:
                check.check_constant(label, tensor, self.buffers[tensor.buffer], math.prod(tensor.shape))
            except ModelError as error:
                raise Rejected(str(error)) from None
        return tensors

    def operators(self, entries: tuple) -> list[Operator]:
        """The operators, their options left to be built on first read (ir.defer)."""
        codes, operators = self.codes, []
        for opcode, inputs, outputs, intermediates, options, custom_options in entries:
            name, custom_code, version = codes[opcode]
            operator = Operator(name, inputs, outputs, None, custom_code, custom_options, version,
                                intermediates)
            if options is not None:
                defer(operator, "options", _build_options, (*options, name))
            operators.append(operator)
        return operators

    def quantization(self, entry: tuple) -> Quantization:
        axis, scales, zeros, mins, maxs, f, z = entry
        floats = self.floats
        low = floats[f + scales:f + scales + mins] if mins else None
        high = floats[f + scales + mins:f + scales + mins + maxs] if maxs else None
        return Quantization(floats[f:f + scales], self.ints[z:z + zeros], axis, low, high)

    def sparsity(self, entry: tuple) -> Sparsity:
        order, block_map, levels = entry
        return Sparsity(order, block_map, [
            DimensionMetadata(kind, dense_size, self.index_vector(segments), self.index_vector(indices))
            for kind, dense_size, segments, indices in levels])

    def index_vector(self, entry: tuple | None) -> np.ndarray | None:
        if entry is None:
            return None
        kind, start, count = entry
        dtype = _SPARSE_DTYPES[kind]
        if count == 0:
            return np.empty(0, dtype)
        return np.frombuffer(self.data, dtype.newbyteorder("<"), count, start).astype(dtype)


def _unique(entries: tuple, what: str) -> dict[str, int]:
    mapping = dict(entries)
    if len(mapping) != len(entries):
        raise Rejected(f"two {what} share a name")
    return mapping
