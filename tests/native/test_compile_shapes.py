"""The compiler's shared prepares (native/compile_shapes.c) against runtime/plan.build_plan.

One-op models with hypothesis-drawn shapes, options, types and quantization, valid and invalid,
go through both paths: whenever the compiler accepts a node, the output shape it infers must be
build_plan's; whenever build_plan rejects the model, the compiler must have deferred."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from edgelite.errors import ModelError
from edgelite.model.ir import Model, Operator, Quantization, Subgraph, Tensor, TensorType
from edgelite.model.reader import load
from edgelite.ops._pool import Pool2DOptions
from edgelite.ops._reduce import ReducerOptions
from edgelite.ops.add import AddOptions
from edgelite.ops.concatenation import ConcatenationOptions
from edgelite.ops.conv_2d import Conv2DOptions
from edgelite.ops.depthwise_conv_2d import DepthwiseConv2DOptions
from edgelite.ops.div import DivOptions
from edgelite.ops.fully_connected import FullyConnectedOptions
from edgelite.ops.mul import MulOptions
from edgelite.ops.reshape import ReshapeOptions
from edgelite.ops.softmax import SoftmaxOptions
from edgelite.ops.squeeze import SqueezeOptions
from edgelite.ops.sub import SubOptions
from edgelite.runtime import native
from edgelite.runtime.compiled import compiled_executor
from edgelite.runtime.plan import build_plan

F32, I8, U8, I16, I32, I64, F16 = (TensorType.FLOAT32, TensorType.INT8, TensorType.UINT8, TensorType.INT16,
                                   TensorType.INT32, TensorType.INT64, TensorType.FLOAT16)
pytestmark = pytest.mark.skipif(not native.available(), reason="the native extension is not built")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- one-op models --------------------------------------------------------------------------------

@dataclass
class Operand:
    """A tensor of the model: a graph input (value None) or a constant."""

    shape: tuple[int, ...]
    type: TensorType = F32
    value: np.ndarray | None = None
    quantization: Quantization | None = None


def one_op_model(opcode: str, operands: list[Operand | None], options: Any = None, out_type: TensorType = F32,
                 out_quantization: Quantization | None = None) -> bytes:
    """A model of one operator reading `operands` (None: an omitted optional input), one output
    of type `out_type` whose stored shape says nothing (the planners infer it)."""
    model = Model(subgraphs=[Subgraph(name="main")])
    graph = model.subgraphs[0]
    inputs, graph_inputs = [], []
    for k, operand in enumerate(operands):
        if operand is None:
            inputs.append(-1)
            continue
        buffer = 0 if operand.value is None else model.add_buffer(operand.value.astype(operand.type.numpy))
        graph.tensors.append(Tensor(f"in{k}", tuple(operand.shape), operand.type, buffer,
                                    operand.quantization))
        inputs.append(len(graph.tensors) - 1)
        if operand.value is None:
            graph_inputs.append(len(graph.tensors) - 1)
    graph.tensors.append(Tensor("out", (), out_type, 0, out_quantization))
    output = len(graph.tensors) - 1
    graph.operators.append(Operator(opcode, tuple(inputs), (output,), options))
    graph.inputs, graph.outputs = tuple(graph_inputs), (output,)
    return model.to_bytes()


def python_shape(model_bytes: bytes) -> tuple[int, ...] | None:
    """build_plan's output shape, None when it rejects the model."""
    model = load(model_bytes)
    try:
        plan = build_plan(model, 0, {})
    except Exception:  # noqa: BLE001 - any failure of the Python path means the compiler must defer
        return None
    return plan.shapes[model.subgraphs[0].outputs[0]]


def compiled_shape(model_bytes: bytes) -> tuple[int, ...] | None:
    """The compiler's output shape, None when it defers."""
    model = load(model_bytes)
    executor = compiled_executor(model, {}, None)
    return None if executor is None else executor.plan.shapes[model.subgraphs[0].outputs[0]]


def agree(model_bytes: bytes) -> None:
    try:
        load(model_bytes)
    except ModelError:  # the reader rejects it (e.g. per-channel scales on a scalar): no plan to compare
        assume(False)
    expected, got = python_shape(model_bytes), compiled_shape(model_bytes)
    if expected is None:
        assert got is None, f"the compiler accepted {got} where build_plan rejects the model"
    elif got is not None:
        assert got == expected


# -- drawing operands -------------------------------------------------------------------------------

