"""DEPTHWISE_CONV_2D: NHWC input, [1, kh, kw, in_c * multiplier] filter, optional bias.

The multiplier comes from the shapes (filter depth / input depth): like LiteRT, the redundant
`depth_multiplier` option is not trusted (converters often leave it inconsistent).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.ops._common import Activation, Padding, apply_activation
from edgelite.ops._conv import (
    check_bias,
    check_float,
    check_positive,
    check_rank,
    optional_input,
    window_output_hw,
)
from edgelite.ops._window import pad_spatial
from edgelite.ops.base import FLOAT, Node, OpDef


@dataclass
class DepthwiseConv2DOptions:
    table: ClassVar[str] = "DepthwiseConv2DOptions"
    padding: Padding = Padding.SAME
    stride_w: int = 0
    stride_h: int = 0
    depth_multiplier: int = 0
    fused_activation_function: Activation = Activation.NONE
    dilation_w_factor: int = 1
    dilation_h_factor: int = 1


def shape(node: Node) -> list:
    (n, h, w, _), (_, kh, kw, out_c) = node.input_shapes[0], node.input_shapes[1]
    o = node.options
    out_h, out_w = window_output_hw(node, (h, w), (kh, kw), (o.stride_h, o.stride_w),
                                    (o.dilation_h_factor, o.dilation_w_factor), o.padding)
    return [(n, out_h, out_w, out_c)]


def check(node: Node) -> None:
    check_rank(node, 0, 4, "input")
    check_rank(node, 1, 4, "filter")
    check_float(node, 1, 2)
    o = node.options
    check_positive(node, stride_h=o.stride_h, stride_w=o.stride_w,
                   dilation_h_factor=o.dilation_h_factor, dilation_w_factor=o.dilation_w_factor)
    in_c, filter_shape = node.input_shapes[0][3], node.input_shapes[1]
    if filter_shape[0] != 1:
        raise ModelError(f"{node.describe()}: filter shape {tuple(filter_shape)} must be "
                         "[1, kh, kw, channels]")
    if in_c == 0 or filter_shape[3] % in_c:
        raise ModelError(f"{node.describe()}: filter depth {filter_shape[3]} is not a multiple of "
                         f"input depth {in_c}")
    check_bias(node, 2, filter_shape[3])


def run(node: Node) -> None:
    x, weights, bias = node.inputs[0], node.inputs[1], optional_input(node, 2)
    o, out = node.options, node.outputs[0]
    _, kh, kw, out_c = weights.shape
    stride, dilation = (o.stride_h, o.stride_w), (o.dilation_h_factor, o.dilation_w_factor)
    # Output channel c * multiplier + m reads input channel c with filter channel c * multiplier + m.
    x = np.repeat(x, out_c // x.shape[3], axis=3) if out_c != x.shape[3] else x
    x = pad_spatial(x, (kh, kw), stride, dilation, out.shape[1:3], o.padding)
    out[...] = 0
    rows, cols = out.shape[1:3]
    for i in range(kh):
        for j in range(kw):
            top, left = i * dilation[0], j * dilation[1]
            tap = x[:, top:top + (rows - 1) * stride[0] + 1:stride[0],
                    left:left + (cols - 1) * stride[1] + 1:stride[1]]
            out += tap * weights[0, i, j]
    if bias is not None:
        out += bias
    apply_activation(out, o.fused_activation_function)


OP = OpDef("DEPTHWISE_CONV_2D", run, shape=shape, check=check, types=FLOAT,
           options=DepthwiseConv2DOptions)
