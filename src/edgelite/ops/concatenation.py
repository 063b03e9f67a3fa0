"""CONCATENATION: join the inputs along an axis; float outputs take a fused activation.

Quantized inputs as LiteRT treats them: int8 must share the output's scale and zero point;
int16 needs zero points 0 and is copied raw (scales may differ); uint8 inputs quantized
differently from the output are requantized into its scale and zero point."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._common import Activation, apply_activation
from edgelite.ops._qbinary import Affine, affine
from edgelite.ops._shape import MOVEMENT, check_movement, model_error, normalize_axis, options_of
from edgelite.ops.base import Node, OpDef


@dataclass
class ConcatenationOptions:
    table: ClassVar[str] = "ConcatenationOptions"
    axis: int = 0
    fused_activation_function: Activation = Activation.NONE


def shape(node: Node) -> list:
    first = node.input_shapes[0]
    axis = normalize_axis(node, options_of(node, ConcatenationOptions).axis, len(first))
    total = 0
    for i, dims in enumerate(node.input_shapes):
        others = [d for k, d in enumerate(dims) if k != axis]
        if len(dims) != len(first) or others != [d for k, d in enumerate(first) if k != axis]:
            raise model_error(node, f"input {i} has shape {tuple(dims)}, which cannot be joined "
                              f"with {tuple(first)} along axis {axis}")
        total += dims[axis]
    return [tuple(total if k == axis else d for k, d in enumerate(first))]


def check(node: Node) -> None:
    types = {t.type for t in node.input_tensors if t is not None}
    if len(types) > 1:
        raise model_error(node, f"inputs mix types {sorted(t.name for t in types)}")
    activation = options_of(node, ConcatenationOptions).fused_activation_function
    if activation != Activation.NONE and node.input_type() != TensorType.FLOAT32:
        raise node.unsupported(f"fused activation {activation!r} needs float32 inputs")
    if node.input_type() == TensorType.INT16:
        for tensor in [*node.input_tensors, *node.output_tensors]:
            if tensor.quantization is not None and np.any(tensor.quantization.zero_point):
                raise node.unsupported(f"int16 tensor {tensor.name!r} has a nonzero zero point; "
                                       "TFLite's kernel takes symmetric int16 only")
    elif node.input_type() != TensorType.UINT8 or not _requantizes(node):
        check_movement(node, range(len(node.input_tensors)))


def _requantizes(node: Node) -> bool:
    """uint8 inputs quantized differently from the output (each is then requantized)."""
    keys = {_key(t.quantization) for t in [*node.input_tensors, *node.output_tensors]}
    if len(keys) == 1:
        return False
    for i in range(len(node.input_tensors)):
        affine(node, i)  # raises a clear error when one lacks quantization
    affine(node, None)
    return True


def _key(quantization) -> tuple:
    if quantization is None or quantization.scale.size == 0:
        return ()
    return (tuple(np.float32(quantization.scale).tolist()), tuple(quantization.zero_point.tolist()))


def requantize_uint8(q: np.ndarray, source: Affine, target: Affine) -> np.ndarray:
    """ConcatenationWithScaling: round(q * scale + bias) in float32, scale = s_in * (1 / s_out)."""
    if source == target:
        return q
    scale = np.float32(source.scale * (np.float32(1) / target.scale))
    bias = np.float32(-source.zero_point) * scale
    value = q.astype(np.float32) * scale + bias
    rounded = np.copysign(np.floor(np.abs(value) + np.float32(0.5)), value)  # std::round
    return np.clip(rounded.astype(np.int64) + target.zero_point, 0, 255)


def run(node: Node) -> None:
    out, options = node.outputs[0], options_of(node, ConcatenationOptions)
    inputs = node.inputs
    if out.dtype == np.uint8 and _requantizes(node):
        target = affine(node, None)
        inputs = [requantize_uint8(x, affine(node, i), target) for i, x in enumerate(inputs)]
    result = np.concatenate(inputs, axis=normalize_axis(node, options.axis, out.ndim))
    if options.fused_activation_function != Activation.NONE:  # float only (see check)
        result = apply_activation(result, options.fused_activation_function, node)
    out[...] = result


OP = OpDef("CONCATENATION", run, shape=shape, check=check, types=MOVEMENT,
           options=ConcatenationOptions)
