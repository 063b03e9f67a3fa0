"""The checked pure-Python reader of .tflite files, through the generated `tflite` bindings.

It reads when the native extension is missing, names the defect when the extension's walker
(model/_native.py) refuses a file, reads the files the walker leaves to Python (LUT-compressed
tensors, big-endian hosts), and is the walker's test oracle (tests/model/differential.py).
Every table header, offset, length and index is checked before it is used (model/_flatbuffer.py);
any malformed input raises ModelError.
"""

from __future__ import annotations

import os
import re
import struct
from functools import cache
from typing import Any

import numpy as np
import tflite

from edgelite.errors import ModelError
from edgelite.model import _lut
from edgelite.model import _validate as check
from edgelite.model._flatbuffer import CheckedTable, CorruptError, accessor, checked, slot_of
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
)
from edgelite.model.option_tables import read_table
from edgelite.model.options import to_options
from edgelite.ops.registry import options_class

SCHEMA_VERSION = 3
_IDENTIFIER = b"TFL3"
# What malformed offsets make the generated accessors, numpy or struct raise.
_LOW_LEVEL_ERRORS = (CorruptError, struct.error, IndexError, ValueError, TypeError, OverflowError)
_INDEX_VECTORS = {1: (tflite.Int32Vector, np.int32), 2: (tflite.Uint16Vector, np.uint16),
                  3: (tflite.Uint8Vector, np.uint8)}


def read_checked(source: Any, data: memoryview) -> Model:
    """The checked pure-Python reader (without the extension, and to name a defect C found)."""
    reader = _Reader(data)
    try:
        return reader.model()
    except ModelError as error:
        if isinstance(source, (str, os.PathLike)):
            raise ModelError(f"{os.fspath(source)}: {error}") from error
        raise
    except _LOW_LEVEL_ERRORS as error:
        raise ModelError(f"corrupt or truncated model ({reader.where}): {error}") from error


@cache
def _enum_names(enum_class: type) -> dict[int, str]:
    return {value: name for name, value in vars(enum_class).items() if not name.startswith("_")}


_TENSOR_TYPES = {int(t): t for t in TensorType}


@cache
def _int32s(count: int) -> struct.Struct:
    return struct.Struct(f"<{count}i")


@cache
def _little_endian(dtype: Any) -> np.dtype:
    return np.dtype(dtype).newbyteorder("<")


