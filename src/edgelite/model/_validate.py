"""Semantic checks of one tensor read from a file: shape, constant data, quantization, sparsity.

They follow what TFLite's interpreter builder and model verifier accept, so a file edgelite
loads is one LiteRT loads, and every message names the tensor and what is wrong with it.
"""

from __future__ import annotations

import math

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import Quantization, Sparsity, Tensor, TensorType

MAX_RANK = 16
MAX_TENSOR_BYTES = 2**63 - 1  # sizes must fit the int64 offsets the planner and native engine use
_BITS = {TensorType.INT4: 4, TensorType.BFLOAT16: 16}
_NO_SIZE_CHECK = {TensorType.STRING, TensorType.RESOURCE, TensorType.VARIANT}


def check_shape(label: str, shape: tuple[int, ...], what: str = "shape", lowest: int = 0) -> None:
    """Rank at most 16, every dimension >= `lowest` (-1 marks a dynamic one in a signature)."""
    if len(shape) > MAX_RANK:
        raise ModelError(f"{label} has a {what} of rank {len(shape)}; TFLite allows at most {MAX_RANK}")
    if any(dim < lowest for dim in shape):
        raise ModelError(f"{label} has a negative dimension in its {what} {list(shape)}")


def bits_per_element(tensor_type: TensorType) -> int:
    return _BITS.get(tensor_type, 8 * tensor_type.itemsize)


def check_size(label: str, shape: tuple[int, ...], tensor_type: TensorType) -> int:
    """The element count of `shape`, refusing tensors too big to address."""
    count = math.prod(shape)
    if count * max(bits_per_element(tensor_type), 8) // 8 > MAX_TENSOR_BYTES:
        raise ModelError(f"{label} has shape {list(shape)}: {count} elements is too many to address")
    return count


def check_constant(label: str, tensor: Tensor, data: np.ndarray, count: int) -> None:
    """A constant buffer must hold exactly the tensor's elements (TFLite's layout for strings)."""
    if tensor.type == TensorType.STRING:
        _check_strings(label, data, count)
        return
    if tensor.type in _NO_SIZE_CHECK:
        return
    if tensor.sparsity is not None:
        count = sparse_element_count(label, tensor.sparsity, tensor.shape)
    expected = (count * bits_per_element(tensor.type) + 7) // 8
    if data.size != expected:
        raise ModelError(f"{label} ({tensor.type.name}, shape {list(tensor.shape)}) needs {expected} "
                         f"bytes of constant data but its buffer {tensor.buffer} holds {data.size}")


def _check_strings(label: str, data: np.ndarray, count: int) -> None:
    """TFLite strings: int32 count n, n+1 int32 offsets (the first right after them, the last
    the buffer size, never decreasing), then the bytes."""
    size = data.size
    if size < 4:
        raise ModelError(f"{label} is a string constant whose buffer has {size} bytes, too few for a header")
    strings = int(data[:4].view("<u4")[0])
    header = (strings + 2) * 4
    if header > size:
        raise ModelError(f"{label} claims {strings} strings; their header alone needs {header} bytes "
                         f"but the buffer has {size}")
    if strings != count:
        raise ModelError(f"{label} has shape with {count} elements but its buffer holds {strings} strings")
    offsets = data[4:header].view("<i4").astype(np.int64)
    if offsets[0] != header or offsets[-1] != size or np.any(np.diff(offsets) < 0):
        raise ModelError(f"{label} has string offsets that are not increasing from {header} to {size}")


def check_quantization(label: str, quant: Quantization, shape: tuple[int, ...]) -> None:
    """As TFLite: scales and zero points pair up; per-channel scales cover the quantized axis."""
    scales, zero_points, axis = quant.scale.size, quant.zero_point.size, quant.quantized_dimension
    if scales == 0:
        return
    if scales != zero_points:
        raise ModelError(f"{label} has {scales} quantization scales but {zero_points} zero points; "
                         "TFLite needs one zero point per scale")
    if axis < 0 or (shape and axis >= len(shape)):
        raise ModelError(f"{label} has quantized_dimension {axis}, outside its rank-{len(shape)} shape")
    if scales != 1 and (not shape or scales != shape[axis]):
        extent = shape[axis] if shape else "no"
        raise ModelError(f"{label} has {scales} per-channel scales but dimension {axis} of its shape "
                         f"{list(shape)} has {extent} channels")


def sparse_element_count(label: str, sparsity: Sparsity, shape: tuple[int, ...]) -> int:
    """How many values a sparse tensor stores, checking its metadata like TFLite's verifier."""
    order, block_map, dims = sparsity.traversal_order, sparsity.block_map, sparsity.dim_metadata
    rank, total = len(shape), len(order)
    if total < rank or len(dims) != total or len(block_map) != total - rank:
        raise ModelError(f"{label} has sparsity with {total} traversed dimensions, {len(dims)} "
                         f"dimension metadata and {len(block_map)} block dimensions for rank {rank}")
    if sorted(order[:rank]) != list(range(rank)) or sorted(order[rank:]) != list(range(rank, total)):
        raise ModelError(f"{label} has sparsity traversal_order {list(order)}, not a permutation")
    sizes = list(shape) + [0] * (total - rank)
    for i, original in enumerate(block_map):
        block = dims[order[rank + i]].dense_size  # TFLite reads block i's size from this level
        if not 0 <= original < rank or block <= 0 or shape[original] % block:
            raise ModelError(f"{label} has sparse block dimension {i} of size {block} mapped to "
                             f"dimension {original}, which does not split its shape {list(shape)}")
        sizes[rank + i] = block
        sizes[original] = shape[original] // block
    count = 1
    for level, dim in enumerate(dims):
        size = sizes[order[level]]
        if dim.format == 0:
            if dim.dense_size != size:
                raise ModelError(f"{label} has dense sparsity level {level} of size {dim.dense_size}, "
                                 f"expected {size}")
            count *= size
            continue
        segments = dim.array_segments.astype(np.int64)
        indices = dim.array_indices.astype(np.int64)
        if (segments.size != count + 1 or segments[0] < 0 or np.any(np.diff(segments) < 0)
                or segments[-1] != indices.size or np.any((indices < 0) | (indices >= size))):
            raise ModelError(f"{label} has inconsistent CSR segments or indices at sparsity level {level}")
        count = indices.size
    return count
