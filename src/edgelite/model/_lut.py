"""TensorFlow Lite Micro's LUT compression of constant tensors (tflite-micro
`tensorflow/lite/micro/docs/compression.md`, schema `compression/metadata.fbs`).

A compressed tensor keeps its type and shape; its buffer holds one `index_bitwidth`-bit index per
element (1..7 bits, big-endian bit order, most significant bit first, zero-padded to a byte) into
a table of values of the tensor's type, held in another buffer. A per-channel quantized tensor
(more than one scale) has one table per channel along its quantized dimension (0, or the last
one), all padded to the same length (`stride`) and concatenated. The model's metadata entry
`COMPRESSION_METADATA` points at a flatbuffer listing them:
    Metadata { schema_version: uint = 1; subgraphs: [Subgraph] }
    Subgraph { lut_tensors: [LutTensor] }
    LutTensor { tensor: int; value_buffer: uint; index_bitwidth: ubyte }

In edgelite a Model is always dense: the reader expands compressed tensors at load (marking them
`Tensor.lut`), and the writer compresses marked tensors, so files round-trip.
"""

from __future__ import annotations

import copy
import struct
from dataclasses import dataclass

import flatbuffers
import numpy as np
from flatbuffers import number_types

from edgelite.errors import ModelError
from edgelite.model._flatbuffer import CheckedTable, CorruptError
from edgelite.model.ir import Model, Tensor, TensorType

METADATA_NAME = "COMPRESSION_METADATA"
SCHEMA_VERSION = 1
MAX_BITS = 7
MAX_STRIDE = 128  # TFLM's LookupTableData::kMaxValueTableChannelStride
ENTRY_OVERHEAD = 48  # bytes one more LutTensor and value buffer add to a file, about
TYPES = (TensorType.FLOAT32, TensorType.INT8, TensorType.INT16, TensorType.INT32, TensorType.INT64,
         TensorType.BOOL)


@dataclass(frozen=True)
class LutEntry:
    """One LutTensor of the metadata."""

    tensor: int
    value_buffer: int
    index_bitwidth: int


# ---- the metadata flatbuffer ------------------------------------------------------------------

def build_metadata(subgraphs: list[list[LutEntry]], version: int = SCHEMA_VERSION) -> bytes:
    """The COMPRESSION_METADATA flatbuffer for the entries of each subgraph (by subgraph index)."""
    builder = flatbuffers.Builder(256)
    builder.ForceDefaults(True)
    tables = []
    for entries in subgraphs:
        luts = []
        for entry in entries:
            builder.StartObject(3)
            builder.PrependInt32Slot(0, entry.tensor, 0)
            builder.PrependUint32Slot(1, entry.value_buffer, 0)
            builder.PrependUint8Slot(2, entry.index_bitwidth, 0)
            luts.append(builder.EndObject())
        vector = _offsets(builder, luts)
        builder.StartObject(1)
        builder.PrependUOffsetTRelativeSlot(0, vector, 0)
        tables.append(builder.EndObject())
    vector = _offsets(builder, tables)
    builder.StartObject(2)
    builder.PrependUint32Slot(0, version, SCHEMA_VERSION)
    builder.PrependUOffsetTRelativeSlot(1, vector, 0)
    builder.Finish(builder.EndObject())
    return bytes(builder.Output())


def _offsets(builder: flatbuffers.Builder, offsets: list[int]) -> int:
    builder.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        builder.PrependUOffsetTRelative(offset)
    return builder.EndVector()


def parse_metadata(data: bytes) -> tuple[int, list[list[LutEntry]]]:
    """(schema_version, entries per subgraph) of a COMPRESSION_METADATA buffer; ModelError if it
    is not a well-formed flatbuffer."""
    try:
        if len(data) < 8:
            raise CorruptError(f"it has {len(data)} bytes, too few for a flatbuffer")
        root = CheckedTable(data, struct.unpack_from("<I", data, 0)[0])
        version = _scalar(root, 0, number_types.Uint32Flags, SCHEMA_VERSION)
        subgraphs = []
        for table in _tables(root, 1, data):
            subgraphs.append([LutEntry(_scalar(lut, 0, number_types.Int32Flags, 0),
                                       _scalar(lut, 1, number_types.Uint32Flags, 0),
                                       _scalar(lut, 2, number_types.Uint8Flags, 0))
                              for lut in _tables(table, 0, data)])
        return version, subgraphs
    except (CorruptError, struct.error, IndexError, ValueError) as error:
        raise ModelError(f"the {METADATA_NAME} metadata is not a valid compression flatbuffer: "
                         f"{error}") from None