@cache
def _snake(field: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", field).lower()


class _Reader:
    """One pass over a file; `where` names the part being read, for low-level error messages."""

    def __init__(self, data: memoryview) -> None:
        self.data, self.size = data, len(data)
        self.where = "the file header"
        # Bytes decoded into Python objects. Honest files decode each byte once; tables that
        # alias one huge vector again and again must not make loading quadratic.
        self.budget = 4 * self.size + 2**20
        self.buffer_count = 0
        self.lut_tensors: set[tuple[int, int]] = set()

    def spend(self, count: int) -> None:
        self.budget -= count
        if self.budget < 0:
            raise ModelError(f"{self.where}: the file's vectors overlap so much that decoding them "
                             "needs more than four times the file size; the file is corrupt")

    def vector(self, obj: Any, field: str, item_size: int) -> tuple[int, int]:
        """(offset of the elements, count) of a vector field, once it is known to lie inside the file."""
        start, count = obj._tab.vector(slot_of(type(obj), f"{field}Length"))
        if count and start + count * item_size > self.size:
            raise ModelError(f"{self.where}: its {_snake(field)} vector claims {count} elements, "
                             "more than the file holds")
        return start, count

    def length(self, obj: Any, field: str, item_size: int) -> int:
        """The length of a vector field, once it is known to lie inside the file."""
        return self.vector(obj, field, item_size)[1]

    def array(self, obj: Any, field: str, dtype: Any) -> np.ndarray:
        """A numeric vector field as a read-only numpy view of the file (empty if absent)."""
        dtype = _little_endian(dtype)
        start, count = self.vector(obj, field, dtype.itemsize)
        if count == 0:
            return np.empty(0, dtype)
        self.spend(count * dtype.itemsize)
        return np.frombuffer(self.data, dtype, count, start)

    def tables(self, obj: Any, field: str, accessor_class: type) -> list[Any]:
        """A vector of tables as checked accessor objects (positions computed in one numpy pass)."""
        start, count = self.vector(obj, field, 4)
        if count == 0:
            return []
        relative = np.frombuffer(self.data, "<u4", count, start).astype(np.int64)
        positions = (relative + np.arange(start, start + 4 * count, 4, dtype=np.int64)).tolist()
        return [accessor(accessor_class, self.data, position) for position in positions]

    def string(self, obj: Any, field: str) -> str | None:
        raw = getattr(obj, field)()
        if raw is None:
            return None
        self.spend(len(raw))
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ModelError(f"{self.where}: its {_snake(field)} is not valid UTF-8") from None

    def model(self) -> Model:
        if self.size < 8:
            raise ModelError(f"the input has {self.size} bytes, too few for a TFLite model")
        identifier = bytes(self.data[4:8])
        if identifier != _IDENTIFIER and all(32 <= c < 127 for c in identifier):
            raise ModelError(f"the file identifier is {identifier.decode()!r}, not 'TFL3': "
                             "this is not a TFLite model")
        self.where = "the model table"
        root = checked(tflite.Model.GetRootAs(self.data, 0))
        version = root.Version()
        if version > SCHEMA_VERSION:
            raise ModelError(f"the model has schema version {version}; edgelite reads versions "
                             f"up to {SCHEMA_VERSION}")
        buffers = self.buffers(root)
        codes = self.operator_codes(root)
        metadata = self.metadata(root)
        self.where = "the model table"
        count = self.length(root, "Subgraphs", 4)
        if count == 0:
            raise ModelError("the model has no subgraphs")
        lut_entries = self.compressed(root, count, buffers, metadata)
        self.lut_tensors = set(lut_entries)
        subgraphs = [self.subgraph(root, index, buffers, codes) for index in range(count)]
        self.where = "the model table"
        signatures = [self.signature(root, index, subgraphs)
                      for index in range(self.length(root, "SignatureDefs", 4))]
        self.where = "the model description"
        description = self.string(root, "Description") or ""
        model = Model(subgraphs, buffers, signatures, metadata, description, version)
        if lut_entries:
            self.where = f"the {_lut.METADATA_NAME} metadata"
            _lut.expand(model, lut_entries)
        return model

    def compressed(self, root: Any, count: int, buffers: list, metadata: dict[str, int]) -> dict:
        """(subgraph, tensor) -> LutEntry of TFLM's LUT compression metadata, if any: those
        tensors' buffers hold packed indices, checked and expanded once the subgraphs are read."""
        if _lut.METADATA_NAME not in metadata:
            return {}
        self.where = f"the {_lut.METADATA_NAME} metadata"
        data = buffers[metadata[_lut.METADATA_NAME]]
        tensor_counts = [self.length(checked(root.Subgraphs(s)), "Tensors", 4) for s in range(count)]
        return _lut.entries_of(b"" if data is None else data.tobytes(), tensor_counts, self.buffer_count)

    def buffers(self, root: Any) -> list[np.ndarray | None]:
        tables = self.tables(root, "Buffers", tflite.Buffer)
        self.buffer_count = len(tables)
        buffers = [self.buffer(table, index) for index, table in enumerate(tables)]
        # Buffer 0 is the schema's empty sentinel: TFLite ignores whatever it holds.
        return [None, *buffers[1:]]

    def buffer(self, table: Any, index: int) -> np.ndarray | None:
        self.where = f"buffer {index}"
        start, count = self.vector(table, "Data", 1)  # a zero-copy view: no decoding budget spent
        data = np.frombuffer(self.data, np.uint8, count, start) if count else np.empty(0, np.uint8)
        offset, size = table.Offset(), table.Size()
        if offset > 1:  # a large model keeps its data after the flatbuffer (offset 1: placeholder)
            if count:
                raise ModelError(f"buffer {index} has both inline data and an offset ({offset})")
            if offset + size > self.size:
                raise ModelError(f"buffer {index} lies at bytes {offset}..{offset + size}, past the "
                                 f"end of the {self.size}-byte file")
            data = np.frombuffer(self.data, np.uint8, count=size, offset=offset)
        if data.size == 0:
            return None
        data.flags.writeable = False
        return data

    def operator_codes(self, root: Any) -> list[tuple[str, str | None, int]]:
        codes = []
        self.where = "the model table"
        for index in range(self.length(root, "OperatorCodes", 4)):
            self.where = f"operator code {index}"
            code = checked(root.OperatorCodes(index))
            builtin = max(code.DeprecatedBuiltinCode(), code.BuiltinCode())
            if builtin < 0:
                raise ModelError(f"operator code {index} has negative builtin code {builtin}")
            # A code newer than our schema loads (and round-trips) but has no kernel.
            name = _enum_names(tflite.BuiltinOperator).get(builtin, f"{UNKNOWN_BUILTIN_PREFIX}{builtin}")
            custom = self.string(code, "CustomCode") if name == "CUSTOM" else None
            if name == "CUSTOM" and custom is None:
                raise ModelError(f"operator code {index} is a custom operator without a custom_code")
            codes.append((name, custom, code.Version()))
        return codes

    def subgraph(self, root: Any, index: int, buffers: list, codes: list) -> Subgraph:
        label = self.where = f"subgraph {index}"
        table = checked(root.Subgraphs(index))
        name = self.string(table, "Name") or ""
        tensor_tables = self.tables(table, "Tensors", tflite.Tensor)
        count = len(tensor_tables)
        tensors = [self.tensor(tensor, index, i, buffers) for i, tensor in enumerate(tensor_tables)]
        self.where = label
        inputs = self.indices(table, "Inputs", count, label)
        outputs = self.indices(table, "Outputs", count, label)
        operators = [self.operator(op_table, index, k, count, codes)
                     for k, op_table in enumerate(self.tables(table, "Operators", tflite.Operator))]
        return Subgraph(tensors, inputs, outputs, operators, name)

    def indices(self, obj: Any, field: str, tensor_count: int, owner: str, optional: bool = False
                ) -> tuple[int, ...]:
        """A vector of tensor indices, each checked (-1 marks an omitted optional input)."""
        self.where = owner
        start, count = self.vector(obj, field, 4)
        self.spend(4 * count)
        values = _int32s(count).unpack_from(self.data, start) if count < 64 else \
            np.frombuffer(self.data, "<i4", count, start).tolist()
        lowest = -1 if optional else 0
        if values and (min(values) < lowest or max(values) >= tensor_count):
            bad = next(k for k, v in enumerate(values) if v < lowest or v >= tensor_count)
            raise ModelError(f"{owner}: {_snake(field)}[{bad}] is tensor {values[bad]}, but the "
                             f"subgraph has {tensor_count} tensors")
        return tuple(values)

    def tensor(self, table: Any, s: int, i: int, buffers: list) -> Tensor:
        label = self.where = f"tensor {i} of subgraph {s}"
        name = self.string(table, "Name") or ""
        label = self.where = f"tensor {i} ({name[:60]!r}) of subgraph {s}"
        shape = self.dims(table, "Shape", label, 0)
        code = table.Type()
        tensor_type = _TENSOR_TYPES.get(code)
        if tensor_type is None:
            raise ModelError(f"{label} has type {code}, which the TFLite schema does not define") from None
        count = check.check_size(label, shape, tensor_type)
        signature = None
        if not table.ShapeSignatureIsNone():
            signature = self.dims(table, "ShapeSignature", label, -1)
            if len(signature) != len(shape):
                raise ModelError(f"{label} has shape {list(shape)} but shape_signature {list(signature)} "
                                 "of another rank")
        buffer = table.Buffer()
        if buffer and buffer >= self.buffer_count:
            raise ModelError(f"{label} refers to buffer {buffer} but the model has "
                             f"{self.buffer_count} buffers")
        tensor = Tensor(name, shape, tensor_type, buffer, self.quantization(table, label, shape),
                        self.sparsity(table, label), signature, bool(table.IsVariable()),
                        bool(table.HasRank()) or bool(shape))
        if buffers[buffer] is not None and (s, i) not in self.lut_tensors:
            check.check_constant(label, tensor, buffers[buffer], count)
        return tensor

    def dims(self, table: Any, field: str, label: str, lowest: int) -> tuple[int, ...]:
        start, rank = self.vector(table, field, 4)
        what = _snake(field)
        if rank > check.MAX_RANK:
            raise ModelError(f"{label} has a {what} of rank {rank}; TFLite allows at most {check.MAX_RANK}")
        self.spend(4 * rank)
        dims = _int32s(rank).unpack_from(self.data, start)
        check.check_shape(label, dims, what, lowest)
        return dims

    def quantization(self, tensor: Any, label: str, shape: tuple[int, ...]) -> Quantization | None:
        table = tensor._tab.child(slot_of(tflite.Tensor, "Quantization"), tflite.QuantizationParameters)
        vectors = ("ScaleLength", "ZeroPointLength", "MinLength", "MaxLength")
        if table is None or not any(table._tab.Offset(slot_of(tflite.QuantizationParameters, field))
                                    for field in vectors):
            return None  # absent, or all four vectors absent (what empty ones also mean)
        self.where = f"the quantization of {label}"
        scale = np.array(self.array(table, "Scale", np.float32), np.float32)
        zero_point = np.array(self.array(table, "ZeroPoint", np.int64), np.int64)
        low = np.array(self.array(table, "Min", np.float32), np.float32)
        high = np.array(self.array(table, "Max", np.float32), np.float32)
        if not (scale.size or zero_point.size or low.size or high.size):
            return None
        quant = Quantization(scale, zero_point, table.QuantizedDimension(),
                             low if low.size else None, high if high.size else None)
        check.check_quantization(label, quant, shape)
        return quant

    def sparsity(self, tensor: Any, label: str) -> Sparsity | None:
        table = tensor._tab.child(slot_of(tflite.Tensor, "Sparsity"), tflite.SparsityParameters)
        if table is None:
            return None
        self.where = f"the sparsity of {label}"
        order = tuple(self.array(table, "TraversalOrder", np.int32).tolist())
        block_map = tuple(self.array(table, "BlockMap", np.int32).tolist())
        levels = []
        for level in range(self.length(table, "DimMetadata", 4)):
            dim = checked(table.DimMetadata(level))
            kind = dim.Format()
            if kind not in (0, 1):
                raise ModelError(f"{label} has sparsity level {level} of unknown format {kind}")
            segments = indices = None
            if kind == 1:
                segments = self.index_vector(dim.ArraySegmentsType(), dim.ArraySegments(), label, level)
                indices = self.index_vector(dim.ArrayIndicesType(), dim.ArrayIndices(), label, level)
            levels.append(DimensionMetadata(kind, dim.DenseSize(), segments, indices))
        return Sparsity(order, block_map, levels)

    def index_vector(self, kind: int, union: Any, label: str, level: int) -> np.ndarray:
        if union is None or kind not in _INDEX_VECTORS:
            raise ModelError(f"{label} has sparse level {level} without valid segments and indices")
        vector_class, dtype = _INDEX_VECTORS[kind]
        vector = vector_class()
        vector._tab = CheckedTable(self.data, union.Pos)
        return np.array(self.array(vector, "Values", dtype), dtype)

    def operator(self, table: Any, s: int, k: int, tensor_count: int, codes: list) -> Operator:
        owner = self.where = f"operator {k} of subgraph {s}"
        index = table.OpcodeIndex()
        if index >= len(codes):
            raise ModelError(f"{owner} uses operator code {index} but the model has {len(codes)} "
                             "operator codes")
        name, custom_code, version = codes[index]
        owner = f"operator {k} ({custom_code or name}) of subgraph {s}"
        inputs = self.indices(table, "Inputs", tensor_count, owner, optional=True)
        outputs = self.indices(table, "Outputs", tensor_count, owner)
        intermediates = self.indices(table, "Intermediates", tensor_count, owner)
        return Operator(name, inputs, outputs, self.options(table, name, owner), custom_code,
                        self.custom_options(table, owner), version, intermediates)

    def options(self, op: Any, name: str, owner: str) -> Any:
        first, second = op.BuiltinOptionsType(), op.BuiltinOptions2Type()
        if first and second:
            raise ModelError(f"{owner} has both builtin_options and builtin_options_2")
        if not (first or second):
            return None
        union = tflite.BuiltinOptions if first else tflite.BuiltinOptions2
        table = _enum_names(union).get(first or second)
        if table is None:
            raise ModelError(f"{owner} has builtin options of type {first or second}, which the "
                             "TFLite schema does not define")
        position = op.BuiltinOptions() if first else op.BuiltinOptions2()
        if position is None:
            raise ModelError(f"{owner} declares {table} but has no options table")
        values = read_table(table, self.data, position.Pos)  # header and every read checked
        self.spend(4 * sum(len(value) for value in values.values() if isinstance(value, tuple)))
        return to_options(None if name == "CUSTOM" else options_class(name), table, values)

    def custom_options(self, op: Any, owner: str) -> bytes | None:
        offset, size = op.LargeCustomOptionsOffset(), op.LargeCustomOptionsSize()
        if offset > 1:  # as TFLite: large models keep custom options after the flatbuffer
            if offset + size > self.size:
                raise ModelError(f"{owner} has custom options at bytes {offset}..{offset + size}, "
                                 f"past the end of the {self.size}-byte file")
            self.spend(size)
            return bytes(self.data[offset:offset + size])
        if op.CustomOptionsIsNone():
            return None
        return self.array(op, "CustomOptions", np.uint8).tobytes()

    def signature(self, root: Any, index: int, subgraphs: list[Subgraph]) -> SignatureDef:
        self.where = f"signature def {index}"
        table = checked(root.SignatureDefs(index))
        key = self.string(table, "SignatureKey") or ""
        label = self.where = f"signature def {index} ({key[:60]!r})"
        subgraph = table.SubgraphIndex()
        if subgraph >= len(subgraphs):
            raise ModelError(f"{label} refers to subgraph {subgraph} but the model has "
                             f"{len(subgraphs)} subgraphs")
        count = len(subgraphs[subgraph].tensors)
        inputs = self.tensor_map(table, "Inputs", label, subgraph, count)
        outputs = self.tensor_map(table, "Outputs", label, subgraph, count)
        return SignatureDef(key, inputs, outputs, subgraph)

    def tensor_map(self, table: Any, field: str, label: str, subgraph: int, count: int) -> dict[str, int]:
        mapping: dict[str, int] = {}
        self.where = label
        for j in range(self.length(table, field, 4)):
            item = checked(getattr(table, field)(j))
            name = self.string(item, "Name") or ""
            tensor = item.TensorIndex()
            if tensor >= count:
                raise ModelError(f"{label}: {field.lower()[:-1]} {name[:60]!r} is tensor {tensor}, but "
                                 f"subgraph {subgraph} has {count} tensors")
            if name in mapping:
                raise ModelError(f"{label} has two {field.lower()} named {name[:60]!r}")
            mapping[name] = tensor
        return mapping

    def metadata(self, root: Any) -> dict[str, int]:
        self.where = "the model's metadata_buffer"
        legacy = self.array(root, "MetadataBuffer", np.int32)
        if np.any((legacy < 0) | (legacy >= self.buffer_count)):
            raise ModelError(f"the model's metadata_buffer {legacy.tolist()[:8]} refers to buffers "
                             f"beyond its {self.buffer_count}")
        metadata: dict[str, int] = {}
        self.where = "the model table"
        for index in range(self.length(root, "Metadata", 4)):
            self.where = f"metadata {index}"
            item = checked(root.Metadata(index))
            name = self.string(item, "Name") or ""
            buffer = item.Buffer()
            if buffer >= self.buffer_count:
                raise ModelError(f"metadata {name[:60]!r} refers to buffer {buffer} but the model has "
                                 f"{self.buffer_count} buffers")
            if name in metadata:
                raise ModelError(f"the model has two metadata entries named {name[:60]!r}")
            metadata[name] = buffer
        return metadata
