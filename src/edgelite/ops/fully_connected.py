"""FULLY_CONNECTED: input of any rank flattened to [-1, in], weights [units, in], optional bias.

Kernels: float32; hybrid (float32 input, int8 weights per tensor or per unit); int8 and uint8
(int32 bias); int16 activations with int8 weights (int32 or int64 bias). See ops/_matmul.py."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops import _matmul, _quant, _sparsity
from edgelite.ops._common import Activation, apply_activation
from edgelite.ops._conv import check_bias, check_rank, optional_input
from edgelite.ops.base import Node, OpDef


class WeightsFormat(enum.IntEnum):
    DEFAULT = 0
    SHUFFLED4x16INT8 = 1


@dataclass
class FullyConnectedOptions:
    table: ClassVar[str] = "FullyConnectedOptions"
    fused_activation_function: Activation = Activation.NONE
    weights_format: WeightsFormat = WeightsFormat.DEFAULT
    keep_num_dims: bool = False
    asymmetric_quantize_inputs: bool = False
    quantized_bias_type: int = 0


# TFLite's float kernel rejects the other fused activations at prepare time.
_ACTIVATIONS = {Activation.NONE, Activation.RELU, Activation.RELU_N1_TO_1, Activation.RELU6}


def shape(node: Node) -> list:
    x, (units, in_size) = node.input_shapes[0], node.input_shapes[1]
    if node.options.keep_num_dims:
        return [(*x[:-1], units)]
    # Like TFLite, a total size that is not a multiple of `in` leaves the remainder unread.
    return [(math.prod(x) // in_size if in_size else 0, units)]


# Quantized kernels: input type -> (weights, bias types, output type).
_QUANTIZED = {
    TensorType.INT8: (TensorType.INT8, {TensorType.INT32}, TensorType.INT8),
    TensorType.UINT8: (TensorType.UINT8, {TensorType.INT32}, TensorType.UINT8),
    TensorType.INT16: (TensorType.INT8, {TensorType.INT32, TensorType.INT64}, TensorType.INT16),
}
TYPES = frozenset({TensorType.FLOAT32, *_QUANTIZED})
_F32, _I8, _U8, _I16 = TensorType.FLOAT32, TensorType.INT8, TensorType.UINT8, TensorType.INT16
_DEFAULT_FORMAT = WeightsFormat.DEFAULT


def _types(node: Node) -> tuple[TensorType, TensorType, TensorType | None, TensorType]:
    bias = optional_input_tensor(node, 2)
    return (node.input_type(0), node.input_type(1), None if bias is None else bias.type,
            node.output_tensors[0].type)


def optional_input_tensor(node: Node, index: int):
    return node.input_tensors[index] if index < len(node.input_tensors) else None


def check(node: Node) -> None:
    o = node.options
    if o.weights_format != _DEFAULT_FORMAT:
        raise node.unsupported(f"weights_format {o.weights_format!r} is not supported; only DEFAULT "
                               "(the shuffled format is a uint8-only optimisation)")
    check_rank(node, 1, 2, "weights")
    _sparsity.weight_matrix(node, 1)  # sparse weights: validated (and indexed) once, here
    x, (units, in_size) = node.input_shapes[0], node.input_shapes[1]
    if in_size == 0:
        raise ModelError(f"{node.describe()}: weights {(units, in_size)} have no input features")
    if o.keep_num_dims and (not x or x[-1] != in_size):
        raise ModelError(f"{node.describe()}: keep_num_dims needs the input's last dimension "
                         f"({x[-1] if x else 'none'}) to equal the weights' input size {in_size}")
    check_bias(node, 2, units)
    x_type, w_type, b_type, out_type = _types(node)
    if x_type == _F32 and w_type == _I8:
        _check_hybrid(node, units, b_type, out_type)
    elif x_type == _F32:
        _check_float(node, w_type, b_type, out_type)
    else:
        _check_quantized(node, units, x_type, w_type, b_type, out_type)


def _check_activation(node: Node) -> None:
    # TFLite's float and quantized kernels reject the other fused activations at prepare time.
    if node.options.fused_activation_function not in _ACTIVATIONS:
        raise ModelError(f"{node.describe()}: fused activation "
                         f"{node.options.fused_activation_function!r} is not allowed; use NONE, RELU, "
                         "RELU_N1_TO_1 or RELU6 and a separate activation op")


def _check_float(node: Node, w_type, b_type, out_type) -> None:
    if w_type != _F32 or b_type not in (None, _F32):
        raise node.unsupported(f"float32 input with {w_type.name} weights and "
                               f"{b_type.name if b_type else 'no'} bias is not supported; use float32 "
                               "weights and bias, or int8 weights with a float32 bias (hybrid)")
    if out_type != _F32:
        raise ModelError(f"{node.describe()}: output is {out_type.name}; a float32 input gives float32")
    _check_activation(node)


def _check_hybrid(node: Node, units: int, b_type, out_type) -> None:
    if b_type not in (None, _F32) or out_type != _F32:
        raise ModelError(f"{node.describe()}: a hybrid FULLY_CONNECTED (float32 input, int8 weights) "
                         "needs a float32 bias and a float32 output")
    _check_weight_scales(node, units)
    if node.options.fused_activation_function not in Activation.__members__.values():
        raise ModelError(f"{node.describe()}: unknown fused activation "
                         f"{node.options.fused_activation_function}")


def _check_weight_scales(node: Node, units: int) -> None:
    quant = _quant.quantization_of(node.input_tensors[1], "weights")
    if quant.per_channel and (quant.scale.size != units or quant.quantized_dimension != 0):
        raise ModelError(f"{node.describe()}: weights have {quant.scale.size} scales on dimension "
                         f"{quant.quantized_dimension}; per-channel weights need one scale per unit "
                         f"({units}) on dimension 0")


def _check_quantized(node: Node, units: int, x_type, w_type, b_type, out_type) -> None:
    want_w, want_b, want_out = _QUANTIZED[x_type]
    if w_type != want_w or (b_type is not None and b_type not in want_b) or out_type != want_out:
        allowed = "/".join(sorted(t.name for t in want_b))
        raise node.unsupported(f"{x_type.name} input with {w_type.name} weights, "
                               f"{b_type.name if b_type else 'no'} bias and {out_type.name} output is "
                               f"not supported; use {want_w.name} weights, {allowed} bias, "
                               f"{want_out.name} output")
    _check_activation(node)
    x_quant = _quant.quantization_of(node.input_tensors[0], "input")
    out_quant = _quant.quantization_of(node.output_tensors[0], "output")
    w_quant = _quant.quantization_of(node.input_tensors[1], "weights")
    if x_type == _U8 and w_quant.per_channel:
        raise node.unsupported("uint8 FULLY_CONNECTED takes per-tensor weights only; use int8 for "
                               "per-channel weights")
    _check_weight_scales(node, units)
    if x_type == _I16 and (x_quant.zero_point[0] or out_quant.zero_point[0]):
        raise ModelError(f"{node.describe()}: int16 input and output must be symmetric (zero point 0)")
    if x_type == _I16 and np.any(w_quant.zero_point):
        # LiteRT 2.3 accepts them but its output then ignores the weights' zero point (garbage).
        raise node.unsupported("int16 FULLY_CONNECTED needs symmetric int8 weights (zero point 0)")
    bias = optional_input_tensor(node, 2)
    if not w_quant.per_channel and bias is not None:
        # TFLite's GetQuantizedConvolutionMultipler: the bias scale must match input * weights.
        product = np.float64(np.float32(x_quant.scale[0]) * np.float32(w_quant.scale[0]))
        bias_quant = bias.quantization
        bias_scale = np.float64(bias_quant.scale[0]) if bias_quant is not None and \
            bias_quant.scale.size == 1 else 0.0
        if abs(product - bias_scale) / np.float64(out_quant.scale[0]) > 0.02:
            raise ModelError(f"{node.describe()}: bias scale {bias_scale:g} differs from input scale x "
                             f"weight scale ({product:g}) by more than 2% of the output scale")


def run(node: Node) -> None:
    x, bias = node.inputs[0], optional_input(node, 2)
    out = node.outputs[0]
    units, in_size = node.input_shapes[1]
    batch = x.size // in_size
    rows = x.reshape(-1)[:batch * in_size].reshape(batch, in_size)
    sparse = _sparsity.weight_matrix(node, 1)
    if sparse is not None and _sparse_path(node, x.dtype):
        out[...] = _run_sparse(node, rows, sparse, bias).reshape(out.shape)
        return
    weights = _sparsity.dense_input(node, 1)
    if x.dtype != np.float32:
        result = _run_quantized(node, rows, weights, bias)
    elif weights.dtype == np.int8:
        quant = node.input_tensors[1].quantization
        result = _matmul.hybrid_matmul(rows, weights, quant.scale,
                                       node.options.asymmetric_quantize_inputs, bias)
        result = _matmul.hybrid_activation(result, node.options.fused_activation_function)
    else:
        result = rows @ weights.T
        if bias is not None:
            result += bias
        result = apply_activation(result, node.options.fused_activation_function)
    out[...] = result.reshape(out.shape)


def _sparse_path(node: Node, x_dtype) -> bool:
    """Sparse weights run sparse for float32 and for int8 with symmetric weights (a weight zero
    point would make the skipped zeros non-zero); hybrid and int16 kernels densify them."""
    w_type = node.input_tensors[1].type
    if x_dtype == np.float32:
        return w_type == TensorType.FLOAT32
    return x_dtype == np.int8 and not np.any(node.input_tensors[1].quantization.zero_point)


def _run_sparse(node: Node, rows: np.ndarray, sparse: _sparsity.SparseMatrix,
                bias: np.ndarray | None) -> np.ndarray:
    """The float32 or int8 kernel with the products of all-zero weight blocks skipped."""
    if rows.dtype == np.float32:
        result = sparse.times_transposed(rows)
        if bias is not None:
            result += bias
        return apply_activation(result, node.options.fused_activation_function)
    zero = int(node.input_tensors[0].quantization.zero_point[0])
    acc = sparse.times_transposed(rows.astype(np.int64) - zero, np.int64)
    return _run_quantized(node, rows, None, bias, acc)


def _run_quantized(node: Node, rows: np.ndarray, weights: np.ndarray | None, bias: np.ndarray | None,
                   acc: np.ndarray | None = None) -> np.ndarray:
    x_quant = node.input_tensors[0].quantization
    w_quant = node.input_tensors[1].quantization
    out_quant = node.output_tensors[0].quantization
    if acc is None:
        acc = _matmul.integer_matmul(rows, int(x_quant.zero_point[0]), weights.T, int(w_quant.zero_point[0]))
    if bias is not None:
        acc += bias.astype(np.int64)
    int64_bias = bias is not None and bias.dtype == np.int64
    # LiteRT: per-tensor weights on its optimized (ruy) path take the float32 scale product.
    real = _matmul.effective_scale(node, 0, 1, float_product=not (w_quant.per_channel or int64_bias))
    low, high = _quant.activation_range_quantized(node.options.fused_activation_function,
                                                  out_quant.scale[0], out_quant.zero_point[0], rows.dtype)
    return _matmul.requantize(acc, real, int(out_quant.zero_point[0]), low, high, in_double=int64_bias)


OP = OpDef("FULLY_CONNECTED", run, shape=shape, check=check, types=TYPES, options=FullyConnectedOptions)
