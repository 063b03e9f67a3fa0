"""Maths and checks shared by the convolution family (conv, depthwise, transposed conv)."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops import _quant
from edgelite.ops._common import Activation, Padding, conv_output_size
from edgelite.ops._window import pad_spatial, windows
from edgelite.ops.base import Node


def patches(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
            dilation: tuple[int, int], out_hw: tuple[int, int], padding: int) -> np.ndarray:
    """The [n, out_h, out_w, kh, kw, c] windows of an NHWC input, padded as TFLite pads it."""
    x = pad_spatial(x, kernel, stride, dilation, out_hw, padding)
    return windows(x, kernel, stride, dilation, out_hw)


def conv2d(x: np.ndarray, weights: np.ndarray, stride: tuple[int, int], dilation: tuple[int, int],
           out_hw: tuple[int, int], padding: int) -> np.ndarray:
    """Grouped convolution of NHWC `x` by OHWI `weights` (no bias), in x's float dtype.

    Group g reads input channels [g*depth, (g+1)*depth) where depth is the filter's; im2col + matmul.
    """
    n, out_c = x.shape[0], weights.shape[0]
    cols = patches(x, weights.shape[1:3], stride, dilation, out_hw, padding)
    group_c = weights.shape[3]
    groups = x.shape[3] // group_c
    per_group = out_c // groups
    out = np.empty((n, *out_hw, out_c), dtype=x.dtype)
    rows = out.reshape(-1, out_c)
    for g in range(groups):
        im2col = cols[..., g * group_c:(g + 1) * group_c].reshape(rows.shape[0], -1)
        kernel = weights[g * per_group:(g + 1) * per_group].reshape(per_group, -1).astype(x.dtype)
        np.matmul(im2col, kernel.T, out=rows[:, g * per_group:(g + 1) * per_group])
    return out


def depthwise(x: np.ndarray, weights: np.ndarray, stride: tuple[int, int], dilation: tuple[int, int],
              out_hw: tuple[int, int], padding: int) -> np.ndarray:
    """Depthwise convolution of NHWC `x` by [1, kh, kw, out_c] `weights` (no bias), in x's dtype.

    Output channel c * multiplier + m reads input channel c with filter channel c * multiplier + m.
    """
    _, kh, kw, out_c = weights.shape
    x = np.repeat(x, out_c // x.shape[3], axis=3) if out_c != x.shape[3] else x
    x = pad_spatial(x, (kh, kw), stride, dilation, out_hw, padding)
    weights = weights.astype(x.dtype)
    out = np.zeros((x.shape[0], *out_hw, out_c), dtype=x.dtype)
    rows, cols = out_hw
    for i in range(kh):
        for j in range(kw):
            top, left = i * dilation[0], j * dilation[1]
            tap = x[:, top:top + (rows - 1) * stride[0] + 1:stride[0],
                    left:left + (cols - 1) * stride[1] + 1:stride[1]]
            out += tap * weights[0, i, j]
    return out


def transpose_conv(x: np.ndarray, weights: np.ndarray, stride: tuple[int, int],
                   pad: tuple[int, int], out_hw: tuple[int, int]) -> np.ndarray:
    """Transposed convolution of NHWC `x` by OHWI `weights` (no bias), in x's float dtype.

    Input pixel (y, x) adds weights * value at output (y*stride - pad + ky, x*stride - pad + kx);
    contributions falling outside [0, out_hw) are dropped, as in TFLite's reference kernel.
    """
    n, in_h, in_w, _ = x.shape
    out_c, k_h, k_w, _ = weights.shape
    # Accumulate into an unpadded canvas big enough for every contribution and the output window.
    full_h = max((in_h - 1) * stride[0] + k_h, pad[0] + out_hw[0])
    full_w = max((in_w - 1) * stride[1] + k_w, pad[1] + out_hw[1])
    canvas = np.zeros((n, full_h, full_w, out_c), dtype=x.dtype)
    # products[n, y, x, ky, kx, o] = sum_c x[n, y, x, c] * weights[o, ky, kx, c]
    products = np.einsum("nyxc,oijc->nyxijo", x, weights.astype(x.dtype), optimize=True)
    span_h, span_w = (in_h - 1) * stride[0] + 1, (in_w - 1) * stride[1] + 1
    for ky in range(k_h):
        for kx in range(k_w):
            canvas[:, ky:ky + span_h:stride[0], kx:kx + span_w:stride[1]] += products[:, :, :, ky, kx]
    return canvas[:, pad[0]:pad[0] + out_hw[0], pad[1]:pad[1] + out_hw[1]]


def hybrid_transpose_conv(values: np.ndarray, weights: np.ndarray, weight_scale: np.ndarray,
                          input_scale: np.ndarray, stride: tuple[int, int], pad: tuple[int, int],
                          out_hw: tuple[int, int]) -> np.ndarray:
    """LiteRT's HybridTransposeConv (no bias): every product (q - zero point) * weight is scaled in
    float32, float(product) * weight_scale * input_scale, and summed into the output in its scatter
    order: input pixels row-major, then input channels. An output element receives pixel (y, x)
    through tap (y*stride - pad + ky), so taps run from the last to the first."""
    n, in_h, in_w, in_c = values.shape
    out_c, k_h, k_w, _ = weights.shape
    full_h = max((in_h - 1) * stride[0] + k_h, pad[0] + out_hw[0])
    full_w = max((in_w - 1) * stride[1] + k_w, pad[1] + out_hw[1])
    canvas = np.zeros((n, full_h, full_w, out_c), dtype=np.float32)
    span_h, span_w = (in_h - 1) * stride[0] + 1, (in_w - 1) * stride[1] + 1
    scale = np.asarray(weight_scale, np.float32)
    batch_scale = np.asarray(input_scale, np.float32)[:, None, None, None]
    for ky in reversed(range(k_h)):
        for kx in reversed(range(k_w)):
            target = canvas[:, ky:ky + span_h:stride[0], kx:kx + span_w:stride[1]]
            for c in range(in_c):
                product = values[..., c, None] * weights[:, ky, kx, c].astype(values.dtype)
                target += product.astype(np.float32) * scale * batch_scale
    return canvas[:, pad[0]:pad[0] + out_hw[0], pad[1]:pad[1] + out_hw[1]]


def optional_input(node: Node, index: int) -> np.ndarray | None:
    """Input `index`, or None when it is omitted (index -1) or the op has fewer inputs."""
    return node.inputs[index] if index < len(node.inputs) else None


def forward_conv_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """TFLite's ComputeOutSize (dilation 1): C integer division, truncating toward zero."""
    if padding == Padding.SAME:
        return (size + stride - 1) // stride
    span = size - kernel + stride
    return span // stride if span >= 0 else -(-span // stride)


