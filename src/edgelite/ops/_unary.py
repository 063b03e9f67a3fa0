"""Shared machinery of the elementwise unary ops (RELU, EXP, ABS, ...): one builder turns a numpy
function into an OpDef with TFLite's type rules (output type = input type, same shape)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgelite.errors import ModelError
from edgelite.model.ir import TensorType
from edgelite.ops._common import same_as_input
from edgelite.ops.base import FLOAT, Node, OpDef

UnaryFn = Callable[..., np.ndarray]

FLOAT_HALF = frozenset({TensorType.FLOAT32, TensorType.FLOAT16})


def check_same_type(node: Node) -> None:
    """The output must have the input's type (TFLite checks this in every unary Prepare)."""
    expected = node.input_type(0)
    for tensor in node.output_tensors:
        if tensor.type != expected:
            raise ModelError(f"{node.describe()}: output {tensor.name!r} is {tensor.type.name}, "
                             f"expected {expected.name} like the input")


def check_not_quantized(node: Node) -> None:
    """Integer inputs are taken as plain integers; quantized ones need the (later) int8 kernels."""
    tensor = node.input_tensors[0]
    if tensor.dtype.kind in "iu" and tensor.quantization is not None \
            and tensor.quantization.scale.size:
        raise node.unsupported(f"quantized {tensor.type.name} input is not supported yet; "
                               "dequantize it or run the float model")


def check_has_last_axis(node: Node) -> None:
    """For ops working along the last axis (SOFTMAX, LOG_SOFTMAX): same type, rank >= 1."""
    check_same_type(node)
    if len(node.input_shapes[0]) < 1:
        raise node.unsupported("input is a scalar; the op needs at least one dimension")


def clamp(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """x limited to [low, high], keeping NaN and the sign of zero as TFLite's clamps do."""
    return np.where(x < low, low, np.where(x > high, high, x)).astype(x.dtype, copy=False)


def evaluate(fn: UnaryFn, x: np.ndarray, *args) -> np.ndarray:
    """fn(x) without floating-point warnings. numpy computes each float16 operation in float32
    and rounds it, as Eigen::half does in TFLite's float16 kernels."""
    with np.errstate(all="ignore"):
        return fn(x, *args)


def unary_op(name: str, fn: UnaryFn, types: frozenset[TensorType] | None = FLOAT,
             options: type | None = None, *, with_options: bool = False,
             quantized_ok: bool = False) -> OpDef:
    """An elementwise OpDef: output = fn(x), or fn(x, options) when `with_options`.

    quantized_ok: the op works on raw integer values whatever their quantization (NEG).
    """

    def check(node: Node) -> None:
        check_same_type(node)
        if not quantized_ok:
            check_not_quantized(node)

    def run(node: Node) -> None:
        args = ()
        if with_options:  # a missing options table means the schema defaults, as in TFLite
            args = (node.options if node.options is not None else options(),)
        node.outputs[0][...] = evaluate(fn, node.inputs[0], *args)

    return OpDef(name, run, shape=same_as_input, check=check, types=types, options=options)
