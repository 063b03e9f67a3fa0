"""Lowering of hybrid (dynamic-range) nodes to the native engine's HGEMM (native/ops_hybrid.c).

A hybrid CONV_2D or FULLY_CONNECTED has a float32 input and output and constant int8 weights: the
input is quantized at run time (per row of FULLY_CONNECTED, per batch image of CONV_2D), multiplied
exactly in int32 and scaled back in float32, as edgelite's reference (ops/_matmul.py,
ops/conv_2d.py) and LiteRT's builtin hybrid kernels do. Weights are packed once into the hgemm
channel groups (native/include/el_hkernels.h): weight scales, float bias, int16 weight pairs.

`install(lowerers)` routes hybrid nodes to these lowerers and the others to the lowerer already
installed for the op.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._common import Activation, activation_range
from edgelite.runtime import native_int8
from edgelite.runtime.native_int8 import F32, I16, extra, unsupported

GROUP, HEADER = 16, 128
SYMMETRIC, ASYMMETRIC_DOUBLE, ASYMMETRIC_FLOAT = 0, 1, 2  # ops_hybrid.c's input quantizations
_CLAMPS = (Activation.NONE, Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1)


def _native():
    from edgelite.runtime import native

    return native


def pack_groups(lw, weights: np.ndarray, scales: np.ndarray, bias: np.ndarray | None) -> int:
    """[N, K] int8 weights -> the packed tensor of hgemm groups, [scale 16 | bias 16][K/2 pairs x 16
    channels x 2 int16] (native/pack.c)."""
    n, k = weights.shape
    return native_int8.packed(lw, _native()._engine.pack_hgemm(weights, n, k, scales, bias, lw.heap))


def is_hybrid(lw, node) -> bool:
    """A float32 input with constant int8 weights (input 1)."""
    if len(node.op.inputs) < 2 or node.input_tensors[0].type != TensorType.FLOAT32:
        return False
    weights = node.input_tensors[1]
    return weights is not None and weights.type == TensorType.INT8


def _operands(lw, node) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Constant int8 weights, their float32 scales and the float32 bias (or None)."""
    weights = lw.plan.constants.get(node.op.inputs[1])
    if weights is None or weights.dtype != np.int8:
        raise unsupported("hybrid weights are not a constant int8 tensor")
    quant = node.input_tensors[1].quantization
    if quant is None or quant.scale.size == 0:
        raise unsupported("hybrid weights without scales")
    bias = None
    if len(node.op.inputs) > 2 and node.op.inputs[2] >= 0:
        bias = lw.plan.constants.get(node.op.inputs[2])
        if bias is None or bias.dtype != np.float32:
            raise unsupported("hybrid bias is not a constant float32 tensor")
    return weights, quant.scale.astype(np.float32), bias


def _clamp(activation: int, unclamped_none: bool) -> list[int]:
    if activation not in _CLAMPS:
        raise unsupported(f"hybrid fused activation {activation} (only clamps run natively)")
    low, high = (-np.inf, np.inf) if unclamped_none and activation == Activation.NONE else \
        activation_range(activation, np.float32)
    bits = _native().f32_bits
    return [bits(low), bits(high)]


def _buffers(lw, values: int, regions: int) -> list[int]:
    """The node's writable quantized input (int16) and its per-region scales."""
    return [extra(lw, np.zeros(values, np.int16), I16, writable=True),
            extra(lw, np.zeros(regions, np.float32), F32, writable=True)]


def lower_fully_connected(lw, node):
    x_id, out_id = node.op.inputs[0], node.op.outputs[0]
    weights, scales, bias = _operands(lw, node)
    if weights.ndim != 2 or getattr(node.options, "weights_format", 0) != 0:
        raise unsupported("hybrid FULLY_CONNECTED needs [units, depth] weights in the default format")
    units, k = weights.shape
    if scales.size not in (1, units):
        raise unsupported("weight scales are neither one nor one per unit")
    rows = int(np.prod(lw.plan.shapes[out_id], dtype=np.int64)) // units
    quant = ASYMMETRIC_DOUBLE if node.options.asymmetric_quantize_inputs else SYMMETRIC
    packed = pack_groups(lw, weights, scales, bias)
    inputs = [lw.tensor(x_id), packed, *_buffers(lw, rows * (k + k % 2), rows)]
    params = [0, *[0] * 8, k, units, quant, *_clamp(node.options.fused_activation_function, True)]
    return lw.node("HGEMM", inputs, out_id, params)


