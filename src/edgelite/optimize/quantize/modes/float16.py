"""float16 quantization: float32 constants stored as float16, each followed by a DEQUANTIZE
(version 3) that restores float32 for its consumers; all arithmetic stays float32. LiteRT runs
DEQUANTIZE of a constant once, at prepare time, so inference costs nothing extra."""

from __future__ import annotations

import numpy as np

from edgelite.model.ir import Operator, Subgraph, TensorType
from edgelite.optimize.quantize._graph import add_constant, add_tensor
from edgelite.optimize.quantize.modes._context import Context

_FLOAT16_MAX = float(np.finfo(np.float16).max)  # larger weights saturate instead of becoming inf


def quantize_float16(ctx: Context) -> None:
    for position, graph in enumerate(ctx.model.subgraphs):
        dequantized: dict[int, int] = {}
        head: list[Operator] = []
        for index, op in enumerate(graph.operators):
            skipped = ctx.skipped(position, index, op, graph)
            constants = [i for i in op.inputs if i >= 0 and _float_constant(ctx, graph, i)]
            if skipped is not None or not constants:
                reason = f"skipped by user ({skipped!r})" if skipped else "no float32 constants"
                ctx.keep_float(position, index, op, graph, reason)
                continue
            for i in constants:
                if i not in dequantized:
                    dequantized[i] = _float16_copy(ctx, graph, i, head)
            op.inputs = tuple(dequantized.get(i, i) for i in op.inputs)
            ctx.decide(position, index, op, graph, True, "float16 weights",
                       f"{len(constants)} float32 constant(s) stored as float16 + DEQUANTIZE")
        graph.operators[:0] = head


def _float_constant(ctx: Context, graph: Subgraph, index: int) -> bool:
    tensor = graph.tensors[index]
    return (tensor.type == TensorType.FLOAT32 and tensor.sparsity is None and not tensor.is_variable
            and ctx.model.constant(tensor) is not None)


def _float16_copy(ctx: Context, graph: Subgraph, index: int, head: list[Operator]) -> int:
    """A float16 constant + DEQUANTIZE into a new float32 tensor named like the original."""
    tensor = graph.tensors[index]
    values = np.clip(ctx.model.constant(tensor), -_FLOAT16_MAX, _FLOAT16_MAX).astype(np.float16)
    half = add_constant(ctx.model, graph, f"{tensor.name}_fp16", values, TensorType.FLOAT16)
    restored = add_tensor(graph, tensor.name, tensor, TensorType.FLOAT32)
    head.append(Operator("DEQUANTIZE", (half,), (restored,), version=3))
    ctx.inserted["DEQUANTIZE"] += 1
    return restored