def _scalar(table: CheckedTable, slot: int, flags, default: int) -> int:
    offset = table.Offset(4 + 2 * slot)
    return int(table.Get(flags, table.Pos + offset)) if offset else default


def _tables(table: CheckedTable, slot: int, data: bytes) -> list[CheckedTable]:
    offset = table.Offset(4 + 2 * slot)
    if not offset:
        return []
    count = table.VectorLen(offset)
    start = table.Vector(offset)
    if start + 4 * count > len(data):
        raise CorruptError(f"a vector claims {count} tables, more than the buffer holds")
    return [CheckedTable(data, table.Indirect(start + 4 * k)) for k in range(count)]


# ---- indices and value tables -----------------------------------------------------------------

def pack_indices(indices: np.ndarray, bits: int) -> np.ndarray:
    """`bits`-wide unsigned indices as a big-endian bitstring, zero-padded to whole bytes."""
    shifts = np.arange(bits - 1, -1, -1, dtype=np.uint8)
    planes = (indices.reshape(-1, 1).astype(np.uint8) >> shifts) & 1
    return np.packbits(planes.reshape(-1))


def unpack_indices(packed: np.ndarray, count: int, bits: int) -> np.ndarray:
    planes = np.unpackbits(packed, count=count * bits).reshape(count, bits)
    return planes.astype(np.uint8) @ (1 << np.arange(bits - 1, -1, -1)).astype(np.uint8)


def channel_layout(tensor: Tensor) -> tuple[int, bool] | None:
    """(channels, alternate axis) of the value tables: one table, or one per channel of a
    per-channel quantized tensor along dimension 0 or (alternate) its last dimension; None when
    TFLM has no layout for its quantized dimension."""
    quant = tensor.quantization
    if quant is None or quant.scale.size <= 1:
        return 1, False
    axis, rank = quant.quantized_dimension, len(tensor.shape)
    if axis == 0:
        return int(quant.scale.size), False
    return (int(quant.scale.size), True) if axis == rank - 1 else None


def _channel_major(values: np.ndarray, channels: int, alternate: bool) -> np.ndarray:
    """[channels, elements per channel] view of the values in stored order."""
    flat = values.reshape(-1, channels).T if alternate else values.reshape(channels, -1)
    return flat


def encode(values: np.ndarray, tensor: Tensor) -> tuple[np.ndarray, np.ndarray, int] | None:
    """(packed indices, value tables, index bits) of a constant, or None when it cannot be stored
    as a LUT (type, quantized dimension, or more than 128 distinct values in one table)."""
    layout = channel_layout(tensor)
    if tensor.type not in TYPES or layout is None or values.size == 0:
        return None
    channels, alternate = layout
    rows = _channel_major(np.asarray(values), channels, alternate)
    if any(np.unique(row[:4 * MAX_STRIDE]).size > MAX_STRIDE for row in rows):
        return None  # a quick look at the first values of each table is often enough to tell
    found = [np.unique(row, return_inverse=True) for row in rows]
    stride = max(table.size for table, _ in found)
    if stride > MAX_STRIDE:
        return None
    tables = np.zeros((channels, stride), values.dtype)
    indices = np.empty(rows.shape, np.uint8)
    for k, (table, inverse) in enumerate(found):
        tables[k, :table.size] = table
        indices[k] = inverse.reshape(-1)
    if alternate:
        indices = indices.T
    bits = max(1, int(np.ceil(np.log2(stride))))
    return pack_indices(indices.reshape(-1), bits), tables.reshape(-1), bits


def lut_bytes(values: np.ndarray, tensor: Tensor) -> int | None:
    """Bytes of indices and value tables if stored as a LUT (None where it cannot be)."""
    encoded = encode(values, tensor)
    return None if encoded is None else encoded[0].nbytes + encoded[1].nbytes


