"""DEQUANTIZE: float16 -> float32, or affine integers -> float32 as scale * (q - zero_point),
per tensor or per channel along the input's quantized_dimension."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops._common import same_as_input
from edgelite.ops.base import Node, OpDef

try:  # the native engine's F16C / fcvtl conversion; numpy's own is scalar (~2 ns a value)
    from edgelite.native._engine import widen_float16 as _widen_native
    from edgelite.native._engine import widen_float16_into as _widen_into_native
except ImportError:  # extension not built: numpy's astype
    _widen_native = _widen_into_native = None


@dataclass
class DequantizeOptions:
    table: ClassVar[str] = "DequantizeOptions"


_LANES = 8
_HALF, _SINGLE = np.dtype(np.float16), np.dtype(np.float32)
TYPES = frozenset({TensorType.FLOAT16, TensorType.INT8, TensorType.UINT8, TensorType.INT16,
                   TensorType.UINT16})


def check(node: Node) -> None:
    tensor, out = node.input_tensors[0], node.output_tensors[0]
    if out.type != TensorType.FLOAT32:
        raise ModelError(f"{node.describe()}: output {out.name!r} is {out.type.name}, expected FLOAT32")
    if tensor.type == TensorType.FLOAT16:
        return
    quant = tensor.quantization
    if quant is None or quant.scale.size == 0:
        raise ModelError(f"{node.describe()}: input {tensor.name!r} has no quantization parameters; "
                         "a quantized tensor needs its scale and zero point")
    if quant.zero_point.size != quant.scale.size:
        raise ModelError(f"{node.describe()}: input {tensor.name!r} has {quant.scale.size} scales "
                         f"but {quant.zero_point.size} zero points; give one zero point per scale")
    if quant.per_channel:
        shape, axis = node.input_shapes[0], quant.quantized_dimension
        if not 0 <= axis < len(shape) or shape[axis] != quant.scale.size:
            raise ModelError(f"{node.describe()}: input {tensor.name!r} of shape {tuple(shape)} has "
                             f"{quant.scale.size} per-channel scales on dimension {axis}; the "
                             "number of scales must equal that dimension's size")


def dequantize(q: np.ndarray, scale: np.ndarray, zero_point: np.ndarray, axis: int) -> np.ndarray:
    """scale * (q - zero_point) as float32, per channel along `axis` when there are several scales.

    Rounded once from the exact product, as TFLite's per-channel and int16 kernels do. Its
    per-tensor int8/uint8 kernel runs 8-lane vectors computing q * scale - zero_point * scale in
    float32 (three roundings) and only the last size % 8 values exactly; edgelite does the same
    so that results stay bit-equal.
    """
    if scale.size > 1:
        shape = [1] * q.ndim
        shape[axis] = scale.size
        scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
    else:
        scale, zero_point = scale.reshape(()), zero_point.reshape(())
    exact = scale.astype(np.float64) * (q.astype(np.int64) - zero_point.astype(np.int64))
    result = exact.astype(np.float32)
    if scale.size == 1 and q.dtype in (np.int8, np.uint8):
        flat, scale32 = result.reshape(-1), np.float32(scale)
        vector = flat.size - flat.size % _LANES
        flat[:vector] = q.reshape(-1)[:vector].astype(np.float32) * scale32 \
            - np.float32(zero_point) * scale32
    return result


def widen_float16(x: np.ndarray, out: np.ndarray) -> None:
    """out[...] = x for a float16 x and a float32 out of its shape, bit for bit as numpy's astype."""
    if _widen_native is not None and x.dtype == _HALF and out.dtype == _SINGLE \
            and out.shape == x.shape and out.flags.c_contiguous:
        _widen_native(x if x.flags.c_contiguous else np.ascontiguousarray(x), out)
    else:
        out[...] = x


def widen_float16_into(sources: list[np.ndarray], block: np.ndarray, offsets: list[int]) -> None:
    """block[offset:offset + source.size] = source (flattened), for float16 sources and a float32
    block, bit for bit as numpy's astype; one native call for all of them when built."""
    if _widen_into_native is not None and block.dtype == _SINGLE and block.flags.c_contiguous \
            and all(x.dtype == _HALF and x.flags.c_contiguous for x in sources):
        _widen_into_native(sources, block, offsets)
        return
    flat = block.reshape(-1)
    for x, offset in zip(sources, offsets, strict=True):
        flat[offset:offset + x.size] = x.reshape(-1)


def run(node: Node) -> None:
    x, out = node.inputs[0], node.outputs[0]
    if x.dtype == np.float16:
        widen_float16(x, out)
        return
    quant = node.input_tensors[0].quantization
    out[...] = dequantize(x, quant.scale, quant.zero_point, quant.quantized_dimension)


OP = OpDef("DEQUANTIZE", run, shape=same_as_input, check=check, types=TYPES, options=DequantizeOptions)
