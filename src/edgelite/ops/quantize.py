"""QUANTIZE: float32 -> int8/uint8/int16 (per tensor, or per channel along the output's
quantized_dimension), or requantize between integer types with a new scale and zero point."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops import _quant
from edgelite.ops._common import same_as_input
from edgelite.ops.base import Node, OpDef


@dataclass
class QuantizeOptions:
    table: ClassVar[str] = "QuantizeOptions"


_INTS = (TensorType.INT8, TensorType.UINT8, TensorType.INT16)
# Input type -> the output types LiteRT's kernel produces from it.
OUTPUTS = {
    TensorType.FLOAT32: _INTS,
    TensorType.INT8: _INTS,
    TensorType.UINT8: _INTS,
    TensorType.INT16: (TensorType.INT8, TensorType.INT16, TensorType.INT32),
    TensorType.INT32: (TensorType.INT8, TensorType.INT16),
}


# LiteRT's int8/uint8 -> int8/uint8 requantize has a 16-lane NEON loop (see _quant.requantize).
_NEON_LANES = 16


def check(node: Node) -> None:
    x, out = node.input_tensors[0], node.output_tensors[0]
    if out.type not in OUTPUTS[x.type]:
        raise node.unsupported(f"{x.type.name} input with {out.type.name} output is not supported; "
                               f"use one of {', '.join(t.name for t in OUTPUTS[x.type])}")
    out_quant = _quant.quantization_of(out, "output")
    if x.type == TensorType.FLOAT32:
        _check_per_channel(node, out_quant)
        return
    in_quant = _quant.quantization_of(x, "input")
    if in_quant.per_channel or out_quant.per_channel:
        raise node.unsupported("requantizing takes one scale per tensor; per-channel quantization is "
                               "only supported for float32 input")
    if x.type == out.type == TensorType.INT16 and (in_quant.zero_point[0] or out_quant.zero_point[0]):
        raise ModelError(f"{node.describe()}: int16 -> int16 requantization needs zero points of 0 "
                         "(symmetric int16)")


def _check_per_channel(node: Node, quant) -> None:
    if not quant.per_channel:
        return
    shape, axis = node.input_shapes[0], quant.quantized_dimension
    if not 0 <= axis < len(shape) or shape[axis] != quant.scale.size:
        raise ModelError(f"{node.describe()}: output of shape {tuple(shape)} has {quant.scale.size} "
                         f"per-channel scales on dimension {axis}; give one scale per channel")
    if quant.zero_point.size not in (1, quant.scale.size):
        raise ModelError(f"{node.describe()}: output has {quant.scale.size} scales but "
                         f"{quant.zero_point.size} zero points; give one or one per scale")


def run(node: Node) -> None:
    x, out = node.inputs[0], node.outputs[0]
    out_quant = node.output_tensors[0].quantization
    if x.dtype == np.float32 and out_quant.per_channel:
        zero_point = np.broadcast_to(out_quant.zero_point, out_quant.scale.shape)
        out[...] = _quant.affine_quantize_per_channel(x, out_quant.scale, zero_point,
                                                      out_quant.quantized_dimension, out.dtype)
    elif x.dtype == np.float32:
        out[...] = _quant.affine_quantize(x, out_quant.scale[0], int(out_quant.zero_point[0]), out.dtype)
    else:
        in_quant = node.input_tensors[0].quantization
        real = np.float64(in_quant.scale[0]) / np.float64(out_quant.scale[0])
        multiplier, shift = (int(v) for v in _quant.quantize_multiplier(real))
        lanes = _NEON_LANES if x.dtype.itemsize == out.dtype.itemsize == 1 else 0
        out[...] = _quant.requantize(x, int(in_quant.zero_point[0]), int(out_quant.zero_point[0]),
                                     multiplier, shift, out.dtype, lanes)


OP = OpDef("QUANTIZE", run, shape=same_as_input, check=check, types=frozenset(OUTPUTS),
           options=QuantizeOptions)
