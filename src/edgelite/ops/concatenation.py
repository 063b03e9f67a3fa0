"""CONCATENATION: join the inputs along an axis; float outputs take a fused activation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._common import Activation, apply_activation
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
    check_movement(node, range(len(node.input_tensors)))


def run(node: Node) -> None:
    out, options = node.outputs[0], options_of(node, ConcatenationOptions)
    result = np.concatenate(node.inputs, axis=normalize_axis(node, options.axis, out.ndim))
    if options.fused_activation_function != Activation.NONE:  # float only (see check)
        result = apply_activation(result, options.fused_activation_function, node)
    out[...] = result


OP = OpDef("CONCATENATION", run, shape=shape, check=check, types=MOVEMENT,
           options=ConcatenationOptions)
