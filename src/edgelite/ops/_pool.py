"""Shared machinery of the 2-D pooling ops (MAX_POOL_2D, AVERAGE_POOL_2D, L2_POOL_2D): the
Pool2DOptions table, output shape, checks, and the NHWC window views.

As in TFLite, SAME padding never contributes to a window: each window covers only the input
elements it overlaps, and averages divide by that count, not by the filter area.

Quantized (int8/uint8/int16) MAX and AVERAGE pools work on the raw integers, in the input's
quantization: TFLite only debug-checks that the output shares it and never requantizes, so
edgelite does the same (a model with differing output quantization gets LiteRT's integers).
The fused activation clamps in the output's quantized domain (CalculateActivationRangeQuantized)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops._common import Activation, Padding, apply_activation, conv_output_size
from edgelite.ops._quant import activation_range_quantized, quantization_of
from edgelite.ops._window import pad_spatial, windows
from edgelite.ops.base import FLOAT, Node, OpDef

PoolFn = Callable[[Node, np.ndarray], np.ndarray]
QUANTIZED = frozenset({TensorType.INT8, TensorType.UINT8, TensorType.INT16})
_PADDINGS = (Padding.SAME, Padding.VALID)
_CLAMPS = (Activation.NONE, Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1)


@dataclass
class Pool2DOptions:
    table: ClassVar[str] = "Pool2DOptions"
    padding: Padding = Padding.SAME
    stride_w: int = 0
    stride_h: int = 0
    filter_width: int = 0
    filter_height: int = 0
    fused_activation_function: Activation = Activation.NONE


def _geometry(node: Node) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """(filter, stride, output size), each as (height, width)."""
    o = node.options
    _, h, w, _ = node.input_shapes[0]
    out_h = conv_output_size(h, o.filter_height, o.stride_h, 1, o.padding)
    out_w = conv_output_size(w, o.filter_width, o.stride_w, 1, o.padding)
    return (o.filter_height, o.filter_width), (o.stride_h, o.stride_w), (out_h, out_w)


def shape(node: Node) -> list:
    n, _, _, c = node.input_shapes[0]
    return [(n, *_geometry(node)[2], c)]


def check(node: Node) -> None:
    o, dims = node.options, node.input_shapes[0]
    if len(dims) != 4:
        raise ModelError(f"{node.describe()}: input must be 4-D NHWC, got shape {dims}")
    if o.stride_h < 1 or o.stride_w < 1 or o.filter_height < 1 or o.filter_width < 1:
        sizes = {"stride_h": o.stride_h, "stride_w": o.stride_w,
                 "filter_height": o.filter_height, "filter_width": o.filter_width}
        for name, value in sizes.items():
            if value < 1:
                raise ModelError(f"{node.describe()}: {name} is {value}; it must be at least 1")
    if o.padding not in _PADDINGS:
        raise ModelError(f"{node.describe()}: unknown padding {o.padding}")
    out_h, out_w = _geometry(node)[2]
    if out_h < 1 or out_w < 1:
        raise ModelError(f"{node.describe()}: a {o.filter_height}x{o.filter_width} filter with VALID "
                         f"padding does not fit the {dims[1]}x{dims[2]} input")
    input_type = node.input_type(0)
    if node.output_tensors[0].type != input_type:
        raise ModelError(f"{node.describe()}: output type differs from the input type")
    if input_type in QUANTIZED:
        quantization_of(node.input_tensors[0], "input")
        quantization_of(node.output_tensors[0], "output")
        if o.fused_activation_function not in _CLAMPS:
            raise node.unsupported(f"fused activation {o.fused_activation_function!r} on a quantized "
                                   "pool (TFLite has a quantized clamp only for NONE, RELU, RELU6 "
                                   "and RELU_N1_TO_1)")


def pool_windows(node: Node, x: np.ndarray, pad_value: float) -> np.ndarray:
    """[n, out_h, out_w, kh, kw, c] windows of x, SAME padding filled with `pad_value`."""
    kernel, stride, out_hw = _geometry(node)
    x = pad_spatial(x, kernel, stride, (1, 1), out_hw, node.options.padding, pad_value)
    return windows(x, kernel, stride, (1, 1), out_hw)


def window_counts(node: Node) -> np.ndarray:
    """[1, out_h, out_w, 1]: how many input (not padding) elements each window covers."""
    _, h, w, _ = node.input_shapes[0]
    inside = pool_windows(node, np.ones((1, h, w, 1), np.float32), 0.0)
    return inside.sum(axis=(3, 4))


def pool_op(name: str, pool: PoolFn, quantized: PoolFn | None = None) -> OpDef:
    """An OpDef for a pooling op; `pool(node, x)` returns the un-activated float result and
    `quantized(node, x)` (when given) the un-clamped integer result for 8/16-bit inputs."""

    def run(node: Node) -> None:
        x, out = node.inputs[0], node.outputs[0]
        activation = node.options.fused_activation_function
        if x.dtype.kind in "iu":
            quant = node.output_tensors[0].quantization
            low, high = activation_range_quantized(activation, quant.scale.reshape(-1)[0],
                                                   quant.zero_point.reshape(-1)[0], x.dtype)
            out[...] = np.clip(quantized(node, x), low, high)
            return
        out[...] = apply_activation(pool(node, x).astype(np.float32), activation, node)

    types = FLOAT if quantized is None else FLOAT | QUANTIZED
    return OpDef(name, run, shape=shape, check=check, types=types, options=Pool2DOptions)
