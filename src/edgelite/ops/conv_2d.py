"""CONV_2D: NHWC input, OHWI filter, optional bias, grouped when filter depth < input depth."""

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
    patches,
    window_output_hw,
)
from edgelite.ops.base import FLOAT, Node, OpDef


@dataclass
class Conv2DOptions:
    table: ClassVar[str] = "Conv2DOptions"
    padding: Padding = Padding.SAME
    stride_w: int = 1
    stride_h: int = 1
    fused_activation_function: Activation = Activation.NONE
    dilation_w_factor: int = 1
    dilation_h_factor: int = 1
    quantized_bias_type: int = 0


def shape(node: Node) -> list:
    (n, h, w, _), (out_c, kh, kw, _) = node.input_shapes[0], node.input_shapes[1]
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
    in_c, (out_c, *_, filter_c) = node.input_shapes[0][3], node.input_shapes[1]
    if filter_c == 0 or in_c % filter_c:
        raise ModelError(f"{node.describe()}: input depth {in_c} is not a multiple of "
                         f"filter depth {filter_c}")
    if out_c % (in_c // filter_c):
        raise ModelError(f"{node.describe()}: {out_c} filters cannot be split into "
                         f"{in_c // filter_c} groups (input depth {in_c} / filter depth {filter_c})")
    check_bias(node, 2, out_c)


def run(node: Node) -> None:
    x, weights, bias = node.inputs[0], node.inputs[1], optional_input(node, 2)
    o, out = node.options, node.outputs[0]
    n, out_h, out_w, out_c = out.shape
    cols = patches(x, weights.shape[1:3], (o.stride_h, o.stride_w),
                   (o.dilation_h_factor, o.dilation_w_factor), out.shape[1:3], o.padding)
    # cols: [n, oh, ow, kh, kw, c]; group g reads input channels [g*group_c, (g+1)*group_c).
    group_c = weights.shape[3]
    groups = x.shape[3] // group_c
    per_group = out_c // groups
    rows = out[...].reshape(n * out_h * out_w, out_c)
    for g in range(groups):
        im2col = cols[..., g * group_c:(g + 1) * group_c].reshape(rows.shape[0], -1)
        kernel = weights[g * per_group:(g + 1) * per_group].reshape(per_group, -1)
        np.matmul(im2col, kernel.T, out=rows[:, g * per_group:(g + 1) * per_group])
    if bias is not None:
        out += bias
    apply_activation(out, o.fused_activation_function)


OP = OpDef("CONV_2D", run, shape=shape, check=check, types=FLOAT, options=Conv2DOptions)
