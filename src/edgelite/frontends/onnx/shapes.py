"""Output shapes of an edgelite op being emitted, from edgelite's own shape functions, and which
output dims are dynamic (found by probing the shape function with dynamic input dims resized)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from edgelite.model.ir import Operator, Tensor, TensorType
from edgelite.ops.base import Node
from edgelite.ops.registry import lookup

if TYPE_CHECKING:
    from edgelite.frontends.onnx.context import Value

_PROBE = 37  # a dynamic dim's stand-in when probing which output dims depend on it


def probe_shapes(opcode: str, options: Any, inputs: Sequence[Value | None], count: int,
            custom_code: str | None) -> tuple[list | None, list | None]:
    """Output shapes from edgelite's shape function: at the concrete shapes, and with every
    dynamic input dim set to a probe size (output dims that change are dynamic)."""
    opdef = lookup(opcode) if custom_code is None else None
    if opdef is None or opdef.shape is None or any(v is not None and v.shape is None for v in inputs):
        return None, None
    concrete = infer_shapes(opcode, options, inputs, [None if v is None else v.shape for v in inputs], count)
    if concrete is None or not any(v is not None and v.signature is not None for v in inputs):
        return concrete, None
    probed = [None if v is None else (v.shape if v.signature is None else
                                      tuple(_PROBE if d == -1 else s for s, d in zip(v.shape, v.signature,
                                                                                     strict=True)))
              for v in inputs]
    return concrete, infer_shapes(opcode, options, inputs, probed, count)


def infer_shapes(opcode: str, options: Any, inputs: Sequence[Value | None], input_shapes: list,
                 count: int) -> list | None:
    """Run edgelite's shape function of `opcode`; None when it has none or cannot tell."""
    opdef = lookup(opcode)
    tensors = [None if v is None else Tensor(v.name, tuple(s), TensorType.from_numpy(v.dtype))
               for v, s in zip(inputs, input_shapes, strict=True)]
    op = Operator(opcode, tuple(-1 if v is None else 0 for v in inputs), tuple(range(count)), options)
    node = Node(0, op, tensors, [], [None if s is None else tuple(s) for s in input_shapes],
                [None if v is None else v.const for v in inputs])
    try:
        result = opdef.shape(node)
    except Exception:  # noqa: BLE001 - a shape function failing only means "ask ONNX instead"
        return None
    if len(result) != count:
        return None
    return [None if s is None else tuple(int(d) for d in s) for s in result]
