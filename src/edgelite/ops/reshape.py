"""RESHAPE: same data, new shape from the int32 shape input (a vector) or options.new_shape."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from edgelite.model.ir import TensorType
from edgelite.ops._shape import check_movement, int_values, model_error
from edgelite.ops.base import Node, OpDef


@dataclass
class ReshapeOptions:
    table: ClassVar[str] = "ReshapeOptions"
    new_shape: tuple[int, ...] = ()


def _shape_input_used(node: Node) -> bool:
    """TFLite reads the shape input only when it is an int32 vector; else new_shape."""
    tensor = node.input_tensors[1] if len(node.input_tensors) > 1 else None
    return tensor is not None and tensor.type == TensorType.INT32 and len(node.input_shapes[1]) == 1


def shape(node: Node) -> list:
    if _shape_input_used(node):
        dims = int_values(node, 1)
        if dims is None:
            return [None]
    else:
        dims = list(getattr(node.options, "new_shape", None) or ())
        if dims == [0]:  # legacy converters wrote [0] for a scalar
            dims = []
    count, requested = math.prod(node.input_shapes[0]), tuple(dims)
    if dims.count(-1) > 1 or any(d < -1 for d in dims):
        raise model_error(node, f"invalid target shape {dims} (at most one -1, others >= 0)")
    if -1 in dims:
        known = [d for d in dims if d != -1]
        product, nonzero = math.prod(known), math.prod(d for d in known if d)
        nonzero_in = math.prod(d for d in node.input_shapes[0] if d)
        dims[dims.index(-1)] = 0 if count == 0 and product != 0 else nonzero_in // nonzero
    if math.prod(dims) != count:
        raise model_error(node, f"cannot reshape {count} elements of shape "
                          f"{tuple(node.input_shapes[0])} into shape {requested}")
    return [tuple(dims)]


def run(node: Node) -> None:
    out = node.outputs[0]
    out[...] = node.inputs[0].reshape(out.shape)


OP = OpDef("RESHAPE", run, shape=shape, check=check_movement, options=ReshapeOptions)
