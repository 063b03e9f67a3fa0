"""DEPTHWISE_CONV_2D: NHWC input, [1, kh, kw, in_c * multiplier] filter, optional bias.

The multiplier comes from the shapes (filter depth / input depth): like LiteRT's float and int8
kernels, the redundant `depth_multiplier` option is not trusted (converters often leave it
inconsistent). LiteRT's int16 and hybrid kernels do read the option, so there it must agree.

Kernels as LiteRT's: float32; int8 (per-tensor or per-channel weights on dimension 3, int32 bias);
int16 activations with int8 weights and int64 bias; hybrid (float32 input, int8 weights).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops import _quant
from edgelite.ops._common import Activation, Padding, apply_activation
from edgelite.ops._conv import (
    FLOAT,
    HYBRID,
    INT8,
    Rounding,
    accumulator,
    centered,
    check_bias,
    check_window,
    conv_kind,
    depthwise,
    hybrid_input,
    kind_of,
    optional_input,
    output_stage,
    quantized_bias,
    weight_scales,
    window_shape,
)
from edgelite.ops._conv import (
    geometry as window_geometry,
)
from edgelite.ops.base import Node, OpDef


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
    return [window_shape(node, node.input_shapes[1][3])]


def check(node: Node) -> None:
    check_window(node)
    o = node.options
    in_c, filter_shape = node.input_shapes[0][3], node.input_shapes[1]
    if filter_shape[0] != 1:
        raise ModelError(f"{node.describe()}: filter shape {tuple(filter_shape)} must be "
                         "[1, kh, kw, channels]")
    if in_c == 0 or filter_shape[3] % in_c:
        raise ModelError(f"{node.describe()}: filter depth {filter_shape[3]} is not a multiple of "
                         f"input depth {in_c}")
    check_bias(node, 2, filter_shape[3])
    kind = conv_kind(node, 0, 1, 2, channel_axis=3)
    if kind not in (FLOAT, INT8) and o.depth_multiplier != filter_shape[3] // in_c:
        raise ModelError(f"{node.describe()}: depth_multiplier option is {o.depth_multiplier} but the "
                         f"shapes say {filter_shape[3] // in_c} (filter depth {filter_shape[3]} / input "
                         f"depth {in_c}); LiteRT's {kind} kernel uses the option, so fix it")


def run(node: Node) -> None:
    x, weights, bias = node.inputs[0], node.inputs[1], optional_input(node, 2)
    o, out = node.options, node.outputs[0]
    geometry = window_geometry(node)
    kind = kind_of(x, weights)
    if kind == FLOAT:
        result = depthwise(x, weights, *geometry)
        if bias is not None:
            result += bias
        out[...] = apply_activation(result, o.fused_activation_function)
    elif kind == HYBRID:
        out[...] = _hybrid(node, x, weights, bias, geometry)
    else:
        acc = accumulator(depthwise(centered(node, 0), weights, *geometry)) + quantized_bias(node, 2)
        rounding = Rounding.BLOCKS_OF_8 if kind == INT8 else Rounding.INT64
        out[...] = output_stage(node, 0, 1, out.shape[3], o.fused_activation_function).apply(acc, rounding)


def _hybrid(node: Node, x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None,
            geometry: tuple) -> np.ndarray:
    """LiteRT's DepthwiseConvHybridPerChannel: asymmetric input quantization per batch, then in
    float32 acc * weight_scale * input_scale for channel blocks of 4 (its SIMD loop) and
    acc * input_scale * weight_scale for the channels left over, plus bias."""
    values, input_scale = hybrid_input(x, asymmetric=True)
    acc = _quant.wrap_int32(accumulator(depthwise(values, weights, *geometry))).astype(np.float32)
    channels = weights.shape[3]
    scales, batch_scale = weight_scales(node, 1, channels), input_scale[:, None, None, None]
    blocked = np.arange(channels) < channels - channels % 4
    result = np.where(blocked, acc * scales * batch_scale, acc * batch_scale * scales)
    if bias is not None:
        result += bias
    return apply_activation(result, node.options.fused_activation_function)


OP = OpDef("DEPTHWISE_CONV_2D", run, shape=shape, check=check,
           types=frozenset({TensorType.FLOAT32, TensorType.INT8, TensorType.INT16}),
           options=DepthwiseConv2DOptions)
