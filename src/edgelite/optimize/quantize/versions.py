"""Operator versions for quantized variants, as tensorflow/lite/tools/versioning/op_version.cc
computes them (LiteRT refuses versions it does not register, and older runtimes read the version
to know whether they can run a node). Versions only go up: a node keeps a higher existing one."""

from __future__ import annotations

from edgelite.model.ir import Model, Operator, Subgraph, TensorType

F32, I8, I16, U8, F16 = (TensorType.FLOAT32, TensorType.INT8, TensorType.INT16, TensorType.UINT8,
                         TensorType.FLOAT16)

# op -> (version for int8/uint8 input, version for int16 input); None: no such variant.
_BY_TYPE = {
    **dict.fromkeys(("SOFTMAX", "MEAN", "MIRROR_PAD", "REDUCE_MAX", "REDUCE_MIN", "RELU6", "RSQRT",
                     "CONCATENATION", "PAD", "PADV2", "TANH", "LOGISTIC", "MAX_POOL_2D",
                     "AVERAGE_POOL_2D", "BATCH_MATMUL", "RELU", "LESS", "GREATER_EQUAL", "PACK"),
                    (2, 3)),
    **dict.fromkeys(("SUM", "LOG_SOFTMAX", "GREATER", "LESS_EQUAL", "SQUARED_DIFFERENCE",
                     "DEPTH_TO_SPACE", "SPACE_TO_DEPTH", "SPLIT_V", "ARG_MAX", "ARG_MIN", "GELU",
                     "NOT_EQUAL", "SUB", "ADD", "MUL"), (2, None)),
    **dict.fromkeys(("MAXIMUM", "MINIMUM", "GATHER", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR",
                     "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND", "SPLIT", "UNPACK", "SLICE"), (2, 4)),
    "TRANSPOSE": (2, 5), "STRIDED_SLICE": (2, None), "EQUAL": (2, 4), "LEAKY_RELU": (None, 2),
    "TILE": (3, None), "BROADCAST_TO": (3, 3), "EXP": (2, 2), "LOG": (2, 2), "REDUCE_PROD": (2, 2),
    "FLOOR_DIV": (3, 3), "FLOOR_MOD": (2, 2), "ABS": (2, 3), "L2_NORMALIZATION": (2, None),
}
_TYPE_INPUT = {"SPLIT": 1}  # the input whose type decides (SPLIT's input 0 is the axis)
_BASE_VERSION = {"BROADCAST_TO": 2}  # version 1 was withdrawn: LiteRT registers 2 and up


def set_versions(model: Model) -> None:
    """Raise every builtin node's version to what its tensor types require."""
    for graph in model.subgraphs:
        for op in graph.operators:
            if op.opcode != "CUSTOM":
                op.version = max(op.version, op_version(op, graph))


def op_version(op: Operator, graph: Subgraph) -> int:
    """The version op_version.cc gives this node (1 for float nodes)."""
    ins = [graph.tensors[i].type if i >= 0 else None for i in op.inputs]
    outs = [graph.tensors[i].type for i in op.outputs]
    first = ins[0] if ins else None
    per_channel = _per_channel(op, graph, 1)
    name = op.opcode
    hybrid = len(ins) > 1 and first == F32 and ins[1] == I8 and outs[:1] == [F32]
    if name == "CONV_2D":
        if first == I8 and ins[1] == I8:
            return 3
        return (5 if per_channel else 2) if hybrid else 1
    if name == "DEPTHWISE_CONV_2D":
        if hybrid:
            return 6 if per_channel else 4
        if first == I8 and ins[1] == I8:
            return 3
        dilated = op.options is not None and (op.options.dilation_w_factor != 1
                                              or op.options.dilation_h_factor != 1)
        return 2 if dilated else 1
    if name == "FULLY_CONNECTED":
        return _fully_connected(op, ins, outs, per_channel, hybrid)
    if name == "TRANSPOSE_CONV":
        if op.options is not None and getattr(op.options, "fused_activation_function", 0):
            return 4
        if len(ins) == 4 and ins[3] is not None:
            return 3
        return 2 if ins[1] == I8 else 1
    if name == "BATCH_MATMUL":
        if first == F32 and hybrid and getattr(op.options, "asymmetric_quantize_inputs", False):
            return 4
    if name == "DEQUANTIZE":
        if first in (I16, F16):
            return 3
        return (5 if _per_channel(op, graph, 0) else 2) if first == I8 else 1
    if name == "QUANTIZE":
        return 2 if outs[0] == I16 else 1
    if name in ("ADD", "SUB") and first == I16 and not getattr(op.options, "pot_scale_int16", True):
        return 3 if name == "ADD" else 5
    if name == "MUL" and first == I16:
        return 4
    if name == "MUL" and first == I8 and _rescale_at_least_one(op, graph):
        return 3
    if name in ("RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR") and first != I16:
        return _resize(op, first)
    position = _TYPE_INPUT.get(name, 0)
    kind = ins[position] if len(ins) > position else None
    int8_version, int16_version = _BY_TYPE.get(name, (None, None))
    if kind in (I8, U8) and int8_version:
        return int8_version
    if kind == I16 and int16_version:
        return int16_version
    return _BASE_VERSION.get(name, 1)


def _rescale_at_least_one(op: Operator, graph: Subgraph) -> bool:
    """MUL version 3: input1_scale * input2_scale / output_scale >= 1."""
    scales = [graph.tensors[i].quantization for i in (*op.inputs[:2], op.outputs[0])]
    if any(q is None or q.scale.size == 0 for q in scales):
        return False
    a, b, out = (float(q.scale[0]) for q in scales)
    return out != 0 and a * b / out >= 1.0


def _fully_connected(op: Operator, ins: list, outs: list, per_channel: bool, hybrid: bool) -> int:
    options = op.options
    if hybrid and per_channel:
        return 12
    if ins[0] == I16 and ins[1] == I8 and outs[0] == I16 and getattr(options, "quantized_bias_type", 0):
        return 11
    if len(ins) == 2:
        return 6
    if getattr(options, "keep_num_dims", False):
        return 5
    if ins[0] == I8 and ins[1] == I8 and outs[0] == I8:
        return 4
    if hybrid:
        return 9 if getattr(options, "asymmetric_quantize_inputs", False) else 3
    return 1


def _resize(op: Operator, first: TensorType | None) -> int:
    options = op.options
    if op.opcode == "RESIZE_BILINEAR" and getattr(options, "half_pixel_centers", False):
        return 3
    if op.opcode == "RESIZE_NEAREST_NEIGHBOR" and (getattr(options, "half_pixel_centers", False)
                                                   or getattr(options, "align_corners", False)):
        return 3
    return 2 if first == I8 else 1


def _per_channel(op: Operator, graph: Subgraph, position: int) -> bool:
    if len(op.inputs) <= position or op.inputs[position] < 0:
        return False
    quant = graph.tensors[op.inputs[position]].quantization
    return quant is not None and quant.scale.size > 1
