"""TRANSPOSE_CONV: inputs output_shape (int32 [4]), OHWI weights, NHWC input, optional bias (v3+).

The output shape is the value of input 0, so the output is dynamic when that tensor is not
constant. Padding is the one the forward conv from that output shape would use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops._common import Activation, Padding, apply_activation
from edgelite.ops._conv import (
    check_bias,
    check_float,
    check_positive,
    check_rank,
    forward_conv_size,
    optional_input,
    transpose_conv,
    transpose_conv_padding,
)
from edgelite.ops.base import Node, OpDef


@dataclass
class TransposeConvOptions:
    table: ClassVar[str] = "TransposeConvOptions"
    padding: Padding = Padding.SAME
    stride_w: int = 0
    stride_h: int = 0
    fused_activation_function: Activation = Activation.NONE
    quantized_bias_type: int = 0


def shape(node: Node) -> list:
    return [None if node.inputs[0] is None else output_shape(node)]


def output_shape(node: Node) -> tuple[int, ...]:
    """The value of input 0, checked against the input and weights as TFLite does."""
    out_shape = tuple(int(d) for d in np.asarray(node.inputs[0]).reshape(-1))
    (n, in_h, in_w, _), (out_c, k_h, k_w, _) = node.input_shapes[2], node.input_shapes[1]
    if len(out_shape) != 4 or out_shape[0] != n or out_shape[3] != out_c or min(out_shape) < 0:
        raise ModelError(f"{node.describe()}: output_shape {list(out_shape)} must be [batch {n}, "
                         f"height, width, {out_c} output channels (weights dim 0)]")
    o = node.options
    # Like TFLite: the forward conv of the output must give back the input's extent.
    forward = (forward_conv_size(out_shape[1], k_h, o.stride_h, o.padding),
               forward_conv_size(out_shape[2], k_w, o.stride_w, o.padding))
    if forward != (in_h, in_w):
        raise ModelError(f"{node.describe()}: output_shape {list(out_shape)} does not match the "
                         f"{in_h}x{in_w} input: a {getattr(o.padding, 'name', o.padding)} conv with stride "
                         f"{(o.stride_h, o.stride_w)} of that output would be {forward[0]}x{forward[1]}")
    return out_shape


def check(node: Node) -> None:
    o = node.options
    check_rank(node, 0, 1, "output_shape")
    check_rank(node, 1, 4, "weights")
    check_rank(node, 2, 4, "input")
    check_positive(node, stride_h=o.stride_h, stride_w=o.stride_w)
    check_float(node, 1, 2, 3)
    if node.input_type(0) != TensorType.INT32:
        raise ModelError(f"{node.describe()}: output_shape must be int32, not {node.input_type(0).name}")
    weights, x = node.input_shapes[1], node.input_shapes[2]
    if x[3] != weights[3]:
        raise ModelError(f"{node.describe()}: input depth {x[3]} differs from the weights' input "
                         f"depth {weights[3]} (weights are [out, kh, kw, in])")
    check_bias(node, 3, weights[0])
    if node.inputs[0] is not None:
        output_shape(node)


def run(node: Node) -> None:
    weights, x, bias = node.inputs[1], node.inputs[2], optional_input(node, 3)
    o, out = node.options, node.outputs[0]
    out_hw = out.shape[1:3]
    pad = (transpose_conv_padding(x.shape[1], out_hw[0], weights.shape[1], o.stride_h),
           transpose_conv_padding(x.shape[2], out_hw[1], weights.shape[2], o.stride_w))
    result = transpose_conv(x, weights, (o.stride_h, o.stride_w), pad, out_hw)
    if bias is not None:
        result += bias
    out[...] = apply_activation(result, o.fused_activation_function)


OP = OpDef("TRANSPOSE_CONV", run, shape=shape, check=check, types=frozenset({TensorType.INT32}),
           options=TransposeConvOptions)
