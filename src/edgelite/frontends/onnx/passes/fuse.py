"""Fusions: per-channel affine (BatchNormalization's MUL/ADD) into conv/FC weights, constant
ADD into a FULLY_CONNECTED bias, MatMul by a constant into FULLY_CONNECTED, and RELU/RELU6/
RELU_N1_TO_1 into the producer's fused_activation_function."""

from __future__ import annotations

import dataclasses

import numpy as np

from edgelite.frontends.onnx.passes.rewrite import Rewriter
from edgelite.model.ir import Model, Operator, TensorType
from edgelite.ops._common import Activation

ACTIVATIONS = {"RELU": Activation.RELU, "RELU6": Activation.RELU6, "RELU_N1_TO_1": Activation.RELU_N1_TO_1}
# Ops whose LiteRT kernels clamp to a fused activation.
FUSES_ACTIVATION = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV", "ADD",
                              "SUB", "MUL", "DIV", "AVERAGE_POOL_2D", "MAX_POOL_2D"})
# op -> (weights input, the weights axis holding output channels, bias input)
AFFINE_HOSTS = {"CONV_2D": (1, 0, 2), "DEPTHWISE_CONV_2D": (1, 3, 2), "FULLY_CONNECTED": (1, 0, 2)}


def _single_use(rw: Rewriter, tensor: int, readers: dict) -> Operator | None:
    """The one op reading `tensor`, if exactly one does and it is not a graph output."""
    users = readers.get(tensor, [])
    if len(users) != 1 or tensor in rw.graph.outputs:
        return None
    return users[0]


def _activation(op: Operator) -> int:
    return int(getattr(op.options, "fused_activation_function", 0) or 0)


def _absorb(rw: Rewriter, host: Operator, follower: Operator) -> None:
    """host now writes follower's output; follower disappears."""
    host.outputs = (follower.outputs[0], *host.outputs[1:])
    rw.graph.operators.remove(follower)


def _channel_vector(rw: Rewriter, op: Operator, y: int, channels: int) -> np.ndarray | None:
    """The other operand of a binary op on y as one value per channel (last axis), if it is one."""
    other = op.inputs[1] if op.inputs[0] == y else op.inputs[0]
    value = rw.const(other)
    if value is None or value.dtype != np.float32 or value.ndim > len(rw.tensor(y).shape):
        return None
    if value.size == 1:
        return np.full(channels, value.reshape(()), np.float32)
    if value.shape[-1] != channels or value.size != channels:
        return None
    return value.reshape(channels)


def fold_affine(model: Model, subgraph_index: int = 0) -> int:
    """CONV_2D/DEPTHWISE_CONV_2D/FULLY_CONNECTED followed by MUL/DIV/ADD/SUB with a per-output-
    channel constant: fold it into the weights and bias (BatchNormalization after a conv)."""
    rw, count = Rewriter(model, subgraph_index), 0
    for host in list(rw.graph.operators):
        if host.opcode not in AFFINE_HOSTS or host not in rw.graph.operators:
            continue
        while _activation(host) == 0 and _fold_one(rw, host):
            count += 1
    return count


def _fold_one(rw: Rewriter, host: Operator) -> bool:
    w_in, w_axis, b_in = AFFINE_HOSTS[host.opcode]
    y = host.outputs[0]
    follower = _single_use(rw, y, rw.consumers())
    weights = rw.const(host.inputs[w_in])
    if follower is None or weights is None or weights.dtype != np.float32 \
            or rw.tensor(y).type != TensorType.FLOAT32:
        return False
    if follower.opcode not in ("MUL", "DIV", "ADD", "SUB") or _activation(follower):
        return False
    if follower.opcode in ("DIV", "SUB") and follower.inputs[0] != y:
        return False
    if host.opcode == "FULLY_CONNECTED" and len(rw.tensor(y).shape) < 1:
        return False
    channels = weights.shape[w_axis]
    vector = _channel_vector(rw, follower, y, channels)
    if vector is None or rw.tensor(follower.outputs[0]).shape != rw.tensor(y).shape:
        return False
    bias_index = host.inputs[b_in] if len(host.inputs) > b_in else -1
    bias = rw.const(bias_index) if bias_index >= 0 else np.zeros(channels, np.float32)
    if bias is None:
        return False
    name = rw.tensor(host.inputs[w_in]).name
    if follower.opcode in ("MUL", "DIV"):
        scale = vector if follower.opcode == "MUL" else np.float32(1) / vector
        shape = [1] * weights.ndim
        shape[w_axis] = channels
        new_weights = (weights * scale.reshape(shape)).astype(np.float32)
        host.inputs = _set(host.inputs, w_in, rw.add_const(new_weights, f"{name}/scaled"))
        bias = bias * scale
    else:
        bias = bias + vector if follower.opcode == "ADD" else bias - vector
    host.inputs = _set(host.inputs, b_in, rw.add_const(bias.astype(np.float32), f"{name}/bias"))
    _absorb(rw, host, follower)
    return True


def _set(inputs: tuple[int, ...], k: int, index: int) -> tuple[int, ...]:
    padded = list(inputs) + [-1] * (k + 1 - len(inputs))
    padded[k] = index
    return tuple(padded)


def matmul_to_fully_connected(model: Model, subgraph_index: int = 0) -> int:
    """BATCH_MATMUL(x, constant [K, N]) -> FULLY_CONNECTED(x, W^T [N, K]) keeping x's leading dims."""
    from edgelite.ops.fully_connected import FullyConnectedOptions

    rw, count = Rewriter(model, subgraph_index), 0
    for op in rw.graph.operators:
        if op.opcode != "BATCH_MATMUL" or op.options.adj_x:
            continue
        weights = rw.const(op.inputs[1])
        x = rw.tensor(op.inputs[0])
        if weights is None or weights.ndim != 2 or weights.dtype != np.float32:
            continue
        if x.type != TensorType.FLOAT32 or len(x.shape) < 2 or x.quantization is not None:
            continue
        matrix = weights if op.options.adj_y else weights.T
        name = rw.tensor(op.inputs[1]).name
        op.opcode = "FULLY_CONNECTED"
        op.inputs = (op.inputs[0], rw.add_const(np.ascontiguousarray(matrix), f"{name}/fc"), -1)
        op.options = FullyConnectedOptions(keep_num_dims=True)
        count += 1
    return count


def fuse_activations(model: Model, subgraph_index: int = 0) -> int:
    """RELU / RELU6 / RELU_N1_TO_1 after an op that can clamp: the producer clamps instead."""
    rw, count = Rewriter(model, subgraph_index), 0
    readers = rw.consumers()
    for act in list(rw.graph.operators):
        activation = ACTIVATIONS.get(act.opcode)
        producer = rw.producers().get(act.inputs[0]) if activation is not None else None
        if producer is None or producer.opcode not in FUSES_ACTIVATION or _activation(producer):
            continue
        tensor = rw.tensor(act.inputs[0])
        if tensor.type != TensorType.FLOAT32 or tensor.quantization is not None:
            continue
        if _single_use(rw, act.inputs[0], readers) is not act \
                or not hasattr(producer.options, "fused_activation_function"):
            continue
        producer.options = dataclasses.replace(producer.options, fused_activation_function=activation)
        _absorb(rw, producer, act)
        readers = rw.consumers()
        count += 1
    return count