def lower_conv(lw, node):
    x_id, out_id = node.op.inputs[0], node.op.outputs[0]
    weights, scales, bias = _operands(lw, node)
    (n, h, w, c), (o, kh, kw, ic) = lw.plan.shapes[x_id], weights.shape
    if ic != c:
        raise unsupported("grouped hybrid convolution")
    if scales.size not in (1, o):
        raise unsupported("weight scales are neither one nor one per output channel")
    quant = ASYMMETRIC_FLOAT if np.any(scales != scales[0]) else SYMMETRIC  # conv_2d._hybrid's choice
    stride, dilation, pads = native_int8._window(lw, node, x_id, out_id, (kh, kw))
    k = kh * kw * c
    packed = pack_groups(lw, weights.reshape(o, k), scales, bias)
    scratch = lw.scratch(-(-(native_int8.IM2COL_ROWS * (k + k % 2) * 2) // 64) * 16)  # floats per thread
    inputs = [lw.tensor(x_id), packed, *_buffers(lw, n * h * w * c, n), scratch]
    clamp = _clamp(node.options.fused_activation_function, False)
    params = [1, kh, kw, *stride, *dilation, *pads, k, o, quant, *clamp]
    return lw.node("HGEMM", inputs, out_id, params)


def lower_batch_matmul(lw, node):
    """A hybrid BATCH_MATMUL whose rhs is a constant matrix and whose lhs has at most one batch
    dimension: rows quantized one by one, as FULLY_CONNECTED's (LiteRT's kernel reads row scales
    at batch b0 + b1 + b2 with more batch dimensions; those stay on the reference)."""
    x_id, out_id = node.op.inputs[0], node.op.outputs[0]
    rhs = lw.plan.constants.get(node.op.inputs[1])
    lhs_shape, o = lw.plan.shapes[x_id], node.options
    if rhs is None or rhs.dtype != np.int8 or rhs.ndim != 2 or len(lhs_shape) > 3 or o.adj_x:
        raise unsupported("hybrid BATCH_MATMUL needs a constant int8 matrix rhs, lhs rank <= 3, no adj_x")
    weights = rhs if o.adj_y else rhs.T  # [columns, depth]
    units, k = weights.shape
    scales = node.input_tensors[1].quantization.scale.astype(np.float32)
    if scales.size not in (1, units) or lhs_shape[-1] != k:
        raise unsupported("rhs scales or depth do not fit")
    rows = int(np.prod(lhs_shape[:-1], dtype=np.int64))
    quant = ASYMMETRIC_DOUBLE if o.asymmetric_quantize_inputs else SYMMETRIC
    packed = pack_groups(lw, np.ascontiguousarray(weights), scales, None)
    inputs = [lw.tensor(x_id), packed, *_buffers(lw, rows * (k + k % 2), rows)]
    params = [0, *[0] * 8, k, units, quant, *_clamp(Activation.NONE, True)]
    return lw.node("HGEMM", inputs, out_id, params)


def lower_depthwise(lw, node):
    """Hybrid DEPTHWISE_CONV_2D (HDWCONV): per-batch asymmetric input, the reference's float order."""
    x_id, out_id = node.op.inputs[0], node.op.outputs[0]
    weights, scales, bias = _operands(lw, node)
    (n, h, w, c), (_, kh, kw, oc) = lw.plan.shapes[x_id], weights.shape
    if oc % c:
        raise unsupported("output channels not a multiple of the input's")
    stride, dilation, pads = native_int8._window(lw, node, x_id, out_id, (kh, kw))
    epilogue = np.zeros((2, oc), np.float32)
    epilogue[0] = np.broadcast_to(scales, (oc,))
    if bias is not None:
        epilogue[1] = bias
    clamp = _clamp(node.options.fused_activation_function, False)
    inputs = [lw.tensor(x_id), extra(lw, weights.reshape(kh * kw, oc).astype(np.int16), I16),
              extra(lw, epilogue, F32), *_buffers(lw, n * h * w * c, n)]
    params = [kh, kw, *stride, *dilation, *pads, oc // c, *clamp, oc - oc % 4]
    return lw.node("HDWCONV", inputs, out_id, params)


HYBRID_LOWERERS: dict[str, Callable] = {
    "CONV_2D": lower_conv, "FULLY_CONNECTED": lower_fully_connected, "BATCH_MATMUL": lower_batch_matmul,
    "DEPTHWISE_CONV_2D": lower_depthwise,
}


def install(lowerers: dict[str, Callable]) -> None:
    """Route hybrid nodes of each op in HYBRID_LOWERERS to its hybrid lowerer (in place)."""
    _native().route(lowerers, HYBRID_LOWERERS, is_hybrid)