def transpose_conv_padding(in_size: int, out_size: int, kernel: int, stride: int) -> int:
    """Leading padding of a transposed conv: half (rounded down) of the overhang of the full
    scatter, (in_size - 1) * stride + kernel, past the output extent."""
    return max((in_size - 1) * stride + kernel - out_size, 0) // 2


def check_rank(node: Node, index: int, rank: int, what: str) -> None:
    shape = node.input_shapes[index]
    if shape is not None and len(shape) != rank:
        raise ModelError(f"{node.describe()}: {what} (input {index}) must have rank {rank}, "
                         f"got shape {tuple(shape)}")


def check_positive(node: Node, **values: int) -> None:
    """Strides and dilations must be at least 1 (TFLite divides by them)."""
    for name, value in values.items():
        if value < 1:
            raise ModelError(f"{node.describe()}: {name} is {value}; it must be at least 1")


def check_bias(node: Node, index: int, channels: int) -> None:
    """An optional bias must hold one value per output channel."""
    if index >= len(node.input_shapes) or node.input_tensors[index] is None:
        return
    shape = node.input_shapes[index]
    size = math.prod(shape) if shape is not None else channels
    if size != channels:
        raise ModelError(f"{node.describe()}: bias (input {index}) has {size} values but there "
                         f"are {channels} output channels; give one bias value per output channel")


def check_float(node: Node, *indices: int) -> None:
    """The float kernel needs float32 operands; quantized and hybrid variants are not done yet."""
    for i in indices:
        tensor = node.input_tensors[i] if i < len(node.input_tensors) else None
        if tensor is not None and tensor.type != TensorType.FLOAT32:
            raise node.unsupported(f"input {i} is {tensor.type.name}; only float32 is supported "
                                   "(quantized and hybrid kernels are not implemented yet)")


def window_output_hw(node: Node, in_hw: tuple[int, int], kernel: tuple[int, int],
                     stride: tuple[int, int], dilation: tuple[int, int], padding: int) -> tuple[int, int]:
    """Output height and width of a windowed op; a VALID window larger than the input is an error."""
    if min(*stride, *dilation) < 1:
        check_positive(node, stride_h=stride[0], stride_w=stride[1], dilation_h_factor=dilation[0],
                       dilation_w_factor=dilation[1])
    out = (conv_output_size(in_hw[0], kernel[0], stride[0], dilation[0], padding),
           conv_output_size(in_hw[1], kernel[1], stride[1], dilation[1], padding))
    if min(out) < 0:
        raise ModelError(f"{node.describe()}: the {kernel[0]}x{kernel[1]} filter (dilation {dilation}) "
                         f"does not fit the {in_hw[0]}x{in_hw[1]} input with VALID padding")
    return out


