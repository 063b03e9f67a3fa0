"""TRANSPOSE_CONV: inputs output_shape (int32 [4]), OHWI weights, NHWC input, optional bias (v3+).

The output shape is the value of input 0, so the output is dynamic when that tensor is not
constant. Padding is the one the forward conv from that output shape would use.

Kernels as LiteRT's: float32; int8 (per-tensor or per-channel weights, int32 bias); int16
activations with int8 weights (int64 bias, or int32 with quantized_bias_type INT32); hybrid
(float32 input, int8 weights).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops._common import Activation, Padding, apply_activation
from edgelite.ops._conv import (
    FLOAT,
    HYBRID,
    INT8,
    INT16,
    Rounding,
    accumulator,
    centered,
    check_bias,
    check_positive,
    check_quantized_bias_type,
    check_rank,
    conv_kind,
    forward_conv_size,
    hybrid_input,
    hybrid_transpose_conv,
    int16_rounding,
    kind_of,
    optional_input,
    output_stage,
    quantized_bias,
    transpose_conv,
    transpose_conv_padding,
    weight_scales,
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
    if node.input_type(0) != TensorType.INT32:
        raise ModelError(f"{node.describe()}: output_shape must be int32, not {node.input_type(0).name}")
    weights, x = node.input_shapes[1], node.input_shapes[2]
    if x[3] != weights[3]:
        raise ModelError(f"{node.describe()}: input depth {x[3]} differs from the weights' input "
                         f"depth {weights[3]} (weights are [out, kh, kw, in])")
    check_bias(node, 3, weights[0])
    if conv_kind(node, 2, 1, 3, channel_axis=0, int32_bias_for_int16=True) == INT16:
        check_quantized_bias_type(node, 3)
    if node.inputs[0] is not None:
        output_shape(node)


def run(node: Node) -> None:
    weights, x, bias = node.inputs[1], node.inputs[2], optional_input(node, 3)
    o, out = node.options, node.outputs[0]
    out_hw, out_c = out.shape[1:3], out.shape[3]
    stride = (o.stride_h, o.stride_w)
    pad = (transpose_conv_padding(x.shape[1], out_hw[0], weights.shape[1], o.stride_h),
           transpose_conv_padding(x.shape[2], out_hw[1], weights.shape[2], o.stride_w))
    kind = kind_of(x, weights)
    if kind == FLOAT:
        result = transpose_conv(x, weights, stride, pad, out_hw)
        if bias is not None:
            result += bias
        out[...] = apply_activation(result, o.fused_activation_function)
    elif kind == HYBRID:
        # LiteRT's HybridTransposeConv: asymmetric input quantization per batch, float32 sums.
        values, input_scale = hybrid_input(x, asymmetric=True)
        result = hybrid_transpose_conv(values, weights, weight_scales(node, 1, out_c), input_scale,
                                       stride, pad, out_hw)
        if bias is not None:
            result += bias
        out[...] = apply_activation(result, o.fused_activation_function)
    else:
        acc = accumulator(transpose_conv(centered(node, 2), weights, stride, pad, out_hw))
        acc += quantized_bias(node, 3)
        # LiteRT's optimized kernel (col2im, then optimized_ops::Quantize) runs int8 and int16 with an
        # int32 bias; an int64 bias its int16 reference kernel.
        rounding = Rounding.BLOCKS_OF_8 if kind == INT8 else int16_rounding(node, 3, Rounding.BLOCKS_OF_8)
        out[...] = output_stage(node, 2, 1, out_c, o.fused_activation_function).apply(acc, rounding)


OP = OpDef("TRANSPOSE_CONV", run, shape=shape, check=check, types=frozenset({TensorType.INT32}),
           options=TransposeConvOptions)
