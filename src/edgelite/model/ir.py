"""The in-memory model: plain dataclasses mirroring the .tflite schema."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class TensorType(enum.IntEnum):
    """TFLite's TensorType enum (schema values)."""

    FLOAT32 = 0
    FLOAT16 = 1
    INT32 = 2
    UINT8 = 3
    INT64 = 4
    STRING = 5
    BOOL = 6
    INT16 = 7
    COMPLEX64 = 8
    INT8 = 9
    FLOAT64 = 10
    COMPLEX128 = 11
    UINT64 = 12
    RESOURCE = 13
    VARIANT = 14
    UINT32 = 15
    UINT16 = 16
    INT4 = 17
    BFLOAT16 = 18

    @property
    def numpy(self) -> np.dtype:
        """The numpy dtype holding one element (strings and handles use object)."""
        return _DTYPES[self]

    @property
    def itemsize(self) -> int:
        """Bytes per element in a buffer (0 for types without a fixed size)."""
        return _ITEMSIZES[self]

    @classmethod
    def from_numpy(cls, dtype: Any) -> TensorType:
        """The TensorType for a numpy dtype (or type such as np.float32)."""
        name = np.dtype(dtype).name
        if name.startswith(("str", "bytes")) or name == "object":
            return cls.STRING
        for tensor_type, numpy_name in _NUMPY_NAMES.items():
            if numpy_name == name:
                return tensor_type
        raise ValueError(f"numpy dtype {name} has no TFLite tensor type")


_NUMPY_NAMES = {
    TensorType.FLOAT32: "float32",
    TensorType.FLOAT16: "float16",
    TensorType.INT32: "int32",
    TensorType.UINT8: "uint8",
    TensorType.INT64: "int64",
    TensorType.BOOL: "bool",
    TensorType.INT16: "int16",
    TensorType.COMPLEX64: "complex64",
    TensorType.INT8: "int8",
    TensorType.FLOAT64: "float64",
    TensorType.COMPLEX128: "complex128",
    TensorType.UINT64: "uint64",
    TensorType.UINT32: "uint32",
    TensorType.UINT16: "uint16",
}
_VARIABLE_SIZE = {TensorType.STRING, TensorType.RESOURCE, TensorType.VARIANT, TensorType.INT4,
                  TensorType.BFLOAT16}
_DTYPES = {t: np.dtype(_NUMPY_NAMES.get(t, "object")) for t in TensorType}
_ITEMSIZES = {t: 0 if t in _VARIABLE_SIZE else _DTYPES[t].itemsize for t in TensorType}


@dataclass
class Quantization:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per channel."""

    scale: np.ndarray  # float32, one value or one per channel
    zero_point: np.ndarray  # int64, same length as scale
    quantized_dimension: int = 0
    min: np.ndarray | None = None
    max: np.ndarray | None = None

    @property
    def per_channel(self) -> bool:
        return self.scale.size > 1

    @classmethod
    def of(cls, scale: Any, zero_point: Any = 0, quantized_dimension: int = 0) -> Quantization:
        """Build from scalars or sequences; zero points broadcast to the scales' length."""
        scale = np.atleast_1d(np.asarray(scale, dtype=np.float32))
        zero_point = np.broadcast_to(np.asarray(zero_point, dtype=np.int64), scale.shape).copy()
        return cls(scale, zero_point, quantized_dimension)


@dataclass
class DimensionMetadata:
    """One dimension of a sparse tensor: dense (just a size) or CSR (segments + indices)."""

    format: int  # 0 = DENSE, 1 = SPARSE_CSR
    dense_size: int = 0
    array_segments: np.ndarray | None = None
    array_indices: np.ndarray | None = None


@dataclass
class Sparsity:
    """TFLite SparsityParameters: traversal order, block map and per-dimension metadata."""

    traversal_order: tuple[int, ...]
    block_map: tuple[int, ...]
    dim_metadata: list[DimensionMetadata]


@dataclass
class Tensor:
    """A tensor of a subgraph; constant when its buffer holds data."""

    name: str
    shape: tuple[int, ...]
    type: TensorType = TensorType.FLOAT32
    buffer: int = 0
    quantization: Quantization | None = None
    sparsity: Sparsity | None = None
    shape_signature: tuple[int, ...] | None = None
    is_variable: bool = False
    has_rank: bool = True
    lut: bool = False  # written in TFLM's LUT-compressed form (model/_lut.py); the data here stays dense

    @property
    def dtype(self) -> np.dtype:
        return self.type.numpy