# -- quantized (int8, int16x8) and hybrid kernels ---------------------------------------------------
#
# Accumulators are computed exactly: operands minus zero points as float64 (every product and partial
# sum is an integer below 2**53), then rounded to int64. What differs between LiteRT's kernels is only
# how the accumulator is scaled to the output (see Rounding) and, for hybrid kernels, the float math.

FLOAT, HYBRID, INT8, INT16 = "float32", "hybrid", "int8", "int16x8"
_SAME = Padding.SAME


class Rounding(enum.Enum):
    """How a LiteRT conv kernel applies the output multiplier (measured against LiteRT 2.3, x86)."""

    GEMM = "gemm"  # ruy's output stage (optimized conv): int32, ties rounded up
    REFERENCE = "reference"  # TFLite's MultiplyByQuantizedMultiplier: int32, ties away from zero
    # optimized_ops::Quantize (optimized depthwise and transposed conv): SIMD over blocks of 8
    # channels rounds like GEMM, the channels left over (C % 8 of them, at the end) like REFERENCE.
    BLOCKS_OF_8 = "blocks_of_8"
    # int16 kernels with an int64 bias: int64 accumulator, multiplier reduced to 16 bits (measured:
    # single rounding with the full multiplier does not match LiteRT 2.3's int16 convs).
    INT64 = "int64"


@dataclass(frozen=True)
class OutputStage:
    """Per-output-channel multiplier and shift, output zero point and activation clamp."""

    multiplier: np.ndarray
    shift: np.ndarray
    zero_point: int
    low: int
    high: int

    def apply(self, acc: np.ndarray, rounding: Rounding) -> np.ndarray:
        """Accumulators (output channel last) scaled, offset and clamped to the output integers."""
        if rounding is Rounding.INT64:
            scaled = _quant.multiply_by_quantized_multiplier_int64_reduced(acc, self.multiplier, self.shift)
        else:
            acc = _quant.wrap_int32(acc)
            if rounding is not Rounding.REFERENCE:
                scaled = _quant.multiply_by_quantized_multiplier_ruy(acc, self.multiplier, self.shift)
            if rounding is not Rounding.GEMM:
                reference = _quant.multiply_by_quantized_multiplier(acc, self.multiplier, self.shift)
                channels = acc.shape[-1]
                scaled = reference if rounding is Rounding.REFERENCE else \
                    np.where(np.arange(channels) < channels - channels % 8, scaled, reference)
        return np.clip(_quant.wrap_int32(scaled + self.zero_point), self.low, self.high)


# (input type, weight type) -> (kernel, bias types, output type); int16 takes an int64 bias, or an
# int32 one where the op allows it (CONV_2D's quantized_bias_type).
_COMBOS = {
    (TensorType.FLOAT32, TensorType.FLOAT32): (FLOAT, {TensorType.FLOAT32}, TensorType.FLOAT32),
    (TensorType.FLOAT32, TensorType.INT8): (HYBRID, {TensorType.FLOAT32}, TensorType.FLOAT32),
    (TensorType.INT8, TensorType.INT8): (INT8, {TensorType.INT32}, TensorType.INT8),
    (TensorType.INT16, TensorType.INT8): (INT16, {TensorType.INT64}, TensorType.INT16),
}
_COMBOS_INT32_BIAS = {**_COMBOS, (TensorType.INT16, TensorType.INT8): (
    INT16, {TensorType.INT64, TensorType.INT32}, TensorType.INT16)}


