"""The compiler's hybrid family (native/compile_hybrid.c) against runtime/native_hybrid.py.

Hypothesis draws single-op hybrid (float32 input, int8 weights) CONV_2D, DEPTHWISE_CONV_2D and
FULLY_CONNECTED models as tests/native/test_hybrid.py does; each must compile, and its plan, tables
(packed hgemm groups, int16 weights, epilogues, buffers, params) and results must be the Python
path's, at one and two threads and every dispatch level. Hybrid nodes the Python lowerers leave on
the reference (fused activations other than clamps, grouped convolutions) must make it defer.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.native.test_compile import assert_matches_python_path
from tests.native.test_hybrid import ACTIVATIONS, RANGES, depthwise_case, floats, seeds, weights
from tests.native.test_int8_kernels import window
from tests.native.test_kernels import pad_then_conv_model
from tests.ops.harness import Input, const, single_op_model

from edgelite.model.ir import TensorType
from edgelite.model.reader import load
from edgelite.ops._common import Activation, Padding
from edgelite.ops.conv_2d import Conv2DOptions
from edgelite.ops.depthwise_conv_2d import DepthwiseConv2DOptions
from edgelite.ops.fully_connected import FullyConnectedOptions
from edgelite.runtime import native
from edgelite.runtime.compiled import compiled_executor
from edgelite.runtime.plan import build_plan

pytestmark = pytest.mark.skipif(not native.available(), reason="the native extension is not built")
SETTINGS = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
THREADS = st.sampled_from([1, 2])


def model_bytes(opcode: str, operands: list, options) -> bytes:
    return single_op_model(opcode, operands, options, output_dtypes=[np.float32]).to_bytes()


def assert_compiles_as_the_python_path(content: bytes, threads: int) -> None:
    compiled = assert_matches_python_path(content, threads=threads)
    assert compiled is not None, "the hybrid model was not compiled"


def bias_of(rng: np.random.Generator, channels: int, with_bias: bool):
    return const(rng.normal(0, 1, channels).astype(np.float32)) if with_bias else None


@SETTINGS
@given(st.sampled_from([(), (2,)]), st.integers(1, 5), st.integers(1, 70), st.integers(1, 40), st.booleans(),
       st.booleans(), st.booleans(), st.booleans(), ACTIVATIONS, RANGES, seeds, THREADS)
def test_fully_connected(isa, batch, rows, depth, units, keep_num_dims, per_channel, asymmetric, with_bias,
                         activation, kind, seed, threads):
    rng = np.random.default_rng(seed)
    w, w_quant = weights(rng, (units, depth), 0, per_channel)
    x = Input(floats(rng, (*batch, rows, depth), kind))
    operands = [x, const(w, w_quant), bias_of(rng, units, with_bias)]
    options = FullyConnectedOptions(activation, keep_num_dims=keep_num_dims,
                                    asymmetric_quantize_inputs=asymmetric)
    assert_compiles_as_the_python_path(model_bytes("FULLY_CONNECTED", operands, options), threads)


@SETTINGS
@given(window(), st.integers(1, 3), st.integers(1, 20), st.integers(1, 40), st.booleans(), st.booleans(),
       ACTIVATIONS, RANGES, seeds, THREADS)
def test_conv_2d(isa, geometry, batch, in_c, out_c, per_channel, with_bias, activation, kind, seed, threads):
    kh, kw, sh, sw, dilation, padding, h, w = geometry
    rng = np.random.default_rng(seed)
    values, w_quant = weights(rng, (out_c, kh, kw, in_c), 0, per_channel)
    operands = [Input(floats(rng, (batch, h, w, in_c), kind)), const(values, w_quant),
                bias_of(rng, out_c, with_bias)]
    options = Conv2DOptions(padding, sw, sh, activation, dilation, dilation)
    assert_compiles_as_the_python_path(model_bytes("CONV_2D", operands, options), threads)


@SETTINGS
@given(window(max_kernel=4), st.integers(1, 2), st.integers(1, 20), st.sampled_from([1, 2, 3]), st.booleans(),
       st.booleans(), ACTIVATIONS, RANGES, seeds, THREADS)
def test_depthwise_conv_2d(isa, geometry, batch, channels, multiplier, per_channel, with_bias, activation,
                           kind, seed, threads):
    operands, options = depthwise_case(geometry, batch, channels, multiplier, per_channel, with_bias,
                                       activation, kind, seed)
    assert_compiles_as_the_python_path(model_bytes("DEPTHWISE_CONV_2D", operands, options), threads)


def _conv(activation: int, in_c: int = 4, filter_c: int = 4, stride: int = 1) -> bytes:
    rng = np.random.default_rng(0)
    values, quant = weights(rng, (6, 3, 3, filter_c), 0, True)
    operands = [Input(floats(rng, (1, 5, 5, in_c), "mixed")), const(values, quant)]
    return model_bytes("CONV_2D", operands, Conv2DOptions(Padding.SAME, stride, 1, activation))


def _depthwise(activation: int, dilation: int = 1) -> bytes:
    rng = np.random.default_rng(0)
    values, quant = weights(rng, (1, 3, 3, 8), 3, False)
    operands = [Input(floats(rng, (1, 5, 5, 4), "mixed")), const(values, quant)]
    options = DepthwiseConv2DOptions(Padding.SAME, 1, 1, 2, activation, dilation, 1)
    return model_bytes("DEPTHWISE_CONV_2D", operands, options)


def _fully_connected(activation: int) -> bytes:
    rng = np.random.default_rng(0)
    values, quant = weights(rng, (7, 12), 0, True)
    operands = [Input(floats(rng, (3, 12), "mixed")), const(values, quant)]
    return model_bytes("FULLY_CONNECTED", operands, FullyConnectedOptions(activation))


LEFT_ON_THE_REFERENCE = {
    "conv tanh": lambda: _conv(Activation.TANH),
    "conv sign bit": lambda: _conv(Activation.SIGN_BIT),
    "grouped conv": lambda: _conv(Activation.NONE, in_c=8, filter_c=4),
    "depthwise tanh": lambda: _depthwise(Activation.TANH),
    "fully connected tanh": lambda: _fully_connected(Activation.TANH),
}


@pytest.mark.parametrize("case", sorted(LEFT_ON_THE_REFERENCE))
def test_nodes_the_python_lowerers_refuse_defer(case):
    model = load(LEFT_ON_THE_REFERENCE[case]())
    python = native.NativeExecutor(build_plan(model, 0, {}), None, 1)
    assert not any(python.native), "the Python path was expected to leave the node on the reference"
    assert compiled_executor(model, {}, 1) is None


REFUSED_BY_THE_ENGINE = {  # window parameters above ops_hybrid.c's validators' 2^16
    "conv stride": lambda: _conv(Activation.NONE, stride=2**16 + 1),
    "depthwise dilation": lambda: _depthwise(Activation.NONE, dilation=2**16 + 1),
}


@pytest.mark.parametrize("case", sorted(REFUSED_BY_THE_ENGINE))
def test_nodes_the_engine_refuses_defer(case):
    """The Python path leaves them on the reference kernels; the compiler leaves them to it."""
    model = load(REFUSED_BY_THE_ENGINE[case]())
    assert not any(native.NativeExecutor(build_plan(model, 0, {}), None, 1).native)
    assert compiled_executor(model, {}, 1) is None


@SETTINGS
@given(st.lists(st.integers(0, 2), min_size=4, max_size=4), st.sampled_from(["CONV_2D", "DEPTHWISE_CONV_2D"]),
       st.integers(1, 3), st.integers(1, 2), st.sampled_from([Padding.VALID, Padding.SAME]),
       st.integers(1, 12), st.booleans(), seeds, THREADS)
def test_pad_before_a_hybrid_convolution(pads, opcode, kernel, stride, padding, channels, per_channel, seed,
                                         threads):
    """A PAD the next convolution could read through: the hybrid lowerers do not fuse it, and
    neither does the compiler (the same PAD node, lifetimes and arena)."""
    rng = np.random.default_rng(seed)
    x = floats(rng, (1, 4 + seed % 5, 3 + seed % 7, channels), "mixed")
    if opcode == "CONV_2D":
        shape, axis, options = (5, kernel, kernel, channels), 0, Conv2DOptions(padding, stride, stride)
    else:
        shape, axis = (1, kernel, kernel, channels), 3
        options = DepthwiseConv2DOptions(padding, stride, stride, 1, Activation.RELU6)
    float_weights = np.zeros(shape, np.float32)
    bias = rng.normal(0, 1, shape[axis]).astype(np.float32)
    model = load(pad_then_conv_model(x, pads, opcode, float_weights, bias, options))
    vars(model).pop("_walked", None)
    values, quant = weights(rng, shape, axis, per_channel)
    w = model.subgraphs[0].tensors[3]  # the convolution's weights: int8 instead
    w.type, w.quantization, w.buffer = TensorType.INT8, quant, model.add_buffer(values)
    assert_compiles_as_the_python_path(model.to_bytes(), threads)