def decode(label: str, tensor: Tensor, packed: np.ndarray | None, table: np.ndarray | None,
           bits: int) -> np.ndarray:
    """The dense values of a compressed tensor, checking everything TFLM would index with."""
    if not 1 <= bits <= MAX_BITS:
        raise ModelError(f"{label} is LUT-compressed with {bits}-bit indices; TFLM allows 1 to {MAX_BITS}")
    if tensor.type not in TYPES:
        raise ModelError(f"{label} is LUT-compressed but has type {tensor.type.name}; TFLM compresses "
                         f"{', '.join(t.name for t in TYPES)}")
    if tensor.sparsity is not None:
        raise ModelError(f"{label} is both sparse and LUT-compressed; a tensor can be only one")
    layout = channel_layout(tensor)
    if layout is None:
        raise ModelError(f"{label} is LUT-compressed per channel along dimension "
                         f"{tensor.quantization.quantized_dimension}; TFLM supports only the first or last")
    channels, alternate = layout
    count = int(np.prod(tensor.shape, dtype=np.int64))
    expected = (count * bits + 7) // 8
    if packed is None or packed.size != expected:
        held = 0 if packed is None else packed.size
        raise ModelError(f"{label} has {count} {bits}-bit LUT indices, which need {expected} bytes, but "
                         f"its buffer {tensor.buffer} holds {held}")
    itemsize = tensor.type.itemsize
    if table is None or table.size % itemsize or (table.size // itemsize) % channels:
        held = 0 if table is None else table.size
        raise ModelError(f"{label} has a LUT value buffer of {held} bytes: not a whole number of "
                         f"{tensor.type.name} values for each of its {channels} channel(s)")
    stride = table.size // itemsize // channels
    if stride > MAX_STRIDE:
        raise ModelError(f"{label} has LUT value tables of {stride} values per channel; TFLM allows "
                         f"at most {MAX_STRIDE}")
    indices = unpack_indices(packed, count, bits)
    if count and int(indices.max()) >= stride:
        raise ModelError(f"{label} has a LUT index {int(indices.max())} past the end of its "
                         f"{stride}-value table")
    values = np.frombuffer(table.tobytes(), tensor.dtype).reshape(channels, stride)
    if channels == 1:
        dense = values[0][indices]
    else:
        position = np.arange(count)
        channel = position % channels if alternate else position // (count // channels)
        dense = values[channel, indices]
    return dense.reshape(tensor.shape)


# ---- whole models -----------------------------------------------------------------------------

def entries_of(data: bytes, tensor_counts: list[int], buffer_count: int) -> dict[tuple[int, int], LutEntry]:
    """(subgraph, tensor) -> LutEntry of a COMPRESSION_METADATA buffer, every index checked
    against the model's subgraphs (their tensor counts) and buffers."""
    version, subgraphs = parse_metadata(data)
    if version > SCHEMA_VERSION:
        raise ModelError(f"the {METADATA_NAME} metadata has schema version {version}; edgelite reads "
                         f"version {SCHEMA_VERSION}")
    if len(subgraphs) > len(tensor_counts):
        raise ModelError(f"the {METADATA_NAME} metadata describes {len(subgraphs)} subgraphs but the "
                         f"model has {len(tensor_counts)}")
    found: dict[tuple[int, int], LutEntry] = {}
    for s, entries in enumerate(subgraphs):
        for entry in entries:
            label = f"LUT tensor {entry.tensor} of subgraph {s}"
            if not 0 <= entry.tensor < tensor_counts[s]:
                raise ModelError(f"{label}: subgraph {s} has {tensor_counts[s]} tensors")
            if not 0 < entry.value_buffer < buffer_count:
                raise ModelError(f"{label} has its values in buffer {entry.value_buffer}, but the model "
                                 f"has buffers 1..{buffer_count - 1}")
            if (s, entry.tensor) in found:
                raise ModelError(f"{label} is listed twice in the {METADATA_NAME} metadata")
            found[(s, entry.tensor)] = entry
    return found


def expand(model: Model, entries: dict[tuple[int, int], LutEntry]) -> None:
    """Replace each compressed tensor's data by its dense values (marking it `lut`), then drop the
    metadata entry and the buffers only the compressed form used (value tables, metadata)."""
    dropped = {model.metadata.pop(METADATA_NAME)}
    users = _buffer_users(model)
    for (s, i), entry in entries.items():
        tensor = model.subgraphs[s].tensors[i]
        label = f"tensor {i} ({tensor.name[:60]!r}) of subgraph {s}"
        dense = decode(label, tensor, _data(model, tensor.buffer), _data(model, entry.value_buffer),
                       entry.index_bitwidth)
        dropped.add(entry.value_buffer)
        _store(model, tensor, dense, users)
        model.buffers[tensor.buffer].flags.writeable = False
        tensor.lut = True
    used = {t.buffer for graph in model.subgraphs for t in graph.tensors} | set(model.metadata.values())
    _drop_buffers(model, dropped - used - {0})


def _buffer_users(model: Model) -> dict[int, int]:
    users: dict[int, int] = {}
    for graph in model.subgraphs:
        for tensor in graph.tensors:
            users[tensor.buffer] = users.get(tensor.buffer, 0) + 1
    for index in model.metadata.values():
        users[index] = users.get(index, 0) + 1
    return users


def _store(model: Model, tensor: Tensor, data: np.ndarray, users: dict[int, int]) -> None:
    """Put `data` in the tensor's own buffer if no one else reads it, else in a new one."""
    if tensor.buffer and users.get(tensor.buffer, 0) == 1:
        model.buffers[tensor.buffer] = np.frombuffer(np.ascontiguousarray(data).tobytes(), np.uint8)
    else:
        tensor.buffer = model.add_buffer(data)


def _drop_buffers(model: Model, dropped: set[int]) -> None:
    """Remove buffers from the list, renumbering every reference to the others."""
    if not dropped:
        return
    keep = [b for b in range(len(model.buffers)) if b not in dropped]
    renumber = {old: new for new, old in enumerate(keep)}
    model.buffers = [model.buffers[b] for b in keep]
    for graph in model.subgraphs:
        for tensor in graph.tensors:
            tensor.buffer = renumber.get(tensor.buffer, 0)
    model.metadata = {name: renumber[b] for name, b in model.metadata.items()}


def _data(model: Model, index: int) -> np.ndarray | None:
    return model.buffers[index] if 0 < index < len(model.buffers) else None


def for_writing(model: Model) -> Model:
    """`model` as written: tensors marked `lut` compressed, with their metadata (a shallow copy;
    `model` itself is unchanged; without marked tensors, `model` as it is). Raises ModelError for
    a marked tensor that cannot be."""
    marked = [(s, i) for s, graph in enumerate(model.subgraphs)
              for i, tensor in enumerate(graph.tensors) if tensor.lut]
    if not marked:
        return model
    out = copy.copy(model)
    out.buffers, out.metadata = list(model.buffers), dict(model.metadata)
    out.metadata.pop(METADATA_NAME, None)
    out.subgraphs = [copy.copy(graph) for graph in model.subgraphs]
    for graph in out.subgraphs:
        graph.tensors = list(graph.tensors)
    entries: list[list[LutEntry]] = [[] for _ in range(max((s for s, _ in marked), default=-1) + 1)]
    users, shared = _buffer_users(model), set()
    for s, i in marked:
        tensor = copy.copy(out.subgraphs[s].tensors[i])
        values = model.constant(tensor)
        encoded = None if values is None or tensor.sparsity is not None else encode(values, tensor)
        if encoded is None:
            raise ModelError(f"tensor {i} ({tensor.name[:60]!r}) of subgraph {s} is marked for LUT storage "
                             "but is not a dense constant of at most 128 distinct values per table in a "
                             "type TFLM decompresses; call edgelite.optimize.compress_lut again")
        packed, table, bits = encoded
        shared.add(tensor.buffer)
        _store(out, tensor, packed, users)
        entries[s].append(LutEntry(i, out.add_buffer(table), bits))
        tensor.lut = False  # the copy is written as it now is
        out.subgraphs[s].tensors[i] = tensor
    used = {t.buffer for graph in out.subgraphs for t in graph.tensors} | set(out.metadata.values())
    for index in shared - used - {0}:  # dense data that marked tensors shared: no longer written
        out.buffers[index] = None
    out.metadata[METADATA_NAME] = out.add_buffer(np.frombuffer(build_metadata(entries), np.uint8))
    return out
