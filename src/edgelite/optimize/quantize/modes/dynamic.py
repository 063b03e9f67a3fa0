"""Dynamic-range quantization: int8 weights, float activations, float bias.

LiteRT's hybrid kernels quantize each activation at run time (asymmetrically where the kernel
supports it) and dequantize the int32 accumulators with the weight scales. Weights are symmetric
int8; per channel where TFLite's hybrid kernels read per-channel scales (CONV_2D axis 0,
DEPTHWISE_CONV_2D axis 3, FULLY_CONNECTED axis 0), per tensor for BATCH_MATMUL. As TensorFlow's
converter does by default, weights with fewer than MIN_ELEMENTS values stay float: they save
little space, and quantizing the activations they meet at run time costs accuracy.
"""

from __future__ import annotations

from edgelite.model.ir import Operator, Subgraph, TensorType
from edgelite.optimize.quantize._graph import is_constant
from edgelite.optimize.quantize.modes._context import Context
from edgelite.optimize.quantize.modes._weights import WeightCache

# op -> (weights input, per-channel axis or None when the hybrid kernel is per-tensor only).
HYBRID_OPS = {
    "CONV_2D": (1, 0),
    "DEPTHWISE_CONV_2D": (1, 3),
    "FULLY_CONNECTED": (1, 0),
    "BATCH_MATMUL": (1, None),
}
# Hybrid kernels that only read per-channel scales: per_channel=False writes one scale per channel.
PER_CHANNEL_ONLY = {"DEPTHWISE_CONV_2D"}
MIN_ELEMENTS = 1024  # TensorFlow's default min_elements for dynamic-range quantization
# Options that select LiteRT's asymmetric run-time input quantization (as TensorFlow's converter).
ASYMMETRIC_INPUTS = {"FULLY_CONNECTED", "BATCH_MATMUL"}


def quantize_dynamic(ctx: Context) -> None:
    for position, graph in enumerate(ctx.model.subgraphs):
        weights = WeightCache(ctx.model, graph)
        for index, op in enumerate(graph.operators):
            reason = _float_reason(ctx, position, index, op, graph)
            if reason:
                ctx.keep_float(position, index, op, graph, reason)
                continue
            _hybridize(ctx, position, index, op, graph, weights)


def _float_reason(ctx: Context, position: int, index: int, op: Operator, graph: Subgraph) -> str | None:
    skipped = ctx.skipped(position, index, op, graph)
    if skipped is not None:
        return f"skipped by user ({skipped!r})"
    if op.name not in HYBRID_OPS:
        has_weights = any(i >= 0 and graph.tensors[i].type == TensorType.FLOAT32
                          and is_constant(ctx.model, graph.tensors[i]) for i in op.inputs)
        if has_weights:
            return f"no hybrid (dynamic-range) kernel in TFLite for {op.name}"
        return "no weights to quantize (activations stay float in dynamic mode)"
    slot, _ = HYBRID_OPS[op.name]
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[slot]]
    if x.type != TensorType.FLOAT32:
        return f"input is {x.type.name}, not FLOAT32"
    if w.type != TensorType.FLOAT32 or not is_constant(ctx.model, w):
        return "weights are not a float32 constant; hybrid kernels need constant weights"
    if w.sparsity is not None:
        return "sparse weights are kept as they are"
    size = ctx.model.constant(w).size
    if size < MIN_ELEMENTS:
        return f"weights have {size} values (< {MIN_ELEMENTS}): too small to be worth quantizing"
    return None


def _hybridize(ctx: Context, position: int, index: int, op: Operator, graph: Subgraph,
               weights: WeightCache) -> None:
    slot, axis = HYBRID_OPS[op.name]
    spread = not ctx.per_channel and op.name in PER_CHANNEL_ONLY
    use_axis = axis if (ctx.per_channel or spread) else None
    new = weights.int8(op.inputs[slot], use_axis, spread=spread)
    op.inputs = tuple(new if k == slot else i for k, i in enumerate(op.inputs))
    if op.name in ASYMMETRIC_INPUTS and op.options is not None:
        op.options.asymmetric_quantize_inputs = True
    scales = graph.tensors[new].quantization.scale.size
    if spread:
        layout = "per-tensor scale written per channel (LiteRT's hybrid kernel reads channels)"
    else:
        layout = f"per-channel ({scales} scales, axis {axis})" if scales > 1 else "per-tensor"
    ctx.decide(position, index, op, graph, True, "int8 weights (hybrid)",
               f"symmetric int8 weights, {layout}; float bias and activations")