def conv_kind(node: Node, x_index: int, w_index: int, bias_index: int, channel_axis: int,
              int32_bias_for_int16: bool = False) -> str:
    """Which kernel runs (FLOAT, HYBRID, INT8 or INT16) after checking every operand's type and
    quantization as LiteRT's Prepare does; raises UnsupportedOpError or ModelError otherwise."""
    x, w = node.input_tensors[x_index], node.input_tensors[w_index]
    bias = node.input_tensors[bias_index] if bias_index < len(node.input_tensors) else None
    b_type = None if bias is None else bias.type
    out_type = node.output_tensors[0].type
    combo = (_COMBOS_INT32_BIAS if int32_bias_for_int16 else _COMBOS).get((x.type, w.type))
    if combo is None:
        raise node.unsupported(f"{x.type.name} input with {w.type.name} weights is not supported; "
                               "use float32/float32, float32/int8 (hybrid), int8/int8 or int16/int8")
    kind, bias_types, want_out = combo
    if b_type is not None and b_type not in bias_types:
        allowed = " or ".join(sorted(t.name for t in bias_types))
        raise node.unsupported(f"a {kind} kernel takes a {allowed} bias, not {b_type.name}")
    if out_type != want_out:
        raise ModelError(f"{node.describe()}: output is {out_type.name}; a {kind} kernel writes "
                         f"{want_out.name}")
    if kind != FLOAT:
        _check_weight_quantization(node, w_index, channel_axis)
    if kind in (INT8, INT16):
        x_quant = _quant.quantization_of(x, "input")
        out_quant = _quant.quantization_of(node.output_tensors[0], "output")
        if kind == INT16 and (x_quant.zero_point[0] or out_quant.zero_point[0]):
            raise ModelError(f"{node.describe()}: int16 input and output must be symmetric "
                             f"(zero points {x_quant.zero_point[0]} and {out_quant.zero_point[0]}, not 0)")
    return kind


def _check_weight_quantization(node: Node, w_index: int, channel_axis: int) -> None:
    """Quantized weights: symmetric, one scale or one per output channel along channel_axis."""
    w = node.input_tensors[w_index]
    quant = _quant.quantization_of(w, "weights")
    channels = node.input_shapes[w_index][channel_axis]
    if np.count_nonzero(quant.zero_point):
        raise node.unsupported(f"weights {w.name!r} have non-zero zero points; LiteRT's quantized and "
                               "hybrid conv kernels take symmetric weights only")
    if quant.scale.size != 1 and (quant.scale.size != channels or quant.quantized_dimension != channel_axis):
        raise ModelError(f"{node.describe()}: weights {w.name!r} have {quant.scale.size} scales on "
                         f"dimension {quant.quantized_dimension}; give one scale, or one per output "
                         f"channel ({channels}) on dimension {channel_axis}")


def output_stage(node: Node, x_index: int, w_index: int, channels: int, activation: int) -> OutputStage:
    """TFLite's PopulateConvolutionQuantizationParams: per channel, input_scale * weight_scale /
    output_scale in double, then QuantizeMultiplier; and the fused activation's quantized clamp."""
    x_quant = _quant.quantization_of(node.input_tensors[x_index], "input")
    w_quant = _quant.quantization_of(node.input_tensors[w_index], "weights")
    out_quant = _quant.quantization_of(node.output_tensors[0], "output")
    weight_scale = np.broadcast_to(w_quant.scale.astype(np.float64), (channels,))
    real = np.float64(x_quant.scale[0]) * weight_scale / np.float64(out_quant.scale[0])
    multiplier, shift = _quant.quantize_multiplier(real)
    # Only RELU, RELU6 and RELU_N1_TO_1 narrow the range; LiteRT clamps to the type's range otherwise.
    clamped = activation if activation in (Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1) \
        else Activation.NONE
    dtype = node.output_tensors[0].dtype
    low, high = _quant.activation_range_quantized(clamped, out_quant.scale[0], out_quant.zero_point[0], dtype)
    return OutputStage(multiplier, shift, int(out_quant.zero_point[0]), low, high)


def centered(node: Node, x_index: int) -> np.ndarray:
    """A quantized input minus its zero point, as float64 (exact for int8/int16)."""
    zero_point = _quant.quantization_of(node.input_tensors[x_index], "input").zero_point[0]
    return node.inputs[x_index].astype(np.float64) - np.float64(zero_point)


def quantized_bias(node: Node, bias_index: int) -> np.ndarray | int:
    bias = optional_input(node, bias_index)
    return 0 if bias is None else bias.astype(np.int64)


def hybrid_input(x: np.ndarray, asymmetric: bool) -> tuple[np.ndarray, np.ndarray]:
    """LiteRT's run-time quantization of a float NHWC input, one scale (and zero point) per batch:
    returns (int8 values minus the zero point as float64, float32 scale per batch)."""
    rows = x.reshape(x.shape[0], -1)
    q, scale, zero_point = _quant.quantize_input_rows(rows, asymmetric)
    if asymmetric:
        # LiteRT's (SIMD) AsymmetricQuantizeFloats rounds x / scale first and then adds the zero point
        # as an integer, not round(zero_point + x / scale) in float: they differ when that float sum
        # rounds onto a tie (seen on the digits model). TODO: move into _quant.quantize_input_rows.
        inverse = (np.float32(1) / scale).astype(np.float32)[:, None]
        rounded = _quant.round_half_away((rows * inverse).astype(np.float32))
        q = np.clip(rounded + zero_point[:, None], -128, 127)
    values = q.astype(np.float64) - zero_point.astype(np.float64)[:, None]
    return values.reshape(x.shape), scale


