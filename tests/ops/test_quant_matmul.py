"""Quantized and hybrid FULLY_CONNECTED and BATCH_MATMUL against LiteRT, bit-exact.

int8/uint8 (int32 bias), int16 activations with int8 weights (no, int32 or int64 bias), per-tensor
and per-channel weights, fused activations; hybrid (float32 input, int8 weights) with symmetric
and asymmetric run-time input quantization.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgelite.errors import EdgeliteError, UnsupportedOpError
from edgelite.model.ir import Quantization
from edgelite.ops._common import Activation
from edgelite.ops._quant import quantize_input_rows
from edgelite.ops.batch_matmul import BatchMatMulOptions
from edgelite.ops.fully_connected import FullyConnectedOptions
from tests.ops.harness import Input, check_op, const, run_edgelite, single_op_model

EXACT = {"rtol": 0, "atol": 0}
CLAMPS = [Activation.NONE, Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1]
INT_TYPES = {"int8": np.int8, "uint8": np.uint8, "int16": np.int16}


def integers(rng: np.random.Generator, shape, dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)


def zero_point(rng: np.random.Generator, dtype) -> int:
    if dtype == np.int16:
        return 0
    info = np.iinfo(dtype)
    return int(rng.integers(info.min, info.max, endpoint=True))


def scale(rng: np.random.Generator, low: float = 1e-3, high: float = 1.0) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


# --- FULLY_CONNECTED --------------------------------------------------------------------------

@st.composite
def fc_shapes(draw) -> tuple[tuple[int, ...], int, int]:
    batch = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=3)))
    return batch, draw(st.integers(1, 40)), draw(st.integers(1, 18))


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(["int8", "uint8", "int16"]), shapes=fc_shapes(), per_channel=st.booleans(),
       bias=st.sampled_from([None, "int32", "int64"]), activation=st.sampled_from(CLAMPS),
       keep_num_dims=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_fully_connected_quantized(kind, shapes, per_channel, bias, activation, keep_num_dims, seed):
    batch, depth, units = shapes
    rng = np.random.default_rng(seed)
    dtype = INT_TYPES[kind]
    w_dtype = np.uint8 if kind == "uint8" else np.int8
    per_channel = per_channel and kind != "uint8"
    if bias == "int64" and kind != "int16":
        bias = "int32"
    x = integers(rng, (*batch, depth), dtype)
    weights = integers(rng, (units, depth), w_dtype)
    if w_dtype == np.int8:
        weights[weights == -128] = -127  # TFLite's weights are symmetric int8 in [-127, 127]
    x_scale, x_zero = scale(rng), zero_point(rng, dtype)
    w_scales = np.array([scale(rng, 1e-3, 0.1) for _ in range(units if per_channel else 1)], np.float32)
    w_zero = zero_point(rng, w_dtype) if kind == "uint8" or (kind == "int8" and rng.random() < 0.2) else 0
    acc_range = np.iinfo(dtype).max * 127 * np.sqrt(depth) * x_scale * float(w_scales.max())
    out_scale = float(acc_range / np.iinfo(dtype).max * rng.uniform(0.1, 1.5))
    out_zero = zero_point(rng, dtype)
    operands = [Input(x, Quantization.of(x_scale, x_zero)),
                const(weights, Quantization.of(w_scales, w_zero if not per_channel else 0, 0))]
    if bias is None:
        operands.append(None)
    else:
        bias_scale = (np.float32(x_scale) * w_scales).astype(np.float32)
        values = rng.integers(-2**20, 2**20, units).astype(np.int32 if bias == "int32" else np.int64)
        operands.append(const(values, Quantization.of(bias_scale, 0, 0)))
    options = FullyConnectedOptions(fused_activation_function=activation, keep_num_dims=keep_num_dims)
    check_op("FULLY_CONNECTED", operands, options, output_dtypes=[dtype],
             output_quant=[Quantization.of(out_scale, out_zero)], version=11, **EXACT)


@st.composite
def float_rows(draw, shape: tuple[int, ...]) -> np.ndarray:
    """Floats with the cases the run-time quantizer branches on: all-zero rows, one-signed rows."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = (rng.standard_normal(shape) * np.exp(rng.uniform(-6, 4))).astype(np.float32)
    style = draw(st.sampled_from(["mixed", "positive", "negative", "zero_rows", "sparse", "ties"]))
    rows = x.reshape(-1, shape[-1]) if x.size else x
    if style == "positive":
        x = np.abs(x)
    elif style == "negative":
        x = -np.abs(x)
    elif style == "zero_rows" and rows.size:
        rows[:: 2] = 0
    elif style == "sparse":
        x[rng.random(shape) < 0.7] = 0
    elif style == "ties":  # values on exact quantization ties: x = (k + 0.5) * max / 127
        x = ((rng.integers(-127, 127, shape) + 0.5) / 127 * 2).astype(np.float32)
        x.reshape(-1, shape[-1])[:, 0] = 2
    return x


