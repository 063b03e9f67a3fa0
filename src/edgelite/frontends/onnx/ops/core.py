"""Graph plumbing: Constant (a known value, no op) and Identity (the same Value under a new name)."""

from __future__ import annotations

import numpy as np
import onnx

from edgelite.frontends.onnx.context import Context, Unsupported

_VALUE_ATTRIBUTES = {"value_float": np.float32, "value_floats": np.float32, "value_int": np.int64,
                     "value_ints": np.int64}


def _constant(node: onnx.NodeProto, ctx: Context) -> None:
    value = ctx.attr(node, "value")
    if value is None:
        for name, dtype in _VALUE_ATTRIBUTES.items():
            found = ctx.attr(node, name)
            if found is not None:
                value = np.asarray(found, dtype=dtype)
                break
    if value is None:
        raise Unsupported("only value, value_float(s) and value_int(s) constants (not sparse or strings)")
    ctx.bind(node.output[0], ctx.constant(np.asarray(value), node.output[0]))


def _identity(node: onnx.NodeProto, ctx: Context) -> None:
    ctx.bind(node.output[0], ctx.input(node, 0))


CONVERTERS = {"Constant": _constant, "Identity": _identity}
