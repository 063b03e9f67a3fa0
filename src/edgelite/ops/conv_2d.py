"""CONV_2D: NHWC input, OHWI filter, optional bias, grouped when filter depth < input depth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops._common import Activation, Padding, apply_activation, conv_output_size
from edgelite.ops._window import pad_spatial, windows
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
    out_h = conv_output_size(h, kh, o.stride_h, o.dilation_h_factor, o.padding)
    out_w = conv_output_size(w, kw, o.stride_w, o.dilation_w_factor, o.padding)
    return [(n, out_h, out_w, out_c)]


def check(node: Node) -> None:
    in_c, filter_c = node.input_shapes[0][3], node.input_shapes[1][3]
    if filter_c == 0 or in_c % filter_c:
        raise node.unsupported(f"input depth {in_c} is not a multiple of filter depth {filter_c}")


def run(node: Node) -> None:
    x, weights, bias = node.inputs[0], node.inputs[1], node.inputs[2]
    o, out = node.options, node.outputs[0]
    dilation = (o.dilation_h_factor, o.dilation_w_factor)
    x = pad_spatial(x, weights.shape[1:3], (o.stride_h, o.stride_w), dilation, out.shape[1:3], o.padding)
    patches = windows(x, weights.shape[1:3], (o.stride_h, o.stride_w), dilation, out.shape[1:3])
    # patches: [n, oh, ow, kh, kw, c]
    out_c, group_c = weights.shape[0], weights.shape[3]
    groups = x.shape[3] // group_c
    per_group = out_c // groups
    result = np.empty(out.shape, dtype=np.float32)
    for g in range(groups):
        cols = patches[..., g * group_c:(g + 1) * group_c]
        w = weights[g * per_group:(g + 1) * per_group]
        result[..., g * per_group:(g + 1) * per_group] = np.einsum(
            "nhwijc,oijc->nhwo", cols, w, optimize=True)
    if bias is not None:
        result += bias
    out[...] = apply_activation(result, o.fused_activation_function, node)


OP = OpDef("CONV_2D", run, shape=shape, check=check, types=FLOAT, options=Conv2DOptions)