def dims(rank_min: int = 1, rank_max: int = 4, low: int = 1, high: int = 6):
    return st.lists(st.integers(low, high), min_size=rank_min, max_size=rank_max).map(tuple)


@st.composite
def quantization(draw, channels: int | None = None, axis: int = 0, zero_low: int = -128,
                 zero_high: int = 127):
    """None, per-tensor, or (with channels) per-channel quantization, sometimes odd."""
    kind = draw(st.sampled_from(["none", "tensor", "tensor", "tensor", "channel" if channels else "tensor",
                                 "channel" if channels else "tensor", "odd"]))
    if kind == "none":
        return None
    scale = draw(st.sampled_from([1 / 256, 0.02, 0.1, 0.5, 1.0, 0.003, 0.05, 1e-30, 3e38]))
    zero = draw(st.integers(zero_low, zero_high))
    if kind == "channel":
        scales = [draw(st.sampled_from([0.01, 0.05, 0.2])) for _ in range(channels)]
        return Quantization.of(scales, 0, axis)
    if kind == "odd":
        return Quantization.of([scale, scale], [zero, 0], draw(st.integers(0, 3)))
    return Quantization.of(scale, zero)


def constant(shape, tensor_type, draw_values=None) -> Operand:
    value = np.zeros(shape) if draw_values is None else np.asarray(draw_values).reshape(shape)
    return Operand(tuple(shape), tensor_type, value)


@st.composite
def activation(draw):
    return draw(st.sampled_from([0, 0, 1, 2, 3, 4, 5, 9]))


# -- per op -------------------------------------------------------------------------------------------

