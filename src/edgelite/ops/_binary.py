"""Shared machinery of the elementwise binary ops (ADD, MUL, LESS, ...): broadcasting shape
inference, type checks, TFLite's fused-activation clamp, and one builder turning a numpy
function into an OpDef."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import EdgeliteError, ModelError
from edgelite.model.ir import TensorType
from edgelite.ops._common import Activation, apply_activation
from edgelite.ops.base import Node, OpDef

INTEGER = frozenset({TensorType.INT32, TensorType.INT64})
FLOAT_INT = frozenset({TensorType.FLOAT32, TensorType.INT32, TensorType.INT64})
BOOL = frozenset({TensorType.BOOL})
# Types whose quantization (if any) must match across inputs and output for an op that
# only picks or compares raw values (MAXIMUM, MINIMUM, SELECT).
RAW_QUANTIZED = frozenset({TensorType.INT8, TensorType.UINT8, TensorType.INT16})

BinaryFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
Guard = Callable[[Node, np.ndarray, np.ndarray], None]


@dataclass
class MaximumMinimumOptions:
    table: ClassVar[str] = "MaximumMinimumOptions"


def broadcast_shape(node: Node, shapes: Sequence) -> tuple[int, ...] | None:
    """The numpy/TFLite broadcast of `shapes`; None if one is unknown; ModelError if they clash."""
    if any(s is None for s in shapes):
        return None
    try:
        return tuple(int(d) for d in np.broadcast_shapes(*[tuple(s) for s in shapes]))
    except ValueError:
        listed = ", ".join(str(tuple(s)) for s in shapes)
        raise ModelError(f"{node.describe()}: input shapes {listed} cannot be broadcast together; "
                         "make each dimension equal or 1") from None


def broadcast_all(node: Node) -> list:
    """Shape function: the output has the broadcast shape of every input."""
    return [broadcast_shape(node, node.input_shapes)]


def check_types(node: Node, inputs: Sequence[int], output: TensorType | None = None) -> None:
    """Inputs listed must share one type; the output must have `output` (default: that type)."""
    types = [node.input_type(i) for i in inputs]
    if len(set(types)) > 1:
        names = ", ".join(t.name for t in types)
        raise ModelError(f"{node.describe()}: inputs have different types ({names}); "
                         "cast them to one type")
    expected = types[0] if output is None else output
    for tensor in node.output_tensors:
        if tensor.type != expected:
            raise ModelError(f"{node.describe()}: output {tensor.name!r} is {tensor.type.name}, "
                             f"expected {expected.name}")


def check_same_quantization(node: Node, inputs: Sequence[int]) -> None:
    """For raw-value ops on quantized types: inputs and output must share one quantization."""
    tensors = [node.input_tensors[i] for i in inputs] + list(node.output_tensors)
    if tensors[0].type not in RAW_QUANTIZED:
        return
    params = {_quant_key(t.quantization) for t in tensors}
    if len(params) > 1:
        raise node.unsupported(f"{tensors[0].type.name} inputs and output with different "
                               "quantization are not supported yet; requantize them to one scale")


def _quant_key(quantization) -> tuple:
    if quantization is None:
        return ()
    return (tuple(quantization.scale.tolist()), tuple(quantization.zero_point.tolist()))


def activate(x: np.ndarray, activation: int, node: Node) -> np.ndarray:
    """The fused activation of TFLite's arithmetic kernels: a clamp from
    CalculateActivationRange, which applies RELU, RELU6 and RELU_N1_TO_1 and leaves the
    value unchanged for every other activation (TANH, SIGN_BIT included)."""
    if activation in (Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1):
        return apply_activation(np.asarray(x), activation, node)
    return x


def nonzero_divisor(node: Node, x: np.ndarray, divisor: np.ndarray) -> None:
    """Guard: integer division by zero is an invoke-time error in TFLite ('Division by 0')."""
    if divisor.dtype.kind in "iu" and not np.all(divisor):
        raise EdgeliteError(f"{node.describe()}: division by 0 in integer input "
                            f"{node.input_tensors[1].name!r}")


def binary_op(name: str, fn: BinaryFn, types: frozenset[TensorType], *,
              options: type | None = None, fused: bool = False,
              output: TensorType | None = None, guard: Guard | None = None,
              raw_quantized: bool = False) -> OpDef:
    """An OpDef for `out = fn(x, y)` with numpy broadcasting.

    fused:   apply the options' fused_activation_function (as a clamp, see `activate`).
    output:  the output type when it differs from the inputs' (BOOL for comparisons).
    guard:   validates the input values at invoke (e.g. `nonzero_divisor`), raising an
             EdgeliteError where TFLite's kernel fails.
    raw_quantized: the op only selects raw values, so quantized inputs are fine when
             inputs and output share one quantization.
    """

    def check(node: Node) -> None:
        check_types(node, (0, 1), output)
        if raw_quantized:
            check_same_quantization(node, (0, 1))

    def run(node: Node) -> None:
        x, y = node.inputs[0], node.inputs[1]
        if guard is not None:
            guard(node, x, y)
        result = fn(x, y)
        if fused:
            result = activate(result, node.options.fused_activation_function, node)
        node.outputs[0][...] = result

    return OpDef(name, run, shape=broadcast_all, check=check, types=types, options=options)
