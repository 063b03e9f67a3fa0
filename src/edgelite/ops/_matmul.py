"""Quantized and hybrid matrix products shared by FULLY_CONNECTED and BATCH_MATMUL, as LiteRT's
builtin (optimized) kernels compute them on CPU.

- int8 (and int16 activations with no or int32 bias): an int32 accumulator (wrapping), then
  ruy's multiplier (_quant.multiply_by_quantized_multiplier_ruy), zero point, clamp.
- int16 activations with int64 bias (FULLY_CONNECTED): an int64 accumulator scaled in double
  precision (_quant.scale_in_double).
- BATCH_MATMUL: int8 with TFLite's reference multiplier (gemmlowp double rounding); int16 with
  int64 accumulators and the 16-bit reduced multiplier.
- hybrid (float activations, int8 weights): each input row quantized at run time
  (_quant.quantize_input_rows), an exact int32 dot product, then in float32
  out = bias + float(acc) * (input_scale * weight_scale).
"""

from __future__ import annotations

import numpy as np

from edgelite.ops import _quant
from edgelite.ops._common import Activation, apply_activation
from edgelite.ops.base import Node


def effective_scale(node: Node, input_index: int, weights_index: int,
                    float_product: bool = False) -> np.ndarray:
    """input_scale * weight_scale / output_scale (float64), one per weight scale.

    In double, as TFLite's per-channel setup computes it; with float_product, the two input
    scales are first multiplied in float32 (TFLite's GetQuantizedConvolutionMultipler, which
    LiteRT's per-tensor FULLY_CONNECTED and BATCH_MATMUL use).
    """
    x = _quant.quantization_of(node.input_tensors[input_index], "input")
    w = _quant.quantization_of(node.input_tensors[weights_index], "weights")
    out = _quant.quantization_of(node.output_tensors[0], "output")
    if float_product:
        product = (x.scale[0] * w.scale).astype(np.float32).astype(np.float64)
    else:
        product = np.float64(x.scale[0]) * w.scale.astype(np.float64)
    return product / np.float64(out.scale[0])


def requantize(acc: np.ndarray, real: np.ndarray, zero_point: int, low: int, high: int,
               in_double: bool = False) -> np.ndarray:
    """Accumulators (last axis = output channel) scaled by `real` to the output's integers and
    clamped: ruy's fixed-point multiplier on int32 accumulators, or (in_double) LiteRT's
    double-precision int16x8 path."""
    if in_double:
        scaled = _quant.scale_in_double(acc, real)
    else:
        multiplier, shift = _quant.quantize_multiplier(real)
        scaled = _quant.multiply_by_quantized_multiplier_ruy(_quant.wrap_int32(acc), multiplier, shift)
    return np.clip(_quant.wrap_int32(scaled + zero_point), low, high)


def integer_matmul(lhs: np.ndarray, lhs_zero: int, rhs: np.ndarray, rhs_zero: int) -> np.ndarray:
    """(lhs - lhs_zero) @ (rhs - rhs_zero) exactly, in int64 (batched like np.matmul)."""
    return np.matmul(lhs.astype(np.int64) - lhs_zero, rhs.astype(np.int64) - rhs_zero)


def hybrid_matmul(rows: np.ndarray, weights: np.ndarray, weight_scale: np.ndarray,
                  asymmetric: bool, bias: np.ndarray | None = None) -> np.ndarray:
    """LiteRT's hybrid product of float32 rows [n, depth] by int8 weights [units, depth].

    weight_scale holds one scale or one per unit. The result is float32 [n, units].
    """
    q, input_scale, input_zero = _quant.quantize_input_rows(rows, asymmetric)
    acc = q.astype(np.int64) @ weights.astype(np.int64).T
    if asymmetric:
        acc -= input_zero[:, None].astype(np.int64) * weights.astype(np.int64).sum(axis=1)
    scale = (input_scale[:, None] * np.asarray(weight_scale, np.float32).reshape(1, -1)).astype(np.float32)
    product = _quant.wrap_int32(acc).astype(np.float32) * scale
    if bias is None:
        return product
    return (bias.astype(np.float32) + product).astype(np.float32)


def hybrid_activation(x: np.ndarray, activation: int) -> np.ndarray:
    """TFLite's ApplyActivationToVector on a hybrid kernel's float result: the clamping
    activations, tanh, or SIGN_BIT (1.0 where the sign bit is set, else 0.0)."""
    if activation == Activation.TANH:
        return np.tanh(x)
    if activation == Activation.SIGN_BIT:
        return np.signbit(x).astype(np.float32)
    if activation == Activation.NONE:
        return x
    return apply_activation(x, activation)