@st.composite
def conv_cases(draw, depthwise: bool = False):
    n, h, w = draw(st.integers(1, 2)), draw(st.integers(1, 9)), draw(st.integers(1, 9))
    in_c = draw(st.integers(1, 6))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    if depthwise:
        out_c = in_c * draw(st.integers(1, 3)) + draw(st.sampled_from([0, 0, 0, 1]))
        filter_shape = (draw(st.sampled_from([1, 1, 1, 2])), kh, kw, out_c)
    else:
        filter_c = draw(st.sampled_from([in_c, in_c, 1, 2]))
        out_c = draw(st.integers(1, 6))
        filter_shape = (out_c, kh, kw, filter_c)
    kind = draw(st.sampled_from(["float", "float", "float", "int8", "int8", "int8", "hybrid", "mixed"]))
    x_type, w_type, b_type = {"float": (F32, F32, F32), "int8": (I8, I8, I32), "hybrid": (F32, I8, F32),
                              "mixed": (I8, F32, F32)}[kind]
    axis = 3 if depthwise else 0
    channels = filter_shape[axis]
    x = Operand((n, h, w, in_c), x_type, quantization=draw(quantization()) if x_type == I8 else None)
    wq = draw(quantization(channels, axis, 0, 0 if draw(st.booleans()) else 3)) if w_type == I8 else None
    weights = Operand(filter_shape, w_type, np.ones(filter_shape), wq)
    bias_size = draw(st.sampled_from([channels] * 5 + [channels + 1]))
    bias = draw(st.sampled_from([None, Operand((bias_size,), b_type, np.zeros(bias_size))]))
    options_class = DepthwiseConv2DOptions if depthwise else Conv2DOptions
    rarely = lambda valid, invalid: st.sampled_from([*valid, *valid, *valid, invalid])  # noqa: E731
    options = options_class(padding=draw(rarely([0, 1], 2)), stride_w=draw(rarely([1, 2, 3], 0)),
                            stride_h=draw(st.integers(1, 3)), dilation_w_factor=draw(st.integers(1, 2)),
                            dilation_h_factor=draw(rarely([1, 2], 0)),
                            fused_activation_function=draw(activation()))
    if depthwise:
        options.depth_multiplier = draw(st.sampled_from([0, out_c // in_c]))
    out_type = draw(st.sampled_from([I8 if x_type == I8 else F32] * 6 + [I32]))
    out_q = draw(quantization()) if out_type == I8 else None
    operands = [x, weights] + ([bias] if bias is not None or draw(st.booleans()) else [])
    return ("DEPTHWISE_CONV_2D" if depthwise else "CONV_2D"), operands, options, out_type, out_q


@st.composite
def fully_connected_cases(draw):
    x_shape = draw(dims(1, 4))
    in_size = draw(st.sampled_from([x_shape[-1], x_shape[-1], int(np.prod(x_shape)), 3]))
    units = draw(st.integers(1, 5))
    kind = draw(st.sampled_from(["float", "int8", "hybrid"]))
    x_type, w_type, b_type = {"float": (F32, F32, F32), "int8": (I8, I8, I32), "hybrid": (F32, I8, F32)}[kind]
    wq = draw(quantization(units, 0)) if w_type == I8 else None
    xq = draw(quantization()) if x_type == I8 else None
    out_q = draw(quantization()) if x_type == I8 else None
    bq = None
    if xq is not None and wq is not None and draw(st.booleans()):
        bq = Quantization.of(float(np.float32(xq.scale[0]) * np.float32(wq.scale[0])) * draw(
            st.sampled_from([1.0, 1.5])))
    bias = draw(st.sampled_from([None, Operand((units,), b_type, np.zeros(units), bq)]))
    options = draw(st.sampled_from([None, "options", "options", "options"]))
    if options:
        options = FullyConnectedOptions(fused_activation_function=draw(activation()),
                                        weights_format=draw(st.sampled_from([0, 0, 0, 0, 1])),
                                        keep_num_dims=draw(st.booleans()))
    out_type = draw(st.sampled_from([x_type] * 5 + [I32]))
    weights = Operand((units, in_size), w_type, np.ones((units, in_size)), wq)
    operands = [Operand(x_shape, x_type, quantization=xq), weights]
    return "FULLY_CONNECTED", operands + ([bias] if bias is not None else []), options, out_type, out_q


@st.composite
def pool_cases(draw):
    shape = draw(st.sampled_from([4, 4, 4, 3]).flatmap(lambda r: dims(r, r, 1, 9)))
    x_type = draw(st.sampled_from([F32, I8, U8, I16]))
    q = draw(quantization(zero_low=0 if x_type == U8 else -128))
    options = Pool2DOptions(padding=draw(st.sampled_from([0, 1, 2])), stride_w=draw(st.integers(0, 3)),
                            stride_h=draw(st.integers(1, 3)), filter_width=draw(st.integers(1, 4)),
                            filter_height=draw(st.integers(0, 4)),
                            fused_activation_function=draw(activation()))
    opcode = draw(st.sampled_from(["MAX_POOL_2D", "AVERAGE_POOL_2D"]))
    out_q = q if draw(st.booleans()) else draw(quantization())
    out_type = draw(st.sampled_from([x_type, x_type, F32]))
    return opcode, [Operand(shape, x_type, quantization=q)], options, out_type, out_q


@st.composite
def broadcast_shapes(draw):
    base = draw(dims(0, 6, 1, 4))
    other = list(base[len(base) - draw(st.integers(0, len(base))):])
    for k in range(len(other)):
        other[k] = draw(st.sampled_from([other[k], other[k], 1, 3]))
    shapes = [base, tuple(other)]
    return shapes if draw(st.booleans()) else shapes[::-1]


@st.composite
def binary_cases(draw):
    opcode = draw(st.sampled_from(["ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "PRELU"]))
    x_shape, y_shape = draw(broadcast_shapes())
    x_type = draw(st.sampled_from([F32, F32, I8, I8, U8, I32, I16]))
    y_type = draw(st.sampled_from([x_type, x_type, x_type, F32]))
    out_type = draw(st.sampled_from([x_type, x_type, x_type, I32]))
    quantized = x_type in (I8, U8, I16)
    low = 0 if x_type == U8 else -128
    qs = [draw(quantization(zero_low=low)) if quantized else None for _ in range(3)]
    options_class = {"ADD": AddOptions, "SUB": SubOptions, "MUL": MulOptions, "DIV": DivOptions}.get(opcode)
    options = None
    if options_class is not None and draw(st.booleans()):
        options = options_class(fused_activation_function=draw(activation()))
    y_const = draw(st.booleans())
    y = Operand(y_shape, y_type, np.ones(y_shape) if y_const else None, qs[1])
    return opcode, [Operand(x_shape, x_type, quantization=qs[0]), y], options, out_type, qs[2]


@st.composite
def same_cases(draw):
    opcode = draw(st.sampled_from(["RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "LOGISTIC", "TANH", "ELU",
                                   "HARD_SWISH", "LEAKY_RELU", "GELU", "SOFTMAX", "QUANTIZE", "DEQUANTIZE"]))
    shape = draw(dims(0, 4))
    x_type = draw(st.sampled_from([F32, F32, I8, U8, I16, F16, I32]))
    out_type = draw(st.sampled_from([x_type, x_type, F32, I8, U8]))
    if opcode == "QUANTIZE":
        out_type = draw(st.sampled_from([I8, U8, I16, F32]))
    channels = shape[-1] if shape else None
    x_q = draw(quantization(channels, len(shape) - 1)) if x_type in (I8, U8, I16) else None
    out_q = draw(st.sampled_from([Quantization.of(1 / 256, -128), Quantization.of(1 / 256, 0), None])) \
        if draw(st.booleans()) else draw(quantization(channels, len(shape) - 1))
    options = SoftmaxOptions(beta=1.0) if opcode == "SOFTMAX" and draw(st.booleans()) else None
    return opcode, [Operand(shape, x_type, quantization=x_q)], options, out_type, out_q


@st.composite
def mean_cases(draw):
    shape = draw(dims(0, 5))
    rank = len(shape)
    axes = draw(st.lists(st.integers(-rank - 1, rank), min_size=0, max_size=3))
    if draw(st.booleans()):  # the usual global pooling: H and W of an NHWC tensor
        shape, rank, axes = draw(dims(4, 4)), 4, draw(st.sampled_from([[1, 2], [2, 1], [-3, -2], [1, 2, 2]]))
    axis_type = draw(st.sampled_from([I32, I32, I64, F32]))
    x_type = draw(st.sampled_from([F32, F32, I8, U8, I16]))
    q = draw(quantization(zero_low=0 if x_type == U8 else -128)) if x_type != F32 else None
    options = ReducerOptions(keep_dims=draw(st.booleans())) if draw(st.integers(0, 4)) else None
    axes_operand = Operand((len(axes),), axis_type, np.asarray(axes)) if draw(st.integers(0, 5)) \
        else Operand((max(len(axes), 1),), axis_type)
    out_q = q if draw(st.booleans()) else draw(quantization())
    return "MEAN", [Operand(shape, x_type, quantization=q), axes_operand], options, \
        draw(st.sampled_from([x_type, x_type, F32])), out_q


@st.composite
def pad_cases(draw):
    shape = draw(dims(1, 5))
    rank = len(shape)
    rows = draw(st.sampled_from([rank, rank, rank, rank + 1]))
    pads = draw(st.lists(st.integers(-1 if draw(st.integers(0, 5)) == 0 else 0, 3), min_size=2 * rows,
                         max_size=2 * rows))
    p_type = draw(st.sampled_from([I32, I32, I64, F32]))
    x_type = draw(st.sampled_from([F32, F32, I8, U8, I32]))
    q = draw(quantization(zero_low=0 if x_type == U8 else -128)) if x_type in (I8, U8) else None
    out_q = q if draw(st.integers(0, 3)) else draw(quantization())
    known = draw(st.integers(0, 5)) > 0
    paddings = Operand((rows, 2), p_type, np.asarray(pads) if known else None)
    return "PAD", [Operand(shape, x_type, quantization=q), paddings], None, x_type, out_q


@st.composite
def concat_cases(draw):
    shape = draw(dims(1, 4))
    rank = len(shape)
    axis = draw(st.integers(-rank - 1, rank))
    count = draw(st.integers(1, 4))
    x_type = draw(st.sampled_from([F32, F32, I8, U8, I16]))
    q = draw(quantization()) if x_type != F32 else None
    operands = []
    for _ in range(count):
        dims_k = list(shape)
        if 0 <= axis % max(rank, 1) < rank:
            dims_k[axis % rank] = draw(st.integers(1, 4))
        if draw(st.integers(0, 8)) == 0:
            dims_k[0] += 1
        t = x_type if draw(st.integers(0, 8)) else F32
        q_k = q if draw(st.integers(0, 6)) else draw(quantization())
        operands.append(Operand(tuple(dims_k), t, quantization=q_k))
    options = ConcatenationOptions(axis=axis, fused_activation_function=draw(activation())) \
        if draw(st.integers(0, 4)) else None
    out_q = q if draw(st.integers(0, 4)) else draw(quantization())
    return "CONCATENATION", operands, options, x_type, out_q


@st.composite
def reshape_cases(draw):
    opcode = draw(st.sampled_from(["RESHAPE", "SQUEEZE", "EXPAND_DIMS"]))
    shape = draw(dims(0, 5, 1, 4))
    x_type = draw(st.sampled_from([F32, F32, I8, I32]))
    q = draw(quantization()) if x_type == I8 else None
    out_q = q if draw(st.integers(0, 4)) else draw(quantization())
    x = Operand(shape, x_type, quantization=q)
    options = None
    if opcode == "RESHAPE":
        count = int(np.prod(shape))
        target = draw(st.sampled_from([[count], [-1], [1, count], [count, -1], [-1, -1], [2, -1], [count + 1],
                                       list(reversed(shape)), [0], []]))
        kind = draw(st.sampled_from(["vector", "vector", "vector", "options", "none", "int64", "dynamic"]))
        if kind == "options":
            return opcode, [x], ReshapeOptions(new_shape=tuple(target)), x_type, out_q
        if kind == "none":
            return opcode, [x], None, x_type, out_q
        t_type = I64 if kind == "int64" else I32
        value = None if kind == "dynamic" else np.asarray(target)
        return opcode, [x, Operand((len(target),), t_type, value)], None, x_type, out_q
    if opcode == "SQUEEZE":
        if draw(st.booleans()):
            options = SqueezeOptions(squeeze_dims=tuple(draw(st.lists(st.integers(-3, 3), max_size=2))))
        return opcode, [x], options, x_type, out_q
    axis = draw(st.integers(-len(shape) - 2, len(shape) + 1))
    a_type = draw(st.sampled_from([I32, I32, I64, F32]))
    values = np.asarray([axis] * draw(st.sampled_from([1, 1, 1, 2])))
    return opcode, [x, Operand(values.shape, a_type, values)], None, x_type, out_q


CASES = {"conv": conv_cases(), "depthwise": conv_cases(depthwise=True),
         "fully_connected": fully_connected_cases(), "pool": pool_cases(), "binary": binary_cases(),
         "same": same_cases(), "mean": mean_cases(),
         "pad": pad_cases(), "concat": concat_cases(), "reshape": reshape_cases()}


@pytest.mark.parametrize("family", sorted(CASES))
@SETTINGS
@given(data=st.data())
def test_compiled_shapes_match_build_plan(family, data):
    opcode, operands, options, out_type, out_q = data.draw(CASES[family])
    agree(one_op_model(opcode, operands, options, out_type, out_q))


def _ones(*shape: int) -> np.ndarray:
    return np.ones(shape)


# One valid float32 node per family, which the compiler must take (else the test above proves little).
VALID = {
    "conv": ("CONV_2D", [Operand((1, 5, 5, 3)), Operand((4, 3, 3, 3), F32, _ones(4, 3, 3, 3)),
                         Operand((4,), F32, _ones(4))], Conv2DOptions(padding=1, stride_w=1, stride_h=1)),
    "depthwise": ("DEPTHWISE_CONV_2D", [Operand((1, 5, 5, 2)), Operand((1, 3, 3, 4), F32, _ones(1, 3, 3, 4))],
                  DepthwiseConv2DOptions(padding=0, stride_w=2, stride_h=2, depth_multiplier=2)),
    "fully_connected": ("FULLY_CONNECTED", [Operand((2, 3)), Operand((4, 3), F32, _ones(4, 3))],
                        FullyConnectedOptions()),
    "pool": ("MAX_POOL_2D", [Operand((1, 4, 4, 2))],
             Pool2DOptions(padding=1, stride_w=2, stride_h=2, filter_width=2, filter_height=2)),
    "binary": ("ADD", [Operand((2, 3)), Operand((3,), F32, _ones(3))], AddOptions()),
    "same": ("RELU", [Operand((2, 3))], None),
    "mean": ("MEAN", [Operand((1, 4, 4, 3)), Operand((2,), I32, np.asarray([1, 2]))],
             ReducerOptions(keep_dims=True)),
    "pad": ("PAD", [Operand((1, 3, 3, 2)), Operand((4, 2), I32, np.asarray([0, 0, 1, 1, 1, 1, 0, 0]))], None),
    "concat": ("CONCATENATION", [Operand((1, 2, 3)), Operand((1, 2, 3))], ConcatenationOptions(axis=-1)),
    "reshape": ("RESHAPE", [Operand((2, 3)), Operand((2,), I32, np.asarray([3, -1]))], None),
    "squeeze": ("SQUEEZE", [Operand((1, 3, 1, 2))], SqueezeOptions(squeeze_dims=(0, 2))),
    "new_shape": ("RESHAPE", [Operand((1, 4, 2))], ReshapeOptions(new_shape=(1, -1, 1))),
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_float_nodes_compile(name):
    opcode, operands, options = VALID[name]
    model_bytes = one_op_model(opcode, operands, options)
    expected = python_shape(model_bytes)
    assert expected is not None
    assert compiled_shape(model_bytes) == expected
