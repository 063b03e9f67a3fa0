"""Control and inference-time identities: If with a constant condition, Dropout.

If: only the branch a constant condition takes is converted, inline (TFLite has IF, but a
condition known at conversion time is what exporters leave behind, e.g. shape checks).
Dropout is the identity at inference; its mask output, when asked for, is all ones.
"""

from __future__ import annotations

import numpy as np
import onnx

from edgelite.frontends.onnx.context import Context, Unsupported
from edgelite.frontends.onnx.ops.shape import shape_of


def _if(node: onnx.NodeProto, ctx: Context) -> None:
    condition = ctx.input(node, 0)
    if not condition.is_const:
        raise Unsupported("a condition computed at run time (only constant conditions are converted)")
    taken = "then_branch" if bool(np.asarray(condition.const).reshape(-1)[0]) else "else_branch"
    outputs = ctx.convert_subgraph(ctx.attr(node, taken))
    if len(outputs) != len(node.output):
        raise Unsupported(f"{taken} has {len(outputs)} outputs, the node {len(node.output)}")
    for name, value in zip(node.output, outputs, strict=True):
        ctx.bind(name, value)


def _dropout(node: onnx.NodeProto, ctx: Context) -> None:
    x = ctx.input(node, 0)
    training = ctx.const_input(node, 2, "training_mode") if ctx.opset >= 12 else None
    if training is not None and bool(np.asarray(training).reshape(-1)[0]):
        ratio = ctx.const_input(node, 1, "ratio")
        if ratio is None or float(ratio) != 0.0:
            raise Unsupported("training_mode=True (random dropout)")
    ctx.bind(node.output[0], x)
    if len(node.output) < 2 or not node.output[1]:
        return
    dtype = np.dtype(np.bool_) if ctx.opset >= 10 else x.dtype
    if x.static:
        ctx.bind(node.output[1], ctx.constant(np.ones(x.shape, dtype), node.output[1]))
        return
    ctx.emit("FILL", [shape_of(ctx, x), ctx.constant(np.ones((), dtype), "one")], outputs=[node.output[1]],
             dtypes=[dtype])


CONVERTERS = {"If": _if, "Dropout": _dropout}
