"""FULLY_CONNECTED: input of any rank flattened to [-1, in], weights [units, in], optional bias."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.ops._common import Activation, apply_activation
from edgelite.ops._conv import (
    check_bias,
    check_float,
    check_rank,
    optional_input,
)
from edgelite.ops.base import FLOAT, Node, OpDef


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
    return [(int(np.prod(x, dtype=np.int64)) // in_size if in_size else 0, units)]


def check(node: Node) -> None:
    o = node.options
    if o.weights_format != WeightsFormat.DEFAULT:
        raise node.unsupported(f"weights_format {o.weights_format!r} is not supported; only DEFAULT "
                               "(the shuffled format is a uint8-only optimisation)")
    if node.input_tensors[1].sparsity is not None:
        raise node.unsupported("sparse weights are not supported yet; densify them")
    check_rank(node, 1, 2, "weights")
    check_float(node, 1, 2)
    if o.fused_activation_function not in _ACTIVATIONS:
        raise ModelError(f"{node.describe()}: fused activation {o.fused_activation_function!r} is not "
                         "allowed; use NONE, RELU, RELU_N1_TO_1 or RELU6 and a separate activation op")
    x, (units, in_size) = node.input_shapes[0], node.input_shapes[1]
    if in_size == 0:
        raise ModelError(f"{node.describe()}: weights {(units, in_size)} have no input features")
    if o.keep_num_dims and (not x or x[-1] != in_size):
        raise ModelError(f"{node.describe()}: keep_num_dims needs the input's last dimension "
                         f"({x[-1] if x else 'none'}) to equal the weights' input size {in_size}")
    check_bias(node, 2, units)


def run(node: Node) -> None:
    x, weights, bias = node.inputs[0], node.inputs[1], optional_input(node, 2)
    out = node.outputs[0]
    units, in_size = weights.shape
    batch = x.size // in_size
    result = x.reshape(-1)[:batch * in_size].reshape(batch, in_size) @ weights.T
    if bias is not None:
        result += bias
    out[...] = apply_activation(result, node.options.fused_activation_function).reshape(out.shape)


OP = OpDef("FULLY_CONNECTED", run, shape=shape, check=check, types=FLOAT, options=FullyConnectedOptions)
