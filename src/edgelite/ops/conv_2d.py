"""CONV_2D: NHWC input, OHWI filter, optional bias, grouped when filter depth < input depth.

Kernels as LiteRT's: float32; int8 (per-tensor or per-channel weights, int32 bias); int16
activations with int8 weights (int64 bias, or int32 with quantized_bias_type INT32); hybrid
(float32 input, int8 weights). See _conv.py for the roundings each LiteRT kernel uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops import _quant, _sparsity
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
    check_quantized_bias_type,
    check_window,
    conv2d,
    conv_kind,
    hybrid_input,
    int16_rounding,
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
    return [window_shape(node, node.input_shapes[1][0])]


def check(node: Node) -> None:
    check_window(node)
    in_c, (out_c, *_, filter_c) = node.input_shapes[0][3], node.input_shapes[1]
    if filter_c == 0 or in_c % filter_c:
        raise ModelError(f"{node.describe()}: input depth {in_c} is not a multiple of "
                         f"filter depth {filter_c}")
    if out_c % (in_c // filter_c):
        raise ModelError(f"{node.describe()}: {out_c} filters cannot be split into "
                         f"{in_c // filter_c} groups (input depth {in_c} / filter depth {filter_c})")
    check_bias(node, 2, out_c)
    _sparsity.weight_matrix(node, 1)  # sparse weights: validated (and indexed) once, here
    if conv_kind(node, 0, 1, 2, channel_axis=0, int32_bias_for_int16=True) == INT16:
        check_quantized_bias_type(node, 2)


def run(node: Node) -> None:
    x, bias = node.inputs[0], optional_input(node, 2)
    o, out = node.options, node.outputs[0]
    out_c = out.shape[3]
    sparse = _sparsity.weight_matrix(node, 1)
    if sparse is not None and _pointwise(node) and node.input_type(1) == node.input_type(0) \
            and x.dtype in (np.float32, np.int8):
        out[...] = _run_sparse(node, x, sparse, bias)
        return
    weights = _sparsity.dense_input(node, 1)
    geometry = window_geometry(node)
    kind = kind_of(x, weights)
    if kind == FLOAT:
        result = conv2d(x, weights, *geometry)
        if bias is not None:
            result += bias
        out[...] = apply_activation(result, o.fused_activation_function)
    elif kind == HYBRID:
        out[...] = _hybrid(node, x, weights, bias, geometry)
    else:
        acc = accumulator(conv2d(centered(node, 0), weights, *geometry)) + quantized_bias(node, 2)
        # LiteRT's optimized (ruy) kernel runs ungrouped convs; grouped ones its reference kernel.
        ungrouped = weights.shape[3] == x.shape[3]
        int32_rounding = Rounding.GEMM if ungrouped else Rounding.REFERENCE
        rounding = int32_rounding if kind == INT8 else int16_rounding(node, 2, int32_rounding)
        out[...] = output_stage(node, 0, 1, out_c, o.fused_activation_function).apply(acc, rounding)


def _pointwise(node: Node) -> bool:
    """An ungrouped 1x1 convolution: a matrix product over the (strided) input pixels."""
    (_, kh, kw, depth), channels = node.input_shapes[1], node.input_shapes[0][3]
    return (kh, kw) == (1, 1) and depth == channels


def _run_sparse(node: Node, x: np.ndarray, sparse: _sparsity.SparseMatrix,
                bias: np.ndarray | None) -> np.ndarray:
    """A 1x1 convolution by sparse weights: the products of all-zero weight blocks are skipped.
    A 1x1 window never reads padding: output pixel (y, x) reads input pixel (y * stride, x * stride)."""
    o, out_shape = node.options, node.outputs[0].shape
    pixels = x[:, ::o.stride_h, ::o.stride_w, :][:, :out_shape[1], :out_shape[2], :]
    rows = pixels.reshape(-1, x.shape[3])
    if x.dtype == np.float32:
        result = sparse.times_transposed(rows).reshape(out_shape)
        if bias is not None:
            result += bias
        return apply_activation(result, o.fused_activation_function)
    zero = int(_quant.quantization_of(node.input_tensors[0], "input").zero_point[0])
    acc = sparse.times_transposed(rows.astype(np.int64) - zero, np.int64).reshape(out_shape)
    acc = acc + quantized_bias(node, 2)
    return output_stage(node, 0, 1, out_shape[3], o.fused_activation_function).apply(acc, Rounding.GEMM)


def _hybrid(node: Node, x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None,
            geometry: tuple) -> np.ndarray:
    """LiteRT's EvalHybridPerChannel (weight scales that differ, or a grouped conv: asymmetric input
    per batch) or EvalHybrid (one weight scale: symmetric input per batch), float32 throughout."""
    out_c = weights.shape[0]
    scales = weight_scales(node, 1, out_c)
    ungrouped = weights.shape[3] == x.shape[3]
    per_channel = bool(np.any(scales != scales[0])) or not ungrouped
    values, input_scale = hybrid_input(x, asymmetric=per_channel)
    acc = _quant.wrap_int32(accumulator(conv2d(values, weights, *geometry))).astype(np.float32)
    batch_scale = input_scale[:, None, None, None]
    if not per_channel:  # out = acc * (input_scale * weight_scale)
        result = acc * (batch_scale * scales[0]).astype(np.float32)
    elif ungrouped:  # optimized: acc * (weight_scale * input_scale)
        result = acc * (scales * batch_scale).astype(np.float32)
    else:  # reference: acc * weight_scale * input_scale
        result = acc * scales * batch_scale
    if bias is not None:
        result += bias
    return apply_activation(result, node.options.fused_activation_function)


OP = OpDef("CONV_2D", run, shape=shape, check=check,
           types=frozenset({TensorType.FLOAT32, TensorType.INT8, TensorType.INT16}), options=Conv2DOptions)