@settings(max_examples=40, deadline=None)
@given(data=st.data(), shapes=fc_shapes(), per_channel=st.booleans(), has_bias=st.booleans(),
       asymmetric=st.booleans(), activation=st.sampled_from(list(Activation)),
       keep_num_dims=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_fully_connected_hybrid(data, shapes, per_channel, has_bias, asymmetric, activation, keep_num_dims,
                                seed):
    batch, depth, units = shapes
    rng = np.random.default_rng(seed)
    x = data.draw(float_rows((*batch, depth)), label="x")
    weights = rng.integers(-127, 127, (units, depth), endpoint=True).astype(np.int8)
    w_scales = np.array([scale(rng, 1e-4, 0.1) for _ in range(units if per_channel else 1)], np.float32)
    bias = const(rng.standard_normal(units).astype(np.float32)) if has_bias else None
    options = FullyConnectedOptions(fused_activation_function=activation, keep_num_dims=keep_num_dims,
                                    asymmetric_quantize_inputs=asymmetric)
    # Exact except TANH: LiteRT's vectorized tanh is an approximation (a few float32 ulps).
    tolerance = {"rtol": 0, "atol": 1e-6} if activation == Activation.TANH else EXACT
    check_op("FULLY_CONNECTED", [x, const(weights, Quantization.of(w_scales, 0, 0)), bias], options,
             output_dtypes=[np.float32], version=12, **tolerance)


@pytest.mark.parametrize(("x_type", "w_type", "bias_type", "out_type"), [
    (np.int8, np.int8, np.int64, np.int8),  # int8 takes int32 bias only
    (np.int8, np.uint8, None, np.int8),
    (np.int16, np.int16, None, np.int16),
    (np.int8, np.int8, None, np.float32),
])
def test_fully_connected_rejects_bad_types(x_type, w_type, bias_type, out_type):
    x = np.zeros((2, 3), x_type)
    bias = None if bias_type is None else const(np.zeros(4, bias_type), Quantization.of(0.01))
    model = single_op_model("FULLY_CONNECTED", [Input(x, Quantization.of(0.1)),
                                                const(np.ones((4, 3), w_type), Quantization.of(0.1)), bias],
                            FullyConnectedOptions(), output_dtypes=[out_type],
                            output_quant=[Quantization.of(0.5)], output_shapes=[(2, 4)])
    with pytest.raises(EdgeliteError):
        run_edgelite(model.to_bytes(), [x])


def test_fully_connected_rejects_mismatched_bias_scale():
    x = np.zeros((2, 3), np.int8)
    operands = [Input(x, Quantization.of(0.5)), const(np.ones((4, 3), np.int8), Quantization.of(0.1)),
                const(np.zeros(4, np.int32), Quantization.of(0.2))]  # 0.2 vs 0.5 * 0.1
    model = single_op_model("FULLY_CONNECTED", operands, FullyConnectedOptions(), output_dtypes=[np.int8],
                            output_quant=[Quantization.of(1.0)])
    with pytest.raises(EdgeliteError, match="bias scale"):
        run_edgelite(model.to_bytes(), [x])


@pytest.mark.parametrize("asymmetric", [False, True])
@pytest.mark.parametrize("depth", [8, 15, 24])
def test_fully_connected_hybrid_exact_ties(asymmetric, depth):
    """Rows whose run-time scale is exactly 1 (max 127, or range [-28, 227] with zero point
    -100), so x / scale lands on .5 ties: LiteRT rounds them half away from zero, before adding
    the zero point. One-hot weights read each quantized value back."""
    x = np.zeros((2, depth), np.float32)
    x[:, 0], x[:, 1] = (227, -28) if asymmetric else (127, 0)
    x[:, 2:] = np.resize(np.float32([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 10.5, -99.5, 99.5]), depth - 2)
    x[1] *= -1
    weights = np.eye(depth, dtype=np.int8)
    check_op("FULLY_CONNECTED", [x, const(weights, Quantization.of(1.0)), None],
             FullyConnectedOptions(asymmetric_quantize_inputs=asymmetric), output_dtypes=[np.float32],
             version=12, **EXACT)


def test_quantize_input_rows_symmetric_and_asymmetric():
    x = np.array([[0, 0, 0], [1, -2, 0.5], [3, 2, 1]], np.float32)
    q, scales, zeros = quantize_input_rows(x, asymmetric=False)
    np.testing.assert_array_equal(q, [[0, 0, 0], [64, -127, 32], [127, 85, 42]])
    np.testing.assert_array_equal(scales, np.float32([1, 2 / 127, 3 / 127]))
    np.testing.assert_array_equal(zeros, 0)
    q, scales, zeros = quantize_input_rows(x, asymmetric=True)
    np.testing.assert_array_equal(zeros, [0, 42, -128])
    np.testing.assert_array_equal(q[2], [127, 42, -43])


# --- BATCH_MATMUL -----------------------------------------------------------------------------

@st.composite
def bmm_shapes(draw) -> tuple[tuple[int, ...], tuple[int, ...], bool, bool]:
    """lhs and rhs shapes (ranks 2-5, broadcasting batch dimensions) and adj_x, adj_y."""
    rank = draw(st.integers(2, 5))
    batch = [draw(st.integers(1, 3)) for _ in range(rank - 2)]
    lhs_batch = [d if draw(st.booleans()) else 1 for d in batch]
    rhs_batch = [d if draw(st.booleans()) else 1 for d in batch]
    rhs_batch = rhs_batch[draw(st.integers(0, len(rhs_batch))):]  # rhs may have a lower rank
    m, k, n = draw(st.integers(1, 6)), draw(st.integers(1, 40)), draw(st.integers(1, 6))
    adj_x, adj_y = draw(st.booleans()), draw(st.booleans())
    lhs = (*lhs_batch, *((k, m) if adj_x else (m, k)))
    rhs = (*rhs_batch, *((n, k) if adj_y else (k, n)))
    return lhs, rhs, adj_x, adj_y


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(["int8", "int16"]), shapes=bmm_shapes(), constant_rhs=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_batch_matmul_quantized(kind, shapes, constant_rhs, seed):
    lhs_shape, rhs_shape, adj_x, adj_y = shapes
    rng = np.random.default_rng(seed)
    dtype = INT_TYPES[kind]
    lhs, rhs = integers(rng, lhs_shape, dtype), integers(rng, rhs_shape, dtype)
    scales = [scale(rng), scale(rng)]
    depth = lhs_shape[-2] if adj_x else lhs_shape[-1]
    out_scale = float(np.iinfo(dtype).max * np.sqrt(depth) * scales[0] * scales[1] * rng.uniform(0.1, 1.5))
    rhs_operand = (const if constant_rhs else Input)(rhs, Quantization.of(scales[1], zero_point(rng, dtype)))
    check_op("BATCH_MATMUL", [Input(lhs, Quantization.of(scales[0], zero_point(rng, dtype))), rhs_operand],
             BatchMatMulOptions(adj_x=adj_x, adj_y=adj_y), output_dtypes=[dtype],
             output_quant=[Quantization.of(out_scale, zero_point(rng, dtype))], version=4, **EXACT)


def reads_unwritten_column_sums(lhs_shape, rhs_shape, adj_x: bool) -> bool:
    """LiteRT's asymmetric hybrid BATCH_MATMUL reads rhs column sums it never computed when the
    rank-5 rhs (after folding a third-last rhs dimension of 1) has a first dimension > 1."""
    rhs = list(rhs_shape)
    if len(lhs_shape) > 2 and len(rhs) > 2 and rhs[-3] == 1 and not adj_x:
        del rhs[-3]
    batch = [1] * (5 - len(rhs)) + rhs[:-2]
    return sum(d - 1 for d in batch) >= batch[1] * batch[2]


@settings(max_examples=40, deadline=None)
@given(data=st.data(), shapes=bmm_shapes(), asymmetric=st.booleans(), per_channel=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_batch_matmul_hybrid(data, shapes, asymmetric, per_channel, seed):
    lhs_shape, rhs_shape, adj_x, adj_y = shapes
    rng = np.random.default_rng(seed)
    lhs = data.draw(float_rows(lhs_shape), label="lhs")
    rhs = rng.integers(-127, 127, rhs_shape, endpoint=True).astype(np.int8)
    axis = len(rhs_shape) - (2 if adj_y else 1)  # per-channel: one scale per output column
    rhs_scale = np.exp(rng.uniform(-9, -2, rhs_shape[axis] if per_channel else 1)).astype(np.float32)
    if asymmetric and reads_unwritten_column_sums(lhs_shape, rhs_shape, adj_x):
        model = single_op_model("BATCH_MATMUL", [lhs, const(rhs, Quantization.of(0.01))],
                                BatchMatMulOptions(adj_x=adj_x, adj_y=adj_y, asymmetric_quantize_inputs=True),
                                output_dtypes=[np.float32])
        with pytest.raises(UnsupportedOpError, match="column sums"):
            run_edgelite(model.to_bytes(), [lhs])
        return
    check_op("BATCH_MATMUL", [lhs, const(rhs, Quantization.of(rhs_scale, 0, axis))],
             BatchMatMulOptions(adj_x=adj_x, adj_y=adj_y, asymmetric_quantize_inputs=asymmetric),
             output_dtypes=[np.float32], version=4, **EXACT)


# --- rounding near ties: where the multiplier's precision and the rounding rule show ---------

def near_ties(real: float, count: int, rng: np.random.Generator, limit: int) -> np.ndarray:
    """Accumulators whose exact scaled values lie within about one unit of acc of a .5 tie
    (and some exactly on one when real is a power of two)."""
    targets = rng.integers(-limit, limit, count) + 0.5
    return np.round(targets / real).astype(np.int64) + rng.integers(-1, 2, count)


@pytest.mark.parametrize(("kind", "bias_type", "per_channel"), [
    ("int8", np.int32, False), ("int8", np.int32, True), ("uint8", np.int32, False),
    ("int16", np.int32, False), ("int16", np.int64, False), ("int16", np.int64, True),
])
@pytest.mark.parametrize("seed", [0, 1])
def test_fully_connected_rounding_near_ties(kind, bias_type, per_channel, seed):
    """The input sits at its zero point, so each output is the bias alone, requantized."""
    rng = np.random.default_rng(seed)
    dtype, units = INT_TYPES[kind], 2048
    x_zero = zero_point(rng, dtype)
    x = np.full((1, 3), x_zero, dtype)
    w_scales = np.exp(rng.uniform(-7, -2, units if per_channel else 1)).astype(np.float32)
    x_scale, out_scale = np.float32(0.0123), np.float32(rng.uniform(0.05, 0.5))
    real = np.float64(x_scale) * w_scales.astype(np.float64) / np.float64(out_scale)
    bias = near_ties(real, units, rng, np.iinfo(dtype).max // 2).astype(bias_type)
    w_dtype = np.uint8 if kind == "uint8" else np.int8
    w_zero = 128 if kind == "uint8" else 0
    operands = [Input(x, Quantization.of(x_scale, x_zero)),
                const(np.ones((units, 3), w_dtype), Quantization.of(w_scales, w_zero, 0)),
                const(bias, Quantization.of((x_scale * w_scales).astype(np.float32), 0, 0))]
    check_op("FULLY_CONNECTED", operands, FullyConnectedOptions(), output_dtypes=[dtype],
             output_quant=[Quantization.of(out_scale, zero_point(rng, dtype))], version=11, **EXACT)


def test_fully_connected_int16_int64_bias_exact_ties_and_overflow():
    """int16x8 with int64 bias rounds exact ties away from zero and turns results beyond int32
    into INT32_MIN (then clamped), as LiteRT does."""
    halves = (2 * np.array([0, 1, 2, -1, -2, -3, 10, -11]) + 1) * 2**10  # k + 0.5 once scaled by 2**-11
    huge = [2**31, 2**33 + 5, 2**40, -2**31 - 1, -2**45]
    bias = np.array([*halves, *huge], np.int64)
    x = np.zeros((1, 3), np.int16)
    for out_scale in (1.0, 2**-11 * 1e3):
        operands = [Input(x, Quantization.of(0.5)),
                    const(np.ones((bias.size, 3), np.int8), Quantization.of(2**-10)),
                    const(bias, Quantization.of(2**-11))]
        check_op("FULLY_CONNECTED", operands, FullyConnectedOptions(), output_dtypes=[np.int16],
                 output_quant=[Quantization.of(out_scale)], version=11, **EXACT)


@pytest.mark.parametrize("kind", ["int8", "int16"])
@pytest.mark.parametrize("seed", [0, 1])
def test_batch_matmul_rounding_near_ties(kind, seed):
    """lhs rows [a, b] times rhs [1, c]: accumulators a + c * b placed near rounding ties."""
    rng = np.random.default_rng(seed)
    dtype = INT_TYPES[kind]
    top = np.iinfo(dtype).max
    lhs_scale, rhs_scale = np.float32(rng.uniform(0.001, 0.1)), np.float32(rng.uniform(0.001, 0.1))
    out_scale = np.float32(lhs_scale * rhs_scale * top * rng.uniform(1, 4))
    real = np.float64(np.float32(lhs_scale * rhs_scale)) / np.float64(out_scale)
    acc = np.clip(near_ties(real, 4096, rng, top // 2), -top * (top // 2), top * (top // 2))
    high = np.round(acc / top).astype(np.int64)
    lhs = np.stack([acc - top * high, high], axis=1).astype(dtype)
    rhs = np.array([[1], [top]], dtype)
    operands = [Input(lhs, Quantization.of(lhs_scale)), Input(rhs, Quantization.of(rhs_scale))]
    check_op("BATCH_MATMUL", operands, BatchMatMulOptions(), output_dtypes=[dtype],
             output_quant=[Quantization.of(out_scale)], version=4, **EXACT)
