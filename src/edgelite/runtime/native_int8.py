"""Lowering of int8 nodes to the native engine's int8 ops (see native/ops_qconv.c, ops_qmisc.c).

Each lowerer computes, once, what LiteRT's Prepare computes (per-channel multipliers and shifts,
clamps, tables) with edgelite's own reference helpers; the convolutions hand their whole weights,
bias and scales to native/pack.c, which computes the multipliers the same way and packs the channel
groups of the qgemm/qdwconv kernels (layout in native/include/el_qkernels.h) in one call. Elementwise int8
activations become 256-entry tables filled by running the reference kernel itself on every int8
value, so they cannot drift from it. Anything else raises Unsupported and stays on the reference.

`install(lowerers)` adds these to native.py's table: a node whose input or output is quantized
goes to the int8 lowerer, any other to the float one. The compiler's int8 family (native/compile_int8.c)
lowers the same nodes in C and asks for the tables by kind (`TABLES`: requantize, dequantize,
softmax_exp, activation), which the lowerers here build with the same helpers.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops import _qbinary, _quant
from edgelite.ops._common import Activation
from edgelite.ops._shape import paddings, zero_point
from edgelite.runtime import native_qgemm
from edgelite.runtime.int8_tables import (
    TABLE_OPS,
    activation_array,
    dequantize_array,
    multiplier,
    requantize_array,
    softmax_exp_array,
)

GROUP, HEADER, IM2COL_ROWS, DW_MAX_TAPS = 16, 640, 48, 64
F32, I8, I32, I16 = 0, 1, 2, 3  # enum el_dtype
_CODES = {TensorType.FLOAT32: F32, TensorType.INT8: I8, TensorType.INT32: I32, TensorType.INT16: I16}
_ZEROS = (0,) * 6  # a tensor record's unused dims


_NATIVE = []  # edgelite.runtime.native, once imported


def _native():
    if not _NATIVE:
        from edgelite.runtime import native  # imported late: native imports this module

        _NATIVE.append(native)
    return _NATIVE[0]


def unsupported(why: str) -> Exception:
    return _native().Unsupported(why)


# -- buffers and tensor records ------------------------------------------------------------------
def extra(lw, array: np.ndarray, code: int, writable: bool = False) -> int:
    """A table tensor over an engine-owned copy of `array` (tables, pad rows, writable buffers), 64-byte
    aligned (native/_pack.c's aligned_copy; kept as an array of its dtype and shape)."""
    array = np.ascontiguousarray(array)
    if array.ndim > 6:
        raise unsupported(f"rank {array.ndim} above 6")
    raw, offset = _engine().aligned_copy(array, lw.heap)
    lw.buffers.append(np.frombuffer(raw, array.dtype, array.size, offset).reshape(array.shape))
    lw.writable.append(writable)
    rank = array.ndim
    lw.tensors.append([len(lw.buffers) - 1, 0, array.nbytes, code, rank, *array.shape, *_ZEROS[rank:]])
    return len(lw.tensors) - 1


def qtensor(lw, i: int, types: tuple = (TensorType.INT8,)) -> int:
    """The table index of graph tensor i: static, planned in the arena (or a constant input)."""
    if i < 0:
        raise unsupported("optional operand absent")
    tensor, shape = lw.graph_tensors[i], lw.shapes[i]
    if tensor.type not in types:
        raise unsupported(f"{tensor.type.name.lower()} operand {i} ({tensor.name!r}) is not supported "
                          f"natively by this op (it takes {'/'.join(t.name.lower() for t in types)})")
    if shape is None or i in lw.dynamic or len(shape) > 6:
        raise unsupported(f"tensor {i} has a shape known only at run time or a rank above 6")
    index = lw.index.get(i)
    if index is not None:
        return index
    count = math.prod(shape)
    if count == 0:
        raise unsupported(f"tensor {i} is empty")
    offset = lw.offsets.get(i)
    if offset is not None:
        lw.tensors.append([0, offset, count * tensor.type.itemsize, _CODES[tensor.type], len(shape), *shape,
                           *_ZEROS[len(shape):]])
        index = len(lw.tensors) - 1
    elif i in lw.constants:
        value = np.asarray(lw.constants[i], tensor.type.numpy).reshape(shape)
        index = extra(lw, value, _CODES[tensor.type])
    else:
        raise unsupported(f"tensor {i} is neither in the arena nor a constant")
    lw.index[i] = index
    return index


def record(lw, op: str, inputs: list[int], output: int, params: list, types: tuple = (TensorType.INT8,)):
    native = _native()
    return native._Record(op, inputs, qtensor(lw, output, types), native.record_params(params))


def quant(tensor) -> tuple[float, int]:
    q = _quant.quantization_of(tensor)
    if q.scale.size != 1:
        raise unsupported(f"tensor {tensor.name!r} is quantized per channel")
    return float(q.scale[0]), int(q.zero_point[0])


def _constant(lw, i: int) -> np.ndarray:
    value = lw.plan.constants.get(i)
    if value is None:
        raise unsupported(f"operand {i} is not a constant")
    return value


def _bias(lw, node, channels: int) -> np.ndarray:
    if len(node.op.inputs) < 3 or node.op.inputs[2] < 0:
        return np.zeros(channels, np.int64)
    bias = _constant(lw, node.op.inputs[2])
    if bias.dtype != np.int32:
        raise unsupported("bias is not int32")
    return bias.astype(np.int64).reshape(channels)


def _bias32(lw, node, channels: int) -> np.ndarray | None:
    """The int32 bias constant as the packers take it (None without a bias)."""
    if len(node.op.inputs) < 3 or node.op.inputs[2] < 0:
        return None
    bias = _constant(lw, node.op.inputs[2])
    if bias.dtype != np.int32 or bias.size != channels:
        raise unsupported("bias is not int32, one per output channel")
    return bias


# -- channel groups (native/include/el_qkernels.h), packed in C (native/pack.c) -----------------
def packed(lw, result: tuple, code: int = I8) -> int:
    """A flat table tensor over what a pack.c packer returned: (bytearray | Slab, offset, nbytes, ...)."""
    raw, offset, nbytes = result[0], result[1], result[2]
    count = nbytes // (4 if code in (F32, I32) else 2 if code == I16 else 1)
    lw.buffers.append(raw)
    lw.writable.append(False)
    lw.tensors.append([len(lw.buffers) - 1, offset, nbytes, code, 1, count, 0, 0, 0, 0, 0])
    return len(lw.tensors) - 1


def _scales(node, float_product: bool = False) -> tuple[float, np.ndarray, float]:
    """(input scale, float32 weight scales, output scale) of a conv-like node, as the packers take them."""
    x = _quant.quantization_of(node.input_tensors[0], "input")
    w = _quant.quantization_of(node.input_tensors[1], "weights")
    out = _quant.quantization_of(node.output_tensors[0], "output")
    if w.scale.dtype != np.float32 or (float_product and x.scale.dtype != np.float32):
        raise unsupported("quantization scales are not float32")
    return float(x.scale[0]), w.scale, float(out.scale[0])


_SHIFT = "a requantization shift is outside [-31, 31]"


def _window(lw, node, x_id: int, out_id: int, kernel: tuple) -> tuple[tuple, tuple, list[int]]:
    """(stride, dilation, pads before) of a windowed node (native._window)."""
    o = node.options
    stride = (o.stride_h, o.stride_w)
    dilation = (getattr(o, "dilation_h_factor", 1), getattr(o, "dilation_w_factor", 1))
    size, out = lw.plan.shapes[x_id][1:3], lw.plan.shapes[out_id][1:3]
    return stride, dilation, _native()._window(size, kernel, stride, dilation, out, o.padding)


def _engine():
    return _native()._engine


def _gemm_weights(lw, node, weights: np.ndarray, weight_zero: int, bias, zero: int,
                  float_product: bool) -> tuple[int, int, int]:
    """[N, K] weights minus weight_zero packed in the format native_qgemm picks: the packed tensor,
    the shared scratch (one slice per thread, ops_qconv.c's slice_bytes) and the format."""
    x_scale, w_scales, out_scale = _scales(node, float_product)
    n, k = weights.shape
    result = _engine().pack_qgemm(weights, n, k, weight_zero, bias, w_scales, x_scale, out_scale,
                                  float_product, zero, native_qgemm.prefer_quads(), lw.heap)
    if result is None:
        raise unsupported(_SHIFT)
    fmt = result[3]
    return packed(lw, result), lw.scratch(native_qgemm.slice_floats(fmt, k)), fmt


def _clamp(node) -> tuple[int, int, int]:
    """(output zero point, low, high) of output_stage: only RELU, RELU6 and RELU_N1_TO_1 narrow the
    int8 range (any other fused activation clamps to it, as LiteRT's conv setup)."""
    out = _quant.quantization_of(node.output_tensors[0], "output")
    scale, zero = out.scale[0], int(out.zero_point[0])
    activation = node.options.fused_activation_function
    if activation not in (Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1):
        return zero, -128, 127
    return (zero, *int8_range(activation, scale, zero))


_RANGES: dict[tuple, tuple[int, int]] = {}


def int8_range(activation: int, scale: float, zero: int) -> tuple[int, int]:
    """_quant.activation_range_quantized for an int8 output, remembered per (activation, scale, zero)."""
    key = (activation, float(scale), zero)
    found = _RANGES.get(key)
    if found is None:
        found = _RANGES[key] = _quant.activation_range_quantized(activation, scale, zero, np.int8)
    return found


# -- lowerers --------------------------------------------------------------------------------------
def lower_conv(lw, node):
    x_id, w_id, out_id = node.op.inputs[0], node.op.inputs[1], node.op.outputs[0]
    weights = _constant(lw, w_id)
    (_, _, _, c), (o, kh, kw, ic) = lw.plan.shapes[x_id], weights.shape
    if weights.dtype != np.int8 or ic != c:
        raise unsupported("grouped or non-int8 convolution")
    out_zero, low, high = _clamp(node)
    stride, dilation, pads = _window(lw, node, x_id, out_id, (kh, kw))
    x_id, pads, fused = _native().fuse_pad_input(lw, x_id, out_id, pads)
    k = kh * kw * c
    direct = (kh, kw, *stride, *pads) == (1, 1, 1, 1, 0, 0) and not fused
    zero = quant(node.input_tensors[0])[1]
    bias = _bias32(lw, node, o)
    packed_w, scratch, fmt = _gemm_weights(lw, node, weights.reshape(o, k), 0, bias, zero, False)
    params = [0 if direct else 1, kh, kw, *stride, *dilation, *pads, k, o, zero, out_zero, low, high, fmt]
    result = record(lw, "QGEMM", [qtensor(lw, x_id), packed_w, scratch], out_id, params)
    if fused:
        _native()._skip_pad(lw, node.op.inputs[0])
    return result


def lower_fully_connected(lw, node):
    x_id, w_id, out_id = node.op.inputs[0], node.op.inputs[1], node.op.outputs[0]
    weights = _constant(lw, w_id)
    if weights.dtype != np.int8 or weights.ndim != 2 or getattr(node.options, "weights_format", 0) != 0:
        raise unsupported("FULLY_CONNECTED needs int8 [units, depth] weights")
    units, k = weights.shape
    w_quant = _quant.quantization_of(node.input_tensors[1])
    bias = _bias32(lw, node, units)
    out_scale, out_zero = quant(node.output_tensors[0])
    low, high = int8_range(node.options.fused_activation_function, out_scale, out_zero)
    zero = quant(node.input_tensors[0])[1]
    packed_w, scratch, fmt = _gemm_weights(lw, node, weights, int(w_quant.zero_point[0]), bias, zero,
                                           not w_quant.per_channel)
    params = [0, *[0] * 8, k, units, zero, out_zero, low, high, fmt]
    return record(lw, "QGEMM", [qtensor(lw, x_id), packed_w, scratch], out_id, params)


def lower_depthwise(lw, node):
    x_id, w_id, out_id = node.op.inputs[0], node.op.inputs[1], node.op.outputs[0]
    weights = _constant(lw, w_id)
    (_, _, _, c), (_, kh, kw, oc) = lw.plan.shapes[x_id], weights.shape
    if weights.dtype != np.int8 or oc != c or kh * kw > DW_MAX_TAPS:
        raise unsupported("depth multiplier > 1, window too large or non-int8 weights")
    out_zero, low, high = _clamp(node)
    zero = quant(node.input_tensors[0])[1]
    bias = _bias32(lw, node, c)
    stride, dilation, pads = _window(lw, node, x_id, out_id, (kh, kw))
    x_id, pads, fused = _native().fuse_pad_input(lw, x_id, out_id, pads)
    x_scale, w_scales, out_scale = _scales(node)
    fmt = native_qgemm.choose_dw_format(c)
    result = _engine().pack_qdwconv(weights.reshape(kh * kw, c), kh * kw, c, bias, w_scales, x_scale,
                                    out_scale, zero, fmt == native_qgemm.QUADS, lw.heap)
    if result is None:
        raise unsupported(_SHIFT)
    packed_w = packed(lw, result)
    pad_row = extra(lw, np.full(c, zero, np.int8), I8)
    params = [kh, kw, *stride, *dilation, *pads, out_zero, low, high, c - c % 8, fmt]
    out = record(lw, "QDWCONV", [qtensor(lw, x_id), packed_w, pad_row], out_id, params)
    if fused:
        _native()._skip_pad(lw, node.op.inputs[0])
    return out


def lower_pool(lw, node):
    x_id, out_id, o = node.op.inputs[0], node.op.outputs[0], node.options
    kernel = (o.filter_height, o.filter_width)
    stride, _, pads = _window(lw, node, x_id, out_id, kernel)
    if o.fused_activation_function not in (Activation.NONE, Activation.RELU, Activation.RELU6,
                                           Activation.RELU_N1_TO_1):
        raise unsupported("fused activation")
    scale, zero = quant(node.output_tensors[0])
    low, high = _quant.activation_range_quantized(o.fused_activation_function, scale, zero, np.int8)
    op = "QMAXPOOL" if node.op.name == "MAX_POOL_2D" else "QAVGPOOL"
    return record(lw, op, [qtensor(lw, x_id)], out_id, [*kernel, *stride, *pads, low, high])


def lower_mean(lw, node):
    from edgelite.ops._common import axis_list
    from edgelite.ops._reduce import quantized_params

    x_id, shape = node.op.inputs[0], lw.plan.shapes[node.op.inputs[0]]
    axes = lw.plan.constants.get(node.op.inputs[1])
    if len(shape) != 4 or axes is None or axis_list(axes, 4) != [1, 2] or shape[1] * shape[2] == 0:
        raise unsupported("MEAN other than over H and W of an NHWC tensor")
    in_scale, in_zero, out_scale, out_zero = quantized_params(node)
    count = shape[1] * shape[2]
    if node.options.keep_dims:  # mean.py's _mean_height_width
        offset = np.float32(np.float32(in_zero) * in_scale) / out_scale
        offset = offset + np.float32(0.5) if offset > 0 else offset - np.float32(0.5)
        scale, shift = multiplier(np.float64(in_scale / (np.float32(count) * out_scale)))
        params = [0, scale, shift, out_zero - int(offset), 0, shape[3] // 16 * 16]
    else:  # _mean_requantized
        scale, shift = multiplier(np.float64(in_scale) / np.float64(out_scale))
        bits = min(count.bit_length() - 1, 32, 31 + shift)
        params = [1, (scale << bits) // count, shift - bits, out_zero, in_zero * count, 0]
    return record(lw, "QMEAN_HW", [qtensor(lw, x_id)], node.op.outputs[0], params)


def lower_softmax(lw, node):
    if node.output_tensors[0].type != TensorType.INT8:
        raise unsupported("int8 SOFTMAX to a non-int8 output")
    beta = node.options.beta if node.options is not None else 0.0
    table = softmax_exp_array(quant(node.input_tensors[0])[0], beta)
    out_scale, out_zero = quant(node.output_tensors[0])
    inputs = [qtensor(lw, node.op.inputs[0]), extra(lw, table, F32)]
    params = [_native().f32_bits(np.float32(out_scale)), out_zero]
    return record(lw, "QSOFTMAX", inputs, node.op.outputs[0], params)


def lower_quantize(lw, node):
    x, out = node.input_tensors[0], node.output_tensors[0]
    if out.type != TensorType.INT8 or x.type not in (TensorType.FLOAT32, TensorType.INT8):
        raise unsupported("QUANTIZE other than float32/int8 -> int8")
    out_scale, out_zero = quant(out)
    if x.type == TensorType.FLOAT32:
        scale = np.float32(out_scale)
        bits = _native().f32_bits
        params = [bits(np.float32(1) / scale), bits(scale), out_zero, 8]
        x_index = qtensor(lw, node.op.inputs[0], (TensorType.FLOAT32,))
        return record(lw, "QUANTIZE", [x_index], node.op.outputs[0], params)
    return _table_node(lw, node, requantize_array(*quant(x), out_scale, out_zero), 16)


def lower_dequantize(lw, node):
    x = node.input_tensors[0]
    if x.type != TensorType.INT8:
        raise unsupported("DEQUANTIZE of a non-int8 tensor")
    return _table_node(lw, node, dequantize_array(*quant(x)), 8, TensorType.FLOAT32)


def lower_table(lw, node):
    """An elementwise int8 activation: its reference kernel run once on all 256 int8 values."""
    from edgelite.ops.registry import lookup

    if node.output_tensors[0].type != TensorType.INT8 or len(node.op.inputs) != 1:
        raise unsupported("not an int8 -> int8 activation")
    opdef = lookup(node.op.name)
    if opdef is None:
        raise unsupported(f"no reference kernel for {node.op.name}")
    return _table_node(lw, node, activation_array(opdef, node), 0)




def _table_node(lw, node, tables: np.ndarray, lanes: int, out_type: TensorType = TensorType.INT8):
    code = _CODES[out_type]
    inputs = [qtensor(lw, node.op.inputs[0]), extra(lw, tables, code)]
    return record(lw, "QLUT", inputs, node.op.outputs[0], [lanes, code], (out_type,))


def lane_row(shape_a: tuple, shape_b: tuple, row_lanes: int,
             scalar_row_lanes: int | None) -> tuple[int, int, int]:
    """(row, lanes, path) of LiteRT's broadcast loops, as _qneon.lane_paths decides them: output
    element i takes `path` (1 elementwise rows, 2 scalar-broadcast rows) when i % row is below the
    row's whole vectors of `lanes`, the scalar loop otherwise (lanes 0: everywhere)."""
    rank = max(len(shape_a), len(shape_b))
    a, b = (1,) * (rank - len(shape_a)) + tuple(shape_a), (1,) * (rank - len(shape_b)) + tuple(shape_b)
    total = math.prod(y if x == 1 else x for x, y in zip(a, b, strict=True))  # the broadcast shape's size
    if a == b:
        return total, row_lanes, 1
    if scalar_row_lanes is None:
        return total, 0, 1
    differing = [i for i in range(rank) if a[i] != b[i]]
    if a[differing[-1]] != 1:
        a, b = b, a
    fold, i = [1] * 5, rank - 1
    for slot, test in ((4, lambda k: a[k] == b[k]), (3, lambda k: a[k] == 1), (2, lambda k: a[k] == b[k]),
                       (1, lambda k: b[k] == 1), (0, lambda k: a[k] == b[k])):
        while i >= 0 and test(i):
            fold[slot] *= max(a[i], b[i])
            i -= 1
    if i >= 0:
        return total, 0, 1
    return (fold[4], row_lanes, 1) if fold[4] > 1 else (fold[3], scalar_row_lanes, 2)


def lower_binary(lw, node):
    """int8 ADD / SUB / MUL with broadcasting (QBINARY; ops_qmisc.c)."""
    a_id, b_id, out_id = node.op.inputs[0], node.op.inputs[1], node.op.outputs[0]
    inputs = [qtensor(lw, a_id), qtensor(lw, b_id)]  # int8 only, before the reference's prepare
    shapes = [tuple(lw.plan.shapes[i]) for i in (a_id, b_id, out_id)]
    collapsed = _native().collapse_broadcast(*shapes[2:], *shapes[:2])
    if collapsed is None or any(d != 1 for d in collapsed[0][:2]):
        raise unsupported("int8 broadcast needs more than 4 dims")
    dims, stride_a, stride_b = (v[2:] for v in collapsed)
    if node.op.name in ("ADD", "SUB"):
        kind, left, first, second, output, zero, low, high, _ = _qbinary.add_sub(1).prepare(node)
        if kind != "general":
            raise unsupported("int16 power-of-two ADD")
        params = [0 if node.op.name == "ADD" else 2, 0, first[0], second[0], zero, low, high, *first[1:],
                  *second[1:], *output, left]
        lanes = _qbinary.ADD_LANES[np.int8] if node.op.name == "ADD" else (0, None)
    else:
        kind, (zp1, zp2), (multiplier, shift), zero, low, high, _ = _qbinary._mul_prepare(node)
        params = [1, 0, zp1, zp2, zero, low, high, multiplier, shift, 0, 0, 0, 0, 0]
        lanes = _qbinary.MUL_LANES[np.int8]
    row, params[1], path = lane_row(shapes[0], shapes[1], *lanes)
    return record(lw, "QBINARY", inputs, out_id, [*params, row, path, *dims, *stride_a, *stride_b])


def lower_minmax(lw, node):
    """int8 MAXIMUM / MINIMUM with broadcasting: raw values compared, as the reference (QBINARY)."""
    a_id, b_id, out_id = node.op.inputs[0], node.op.inputs[1], node.op.outputs[0]
    inputs = [qtensor(lw, a_id), qtensor(lw, b_id)]
    shapes = [tuple(lw.plan.shapes[i]) for i in (a_id, b_id, out_id)]
    collapsed = _native().collapse_broadcast(*shapes[2:], *shapes[:2])
    if collapsed is None or any(d != 1 for d in collapsed[0][:2]):
        raise unsupported("int8 broadcast needs more than 4 dims")
    dims, stride_a, stride_b = (v[2:] for v in collapsed)
    op = 3 if node.op.name == "MAXIMUM" else 4
    params = [op, 0, 0, 0, 0, -128, 127, *[0] * 7, math.prod(shapes[2]), 1]
    return record(lw, "QBINARY", inputs, out_id, [*params, *dims, *stride_a, *stride_b])


_MOVED = (TensorType.INT8, TensorType.INT16)


def lower_concat(lw, node):
    """CONCATENATION of int8 / int16 inputs: raw bytes (the reference requires one quantization)."""
    out_id = node.op.outputs[0]
    if len(node.op.inputs) > 16 or node.options.fused_activation_function != Activation.NONE:
        raise unsupported("too many inputs or a fused activation")
    rank = len(lw.plan.shapes[out_id])
    axis = node.options.axis + rank if node.options.axis < 0 else node.options.axis
    inputs = [qtensor(lw, i, _MOVED) for i in node.op.inputs]
    return record(lw, "QCONCAT", inputs, out_id, [axis], _MOVED)


GATHER_OPS = ("TRANSPOSE", "PAD", "PADV2", "MIRROR_PAD", "RESIZE_NEAREST_NEIGHBOR", "DEPTH_TO_SPACE",
              "SPACE_TO_DEPTH", "STRIDED_SLICE", "SLICE", "TILE", "REVERSE_V2", "GATHER", "BROADCAST_TO")
_MARK = 1 << 20  # index offset: reference results below it are fill values


def gather_table(lw, node, input_shape: tuple, output_shape: tuple) -> tuple[np.ndarray, int]:
    """The movement op's reference kernel run once on the input's element indices: (int32 table,
    -1 where it writes a fill value; the fill value)."""
    from edgelite.ops.registry import lookup

    opdef = lookup(node.op.name)
    operands = [None if i < 0 else lw.plan.constants.get(i) for i in node.op.inputs[1:]]
    if opdef is None or any(v is None for v, i in zip(operands, node.op.inputs[1:], strict=True) if i >= 0):
        raise unsupported(f"{node.op.name} needs constant operands besides its input")
    count = math.prod(input_shape)
    if count >= 1 << 30:
        raise unsupported("input too large for an index table")
    if node.op.name == "PAD":
        padded = _pad_table(dataclasses.replace(node, inputs=[None, *operands]), input_shape, output_shape)
        if padded is not None:
            return padded
    marks = (np.arange(count, dtype=np.int64) + _MARK).reshape(input_shape)
    result = np.empty(output_shape, np.int64)
    opdef.run(dataclasses.replace(node, inputs=[marks, *operands], outputs=[result]))
    result = result.reshape(-1)
    moved = result >= _MARK
    fills = result[~moved]
    if (fills.size and fills.min() != fills.max()) or np.any(result >= _MARK + count):
        raise unsupported(f"{node.op.name} is not a pure movement here")
    table = np.where(moved, result - _MARK, -1).astype(np.int32)
    return table, int(fills[0]) if fills.size else 0


def _pad_table(node, input_shape: tuple, output_shape: tuple) -> tuple[np.ndarray, int] | None:
    """PAD's gather table built directly (what the reference kernel yields), or None to run it."""
    pairs = paddings(node, 1, len(input_shape))
    padded = tuple(n + a + b for n, (a, b) in zip(input_shape, pairs or (), strict=False))
    if pairs is None or len(pairs) != len(input_shape) or padded != output_shape:
        return None
    table = np.full(output_shape, -1, np.int32)
    count = math.prod(input_shape)
    inner = tuple(slice(a, a + n) for n, (a, _) in zip(input_shape, pairs, strict=True))
    table[inner] = np.arange(count, dtype=np.int32).reshape(input_shape)
    return table.reshape(-1), zero_point(node) if table.size > count else 0


def lower_gather(lw, node):
    """A movement op of int8 / int16 tensors as a gather through an index table (QGATHER)."""
    x_id, out_id = node.op.inputs[0], node.op.outputs[0]
    if node.input_tensors[0].type != node.output_tensors[0].type:
        raise unsupported("input and output types differ")
    x_index = qtensor(lw, x_id, _MOVED)
    table, fill = gather_table(lw, node, tuple(lw.plan.shapes[x_id]), tuple(lw.plan.shapes[out_id]))
    low, high = _quant.dtype_range(node.input_tensors[0].dtype)
    if not low <= fill <= high:
        raise unsupported("fill value outside the tensor's type")
    result = record(lw, "QGATHER", [x_index, extra(lw, table, I32)], out_id, [fill], _MOVED)
    if node.op.name == "PAD":  # plan.py keeps a PAD's input alive through the next convolution
        _offer_pad(lw, node, fill if (table < 0).any() else None, result)
    return result


def _offer_pad(lw, node, fill: int | None, result) -> None:
    """An int8 PAD whose fill (None: nothing padded) is the zero point of both sides, which is what
    a convolution pads with, may be fused like a float one."""
    scale, zero = quant(node.input_tensors[0])
    if node.input_tensors[0].type == TensorType.INT8 and (scale, zero) == quant(node.output_tensors[0]) \
            and fill in (None, zero):
        pairs = np.asarray(lw.plan.constants[node.op.inputs[1]]).reshape(-1, 2)
        _native().offer_pad(lw, node, pairs, result)


def lower_copy(lw, node):
    types = (TensorType.INT8, TensorType.INT16, TensorType.INT32)
    return record(lw, "BYTECOPY", [qtensor(lw, node.op.inputs[0], types)], node.op.outputs[0], [], types)


INT8_LOWERERS: dict[str, Callable] = {
    "CONV_2D": lower_conv, "FULLY_CONNECTED": lower_fully_connected, "DEPTHWISE_CONV_2D": lower_depthwise,
    "MAX_POOL_2D": lower_pool, "AVERAGE_POOL_2D": lower_pool, "MEAN": lower_mean, "SOFTMAX": lower_softmax,
    "QUANTIZE": lower_quantize, "DEQUANTIZE": lower_dequantize, "ADD": lower_binary, "MUL": lower_binary,
    "SUB": lower_binary, "MAXIMUM": lower_minmax, "MINIMUM": lower_minmax, "CONCATENATION": lower_concat,
    **{name: lower_gather for name in GATHER_OPS},
    "RESHAPE": lower_copy, "SQUEEZE": lower_copy, "EXPAND_DIMS": lower_copy,
    **{name: lower_table for name in TABLE_OPS},
}
_QUANTIZED = (TensorType.INT8, TensorType.UINT8, TensorType.INT16, TensorType.INT32)


def _is_quantized_node(lw, node) -> bool:
    """Whether the node's first input or its output is quantized (it goes to the int8 lowerer)."""
    first = node.input_tensors[0] if node.input_tensors else None
    output = node.output_tensors[0]
    return (first is not None and first.type in _QUANTIZED) or \
        (output is not None and output.type in _QUANTIZED)


def install(lowerers: dict[str, Callable]) -> None:
    """Route quantized nodes of each op in INT8_LOWERERS to its int8 lowerer (in place)."""
    _native().route(lowerers, INT8_LOWERERS, _is_quantized_node)