def accumulator(values: np.ndarray) -> np.ndarray:
    """Exact float64 sums of integer products back to int64."""
    return np.rint(values).astype(np.int64)


def weight_scales(node: Node, w_index: int, channels: int) -> np.ndarray:
    return np.broadcast_to(node.input_tensors[w_index].quantization.scale.astype(np.float32), (channels,))


def kind_of(x: np.ndarray, weights: np.ndarray) -> str:
    """The kernel for these operand dtypes (conv_kind has checked the combination at prepare)."""
    if x.dtype == np.float32:
        return FLOAT if weights.dtype == np.float32 else HYBRID
    return INT8 if x.dtype == np.int8 else INT16


def int16_rounding(node: Node, bias_index: int, int32_bias: Rounding) -> Rounding:
    """int16 kernels: an int64 bias (LiteRT's default) runs the int64 reference kernel; an int32 bias
    (quantized_bias_type INT32) an int32 kernel that rounds as `int32_bias` says."""
    bias = node.input_tensors[bias_index] if bias_index < len(node.input_tensors) else None
    declared_int32 = bias.type == TensorType.INT32 if bias is not None else \
        getattr(node.options, "quantized_bias_type", 0) == TensorType.INT32
    return int32_bias if declared_int32 else Rounding.INT64


def check_quantized_bias_type(node: Node, bias_index: int) -> None:
    """int16 CONV_2D/TRANSPOSE_CONV: LiteRT reads the bias as int64 unless the option
    quantized_bias_type says INT32, so an int32 bias needs that option (and the option must match)."""
    bias = node.input_tensors[bias_index] if bias_index < len(node.input_tensors) else None
    declared = node.options.quantized_bias_type
    if declared not in (0, TensorType.INT32, TensorType.INT64):
        raise ModelError(f"{node.describe()}: quantized_bias_type {declared} must be 0, INT32 or INT64")
    if bias is None:
        return
    if declared == 0 and bias.type == TensorType.INT32:
        raise ModelError(f"{node.describe()}: an int32 bias with int16 activations needs the option "
                         "quantized_bias_type = INT32 (LiteRT otherwise reads the bias as int64)")
    if declared and bias.type != declared:
        raise ModelError(f"{node.describe()}: the bias is {bias.type.name} but quantized_bias_type "
                         f"says {TensorType(declared).name}")


def window_shape(node: Node, out_channels: int) -> tuple[int, int, int, int]:
    """The NHWC output shape of a conv-like op from its input, filter (H, W at 1:3) and options."""
    (n, h, w, _), (kh, kw) = node.input_shapes[0], node.input_shapes[1][1:3]
    o = node.options
    sh, sw, dh, dw = o.stride_h, o.stride_w, o.dilation_h_factor, o.dilation_w_factor
    if sh >= 1 and sw >= 1 and dh >= 1 and dw >= 1:  # conv_output_size of both axes, inlined
        if o.padding == _SAME:
            out_h, out_w = (h + sh - 1) // sh, (w + sw - 1) // sw
        else:
            out_h, out_w = (h - (kh - 1) * dh - 1 + sh) // sh, (w - (kw - 1) * dw - 1 + sw) // sw
        if out_h >= 0 and out_w >= 0:
            return (n, out_h, out_w, out_channels)
    out_h, out_w = window_output_hw(node, (h, w), (kh, kw), (sh, sw), (dh, dw), o.padding)
    return (n, out_h, out_w, out_channels)


def check_window(node: Node) -> None:
    """Rank-4 input and filter; strides and dilations of at least 1."""
    shapes = node.input_shapes
    if shapes[0] is not None and len(shapes[0]) != 4:
        check_rank(node, 0, 4, "input")
    if shapes[1] is not None and len(shapes[1]) != 4:
        check_rank(node, 1, 4, "filter")
    o = node.options
    if o.stride_h < 1 or o.stride_w < 1 or o.dilation_h_factor < 1 or o.dilation_w_factor < 1:
        check_positive(node, stride_h=o.stride_h, stride_w=o.stride_w,
                       dilation_h_factor=o.dilation_h_factor, dilation_w_factor=o.dilation_w_factor)


def geometry(node: Node) -> tuple:
    """(strides, dilations, output H/W, padding): the window arguments of the conv kernels."""
    o = node.options
    return ((o.stride_h, o.stride_w), (o.dilation_h_factor, o.dilation_w_factor),
            node.outputs[0].shape[1:3], o.padding)

