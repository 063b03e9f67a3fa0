"""Helpers shared by the data-movement ops (reshape, slice, gather, pad, split, ...)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgelite.errors import EdgeliteError, ModelError
from edgelite.model.ir import TensorType
from edgelite.ops.base import Node

MOVEMENT = frozenset({TensorType.FLOAT32, TensorType.INT32, TensorType.INT64, TensorType.BOOL,
                      TensorType.INT8, TensorType.UINT8, TensorType.INT16})
"""Types a dtype-agnostic op moves (8/16-bit integers only with unchanged quantization)."""

INDEX = frozenset({TensorType.INT32, TensorType.INT64})
_QUANTIZED = frozenset({TensorType.INT8, TensorType.UINT8, TensorType.INT16})


class InvalidInputError(EdgeliteError, ValueError):
    """An input VALUE (not the model) is invalid for the op, e.g. a gather index out of range."""


def model_error(node: Node, why: str) -> ModelError:
    return ModelError(f"{node.describe()}: {why}")


def input_error(node: Node, why: str) -> InvalidInputError:
    return InvalidInputError(f"{node.describe()}: {why}")


def int_values(node: Node, i: int) -> list[int] | None:
    """Input i's values as Python ints (None while not known at prepare time)."""
    value = node.inputs[i]
    if value is None:
        return None
    flat = np.asarray(value).reshape(-1)
    return flat.tolist() if flat.dtype.kind in "iu" else [int(v) for v in flat.tolist()]


def scalar(node: Node, i: int) -> int | None:
    values = int_values(node, i)
    if values is None:
        return None
    if len(values) != 1:
        raise model_error(node, f"input {i} must hold one value, got {len(values)}")
    return values[0]


def normalize_axis(node: Node, axis: int, rank: int, what: str = "axis") -> int:
    """A possibly negative axis as an index in [0, rank); ModelError when out of range."""
    if not -rank <= axis < rank:
        raise model_error(node, f"{what} {axis} is out of range for rank {rank}")
    return axis + rank if axis < 0 else axis


def check_index_type(node: Node, i: int, allowed: frozenset[TensorType] = INDEX) -> None:
    tensor = node.input_tensors[i]
    if tensor is not None and tensor.type not in allowed:
        names = "/".join(sorted(t.name.lower() for t in allowed))
        raise node.unsupported(f"input {i} must be {names}, got {tensor.type.name.lower()}")


def check_movement(node: Node, data: Sequence[int] = (0,)) -> None:
    """Data movement of quantized integers is exact only when every operand shares quantization."""
    tensors = [node.input_tensors[i] for i in data] + list(node.output_tensors)
    tensors = [t for t in tensors if t is not None]
    if not tensors or tensors[0].type not in _QUANTIZED:
        return
    first = _quant_key(tensors[0].quantization)
    for tensor in tensors[1:]:
        if _quant_key(tensor.quantization) != first:
            raise node.unsupported(
                f"tensor {tensor.name!r} is quantized differently from {tensors[0].name!r}; "
                "requantizing data movement is not supported (give all operands the same "
                "scale and zero point)")


def _quant_key(quantization) -> tuple:
    if quantization is None or quantization.scale.size == 0:
        return ()
    return (tuple(np.asarray(quantization.scale, np.float32).tolist()),
            tuple(np.asarray(quantization.zero_point, np.int64).tolist()))


def zero_point(node: Node) -> int:
    """The value that represents 0 in output 0 (its zero point when quantized, else 0)."""
    quantization = node.output_tensors[0].quantization
    if quantization is None or quantization.zero_point.size == 0:
        return 0
    return int(quantization.zero_point.reshape(-1)[0])


def paddings(node: Node, i: int, rank: int) -> list[tuple[int, int]] | None:
    """A [rank, 2] paddings/crops input as (before, after) pairs, checked non-negative."""
    values = int_values(node, i)
    if values is None:
        return None
    if len(values) != 2 * rank:
        raise model_error(node, f"input {i} must have shape [{rank}, 2], got {len(values)} values")
    pairs = list(zip(values[0::2], values[1::2], strict=True))
    if min(values, default=0) < 0:
        raise model_error(node, f"input {i} has a negative value: {pairs}")
    return pairs


def block_and_paddings(node: Node) -> tuple[list[int], list[tuple[int, int]]] | None:
    """SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND's block_shape (input 1) and paddings or crops (input 2)."""
    block, dims = int_values(node, 1), node.input_shapes[0]
    pairs = None if block is None else paddings(node, 2, len(block))
    if pairs is None:
        return None
    if len(block) > len(dims) - 1 or min(block, default=1) < 1:
        raise model_error(node, f"block_shape {block} does not fit input shape {tuple(dims)}")
    return block, pairs


def check_block_op(node: Node) -> None:
    """SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND: integer block and paddings, data moved unchanged."""
    check_index_type(node, 1)
    check_index_type(node, 2)
    check_movement(node)


def options_of(node: Node, cls: type):
    """The node's options, or the schema defaults when the model stored none."""
    return node.options if isinstance(node.options, cls) else cls()


def split_shapes(node: Node, data: int, axis: int | None, sizes: list[int] | None, count: int) -> list:
    """Output shapes of SPLIT/SPLIT_V: input `data` cut along `axis` into `count` pieces of `sizes`."""
    if axis is None or sizes is None:
        return [None] * count
    dims = node.input_shapes[data]
    axis = normalize_axis(node, axis, len(dims))
    if len(sizes) != count:
        raise model_error(node, f"{len(sizes)} pieces for {count} outputs")
    if sizes.count(-1) == 1:
        sizes = [dims[axis] - (sum(sizes) + 1) if s == -1 else s for s in sizes]
    if any(s < 0 for s in sizes) or sum(sizes) != dims[axis]:
        raise model_error(node, f"cannot split dimension {axis} of size {dims[axis]} into {sizes}")
    return [tuple(s if k == axis else d for k, d in enumerate(dims)) for s in sizes]


def check_output_count(node: Node, count: int, what: str) -> None:
    if count != len(node.output_tensors):
        raise model_error(node, f"{what} is {count} but the op has {len(node.output_tensors)} outputs")


def split_run(node: Node, data: int, axis: int) -> None:
    x = node.inputs[data]
    axis = normalize_axis(node, axis, x.ndim)
    start = 0
    for out in node.outputs:
        index = [slice(None)] * x.ndim
        index[axis] = slice(start, start + out.shape[axis])
        out[...] = x[tuple(index)]
        start += out.shape[axis]


def padded_shape(node: Node) -> list:
    """Shape function of the PAD family: input 0 grown by the paddings of input 1."""
    dims = node.input_shapes[0]
    pairs = paddings(node, 1, len(dims))
    if pairs is None:
        return [None]
    return [tuple([d + before + after for d, (before, after) in zip(dims, pairs, strict=True)])]