UNKNOWN_BUILTIN_PREFIX = "BUILTIN_"  # opcode of a builtin newer than the schema: BUILTIN_<code>


@dataclass
class Operator:
    """One node: a builtin op (by schema name) with its options, or a custom op with raw bytes."""

    opcode: str  # builtin name, e.g. "CONV_2D", or "CUSTOM"
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: Any = None  # the op's options dataclass (see ops/) or None
    custom_code: str | None = None
    custom_options: bytes | None = None
    version: int = 1
    intermediates: tuple[int, ...] = ()

    @property
    def name(self) -> str:
        """What resolves the kernel: the custom code for custom ops, else the builtin name."""
        return self.custom_code if self.opcode == "CUSTOM" else self.opcode


class _Deferred:
    """A field readers may leave unbuilt (`defer`): its first read builds it and stores it on the
    instance, which later reads find first (this descriptor has no __set__). Otherwise it reads as
    the field's default (None), as the plain default did."""

    def __init__(self, name: str) -> None:
        self.name, self.key = name, f"_deferred_{name}"

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return None
        state = vars(instance)
        deferred = state.get(self.key)
        if deferred is None:  # deleted, or another thread built it since the lookup
            return state.get(self.name)
        build, source = deferred
        value = state.setdefault(self.name, build(source))
        state.pop(self.key, None)
        return value


# Fields the walker leaves unbuilt, so that reading a model builds no options object (which imports
# the op's module) and no Quantization (numpy views) until something reads them.
Operator.options = _Deferred("options")  # replaces the class-level default (None) that @dataclass set
Tensor.quantization = _Deferred("quantization")


def defer(instance: Operator | Tensor, name: str, build: Callable[[Any], Any], source: Any) -> None:
    """Make `instance.<name>` (Operator.options, Tensor.quantization) be `build(source)`, built when
    first read."""
    state = vars(instance)
    state.pop(name, None)
    state[f"_deferred_{name}"] = (build, source)


def deferred(instance: Operator | Tensor, name: str) -> tuple[Callable[[Any], Any], Any] | None:
    """(build, source) of a field `defer` left unbuilt, or None once built or assigned."""
    state = vars(instance)
    return None if name in state else state.get(f"_deferred_{name}")


@dataclass
class Subgraph:
    tensors: list[Tensor] = field(default_factory=list)
    inputs: tuple[int, ...] = ()
    outputs: tuple[int, ...] = ()
    operators: list[Operator] = field(default_factory=list)
    name: str = ""


@dataclass
class SignatureDef:
    """A named entry point: input/output names mapped to tensor indices of one subgraph."""

    key: str
    inputs: dict[str, int]
    outputs: dict[str, int]
    subgraph_index: int = 0


@dataclass
class Model:
    """A whole .tflite model. buffers[0] is the schema's empty sentinel buffer."""

    subgraphs: list[Subgraph] = field(default_factory=list)
    buffers: list[np.ndarray | None] = field(default_factory=lambda: [None])
    signatures: list[SignatureDef] = field(default_factory=list)
    metadata: dict[str, int] = field(default_factory=dict)  # name -> buffer index
    description: str = ""
    version: int = 3

    def constant(self, tensor: Tensor) -> np.ndarray | None:
        """The tensor's constant value as a (zero-copy) typed array, or None if it has no data."""
        data = self.buffers[tensor.buffer] if 0 <= tensor.buffer < len(self.buffers) else None
        if data is None or data.size == 0:
            return None
        if tensor.sparsity is not None or tensor.type.itemsize == 0:
            return data
        return data.view(tensor.dtype).reshape(tensor.shape)

    def add_buffer(self, data: np.ndarray | bytes | None) -> int:
        """Append a buffer (any array is stored as its raw little-endian bytes); return its index."""
        if data is not None:
            data = np.frombuffer(np.ascontiguousarray(data).tobytes(), dtype=np.uint8)
        self.buffers.append(data)
        return len(self.buffers) - 1

    def metadata_bytes(self, name: str) -> bytes | None:
        index = self.metadata.get(name)
        data = None if index is None else self.buffers[index]
        return None if data is None else data.tobytes()

    def save(self, path: str) -> None:
        """Write the model as a .tflite file."""
        from edgelite.model.writer import write_model

        with open(path, "wb") as out:
            out.write(write_model(self))

    def to_bytes(self) -> bytes:
        """Serialize the model to .tflite bytes."""
        from edgelite.model.writer import write_model

        return write_model(self)
