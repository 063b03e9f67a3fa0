"""Shared machinery of the elementwise binary ops (ADD, MUL, LESS, ...): broadcasting shape
inference, type checks, TFLite's fused-activation clamp, and one builder turning a numpy
function (and optionally a quantized kernel from `_qbinary`) into an OpDef."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from edgelite.errors import EdgeliteError, ModelError
from edgelite.model.ir import TensorType
from edgelite.ops._common import Activation, apply_activation
from edgelite.ops.base import Node, OpDef, ShapeFn

if TYPE_CHECKING:
    from edgelite.ops._qbinary import QuantizedKernel

FLOAT_INT = frozenset({TensorType.FLOAT32, TensorType.INT32, TensorType.INT64})
BOOL = frozenset({TensorType.BOOL})
# Quantized types that MAXIMUM, MINIMUM and SELECT move as raw values: LiteRT picks the raw
# integers whatever the inputs' and output's quantization (it never requantizes).
RAW_QUANTIZED = frozenset({TensorType.INT8, TensorType.UINT8, TensorType.INT16})

BinaryFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
Guard = Callable[[Node, np.ndarray, np.ndarray], None]


@dataclass
class MaximumMinimumOptions:
    table: ClassVar[str] = "MaximumMinimumOptions"


def broadcast_shape(node: Node, shapes: Sequence) -> tuple[int, ...] | None:
    """The numpy/TFLite broadcast of `shapes`; None if one is unknown; ModelError if they clash."""
    for s in shapes:
        if s is None:
            return None
    dims = _broadcast_dims(shapes)
    if dims is not None:
        return dims
    try:
        return tuple(int(d) for d in np.broadcast_shapes(*[tuple(s) for s in shapes]))
    except ValueError:
        listed = ", ".join(str(tuple(s)) for s in shapes)
        raise ModelError(f"{node.describe()}: input shapes {listed} cannot be broadcast together; "
                         "make each dimension equal or 1") from None


def _broadcast_dims(shapes: Sequence) -> tuple[int, ...] | None:
    """numpy's broadcast of non-negative dimensions in plain Python; None where numpy must decide
    (a clash to report, a negative dimension)."""
    if not shapes:
        return None
    first = shapes[0]
    if len(shapes) == 2 and first == shapes[1] or all(s == first for s in shapes):
        out = list(map(int, first))
        return tuple(out) if min(out, default=0) >= 0 else None
    rank = max(map(len, shapes))
    out = [1] * rank
    for shape in shapes:
        offset = rank - len(shape)
        for k, d in enumerate(map(int, shape), offset):
            current = out[k]
            if d == current or d == 1:
                continue
            if d < 0 or current != 1:
                return None
            out[k] = d
    return tuple(out) if min(out, default=0) >= 0 else None


def broadcast_all(node: Node) -> list:
    """Shape function: the output has the broadcast shape of every input."""
    return [broadcast_shape(node, node.input_shapes)]


def check_inputs(node: Node, count: int) -> None:
    """The op takes exactly `count` inputs, none of them omitted."""
    if len(node.input_tensors) != count or None in node.input_tensors:
        raise ModelError(f"{node.describe()}: takes {count} inputs, got "
                         f"{sum(t is not None for t in node.input_tensors)}")


def check_types(node: Node, inputs: Sequence[int], output: TensorType | None = None) -> None:
    """Inputs listed must share one type; the output must have `output` (default: that type)."""
    if len(node.output_tensors) != 1:
        raise ModelError(f"{node.describe()}: has {len(node.output_tensors)} outputs, takes 1")
    types = [node.input_type(i) for i in inputs]
    if len(set(types)) > 1:
        names = ", ".join(t.name for t in types)
        raise ModelError(f"{node.describe()}: inputs have different types ({names}); "
                         "cast them to one type")
    expected = types[0] if output is None else output
    if node.output_tensors[0].type != expected:
        raise ModelError(f"{node.describe()}: output {node.output_tensors[0].name!r} is "
                         f"{node.output_tensors[0].type.name}, expected {expected.name}")


def nonzero_divisor(node: Node, x: np.ndarray, divisor: np.ndarray) -> None:
    """Guard: integer division by zero is an invoke-time error in TFLite ('Division by 0')."""
    if divisor.dtype.kind in "iu":
        nonzero_any_divisor(node, x, divisor)


def nonzero_any_divisor(node: Node, x: np.ndarray, divisor: np.ndarray) -> None:
    """Guard: a divisor of 0 (of any type) is an invoke-time error ('Division by 0')."""
    if not np.all(divisor):
        raise EdgeliteError(f"{node.describe()}: division by 0 (input "
                            f"{node.input_tensors[1].name!r} holds a zero)")


def binary_op(name: str, fn: BinaryFn, types: frozenset[TensorType], *,
              options: type | None = None, fused: bool = False,
              output: TensorType | None = None, guard: Guard | None = None,
              shape: ShapeFn | None = None,
              quantized: QuantizedKernel | None = None) -> OpDef:
    """An OpDef for `out = fn(x, y)` with numpy broadcasting.

    fused:   apply the options' fused_activation_function (see `_common.activation_range`).
    output:  the output type when it differs from the inputs' (BOOL for comparisons).
    guard:   validates the input values at invoke (e.g. `nonzero_divisor`), raising an
             EdgeliteError where TFLite's kernel fails.
    shape:   the shape function when it is not the broadcast of both inputs.
    quantized: a `_qbinary.QuantizedKernel` that takes over for the input types it lists
             (its own type checks, multipliers and fused activation).
    """

    def kernel_for(node: Node) -> QuantizedKernel | None:
        if quantized is not None and node.input_type(0) in quantized.types:
            return quantized
        return None

    def check(node: Node) -> None:
        check_inputs(node, 2)
        kernel = kernel_for(node)
        if kernel is not None:
            kernel.prepare(node)
        else:
            check_types(node, (0, 1), output)

    def run(node: Node) -> None:
        x, y = node.inputs[0], node.inputs[1]
        out = node.outputs[0]
        kernel = kernel_for(node)
        if kernel is not None:
            out[...] = kernel.compute(kernel.prepare(node), x, y)
            return
        if guard is not None:
            guard(node, x, y)
        with np.errstate(all="ignore"):  # IEEE results (inf, NaN) are the intended ones
            out[...] = fn(x, y)
        if fused:
            # A model may omit the options table: the schema default is NONE.
            activation = getattr(node.options, "fused_activation_function", Activation.NONE)
            apply_activation(out, activation)

    all_types = types | quantized.types if quantized is not None else types
    return OpDef(name, run, shape=shape or broadcast_all, check=check, types=all_types,
                 options=options)


SELECTABLE = FLOAT_INT | BOOL | RAW_QUANTIZED


def check_select(node: Node) -> None:
    """SELECT/SELECT_V2: a bool condition picking between x and y of one supported type
    (quantized values are copied raw, whatever their quantization, as LiteRT does)."""
    check_inputs(node, 3)
    check_types(node, (1, 2))
    if node.input_type(0) != TensorType.BOOL:
        raise ModelError(f"{node.describe()}: condition must be BOOL, "
                         f"not {node.input_type(0).name}")
    if node.input_type(1) not in SELECTABLE:
        raise node.unsupported(f"{node.input_type(1).name} inputs are not supported")
