"""Elementwise unary ops, SOFTMAX / LOG_SOFTMAX and CAST against LiteRT: every rank (scalars
included), special values (NaN, infinities, signed zeros, halves, overflow), every option and
every dtype TFLite's kernels take without quantization."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgelite.errors import EdgeliteError, ModelError, UnsupportedOpError
from edgelite.model.ir import Quantization, TensorType
from edgelite.ops.cast import CastOptions
from edgelite.ops.gelu import GeluOptions
from edgelite.ops.leaky_relu import LeakyReluOptions
from edgelite.ops.softmax import SoftmaxOptions
from tests.ops.harness import Input, check_op, run_edgelite, single_op_model

# Ops whose results are exact (bit-equal to LiteRT), and transcendental ones, which differ from
# Eigen's vectorized approximations by a few float32 ulps (measured <= 4e-7 relative) and so
# use rtol 1e-5 / atol 1e-6. Each with the input range worth covering.
EXACT = {"RELU": 8, "RELU6": 9, "RELU_N1_TO_1": 2, "RELU_0_TO_1": 2, "NEG": 8, "ABS": 8,
         "SQUARE": 8, "FLOOR": 8, "CEIL": 8, "ROUND": 4, "SIGN": 8, "SQRT": 8, "RSQRT": 8,
         "LEAKY_RELU": 8, "HARD_SWISH": 8}
TRANSCENDENTAL = {"LOGISTIC": 20, "TANH": 10, "ELU": 8, "EXP": 90, "LOG": 8, "SIN": 10,
                  "COS": 10, "GELU": 8}
# float16 kernels in LiteRT (computed op by op in half precision, bit-equal to edgelite).
HALF = ("LOGISTIC", "TANH", "GELU", "SIN", "COS", "FLOOR", "ROUND", "NEG")
SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 1e-45,
                    -1e-45, 3e38, -3e38], dtype=np.float32)


@st.composite
def shapes(draw, min_rank: int = 0, max_rank: int = 5) -> tuple[int, ...]:
    rank = draw(st.integers(min_rank, max_rank))
    return tuple(draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank)))


def float_values(seed: int, shape: tuple[int, ...], scale: float, dtype=np.float32) -> np.ndarray:
    """Uniform values in [-scale, scale] with some special values mixed in."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-scale, scale, shape).astype(dtype)
    mask = rng.random(shape) < 0.2
    with np.errstate(over="ignore"):  # float16: +-3e38 becomes +-inf
        x[mask] = rng.choice(SPECIAL.astype(dtype), int(mask.sum()))
    return x


def unary_options(op: str, data: st.DataObject):
    if op == "LEAKY_RELU":
        return LeakyReluOptions(alpha=data.draw(st.floats(-2, 2, width=32), label="alpha"))
    if op == "GELU":
        return GeluOptions(approximate=data.draw(st.booleans(), label="approximate"))
    return None


@pytest.mark.parametrize("op", sorted(EXACT) + sorted(TRANSCENDENTAL))
@settings(max_examples=8, deadline=None)
@given(data=st.data(), shape=shapes(), seed=st.integers(0, 2**32 - 1))
def test_float32(op, data, shape, seed):
    scale = EXACT.get(op) or TRANSCENDENTAL[op]
    tolerance = {"rtol": 0, "atol": 0} if op in EXACT else {}
    check_op(op, [float_values(seed, shape, scale)], unary_options(op, data), **tolerance)


@pytest.mark.parametrize("op", HALF)
@settings(max_examples=6, deadline=None)
@given(data=st.data(), shape=shapes(), seed=st.integers(0, 2**32 - 1))
def test_float16(op, data, shape, seed):
    x = float_values(seed, shape, 8, np.float16)
    check_op(op, [x], unary_options(op, data), rtol=0, atol=0)


@pytest.mark.parametrize(("op", "dtype"), [("NEG", np.int8), ("NEG", np.int16), ("NEG", np.int32),
                                           ("NEG", np.int64), ("ABS", np.int16), ("ABS", np.int32),
                                           ("SIGN", np.int32), ("SIGN", np.float64)])
@settings(max_examples=5, deadline=None)
@given(shape=shapes(), seed=st.integers(0, 2**32 - 1))
def test_integer_and_float64(op, dtype, shape, seed):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        x = float_values(seed, shape, 8).astype(dtype)
    else:  # the extremes included: -min wraps to min in TFLite as in numpy
        info = np.iinfo(dtype)
        x = rng.integers(info.min, info.max, shape, endpoint=True, dtype=dtype)
        x.reshape(-1)[:2] = (info.min, info.max)[: x.size]
    check_op(op, [x], rtol=0, atol=0)


def test_neg_ignores_quantization():
    """TFLite negates int8 raw values whatever their scale and zero point."""
    x = np.arange(-128, 128, dtype=np.int8).reshape(16, 16)
    check_op("NEG", [Input(x, Quantization.of(0.5, 3))], output_quant=[Quantization.of(0.5, 3)])


@settings(max_examples=25, deadline=None)
@given(shape=shapes(min_rank=1), seed=st.integers(0, 2**32 - 1),
       beta=st.sampled_from([1.0, 0.5, 2.0, 0.0, -1.0]) | st.floats(-3, 3, width=32))
def test_softmax(shape, seed, beta):
    # exp differs from Eigen's by a few ulps; sums of up to 4 terms add no more.
    check_op("SOFTMAX", [float_values(seed, shape, 10)], SoftmaxOptions(beta=beta))


@settings(max_examples=10, deadline=None)
@given(shape=shapes(min_rank=1), seed=st.integers(0, 2**32 - 1), beta=st.floats(0.125, 3, width=32))
def test_softmax_float16(shape, seed, beta):
    # LiteRT runs float16 softmax through float32 with Eigen's exp: within a half-precision ulp.
    x = np.random.default_rng(seed).uniform(-6, 6, shape).astype(np.float16)
    check_op("SOFTMAX", [x], SoftmaxOptions(beta=beta), rtol=1e-3, atol=5e-4)


@settings(max_examples=20, deadline=None)
@given(shape=shapes(min_rank=1), seed=st.integers(0, 2**32 - 1))
def test_log_softmax(shape, seed):
    # log and exp differ from Eigen's by a few ulps.
    check_op("LOG_SOFTMAX", [float_values(seed, shape, 10)])


@pytest.mark.parametrize("op", ["LEAKY_RELU", "GELU", "SOFTMAX"])
def test_missing_options_mean_schema_defaults(op):
    x = np.linspace(-4, 4, 24, dtype=np.float32).reshape(2, 3, 4)
    check_op(op, [x], None)


CAST_TYPES = [np.float32, np.float16, np.float64, np.int8, np.uint8, np.int16, np.uint16, np.int32,
              np.uint32, np.int64, np.bool_, np.complex64]


def cast_input(dtype, seed: int, shape: tuple[int, ...]) -> np.ndarray:
    """Values that probe the corners of every conversion: out of range, NaN, halves, negatives."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        x = rng.integers(info.min, info.max, shape, endpoint=True, dtype=dtype)
        small = rng.integers(max(info.min, -300), min(info.max, 300), shape, endpoint=True)
        return np.where(rng.random(shape) < 0.5, small, x).astype(dtype)
    corners = np.array([np.nan, np.inf, -np.inf, -0.0, -0.5, 0.7, -1.0, 127.9, 128.5, -128.5,
                        255.5, 256.0, -32768.9, 65535.5, 65536.0, 2.1e9, 4.3e9, -2.2e9, 9.3e18,
                        -9.3e18, 1e30], dtype=np.float64)
    x = rng.uniform(-300, 300, shape)
    mask = rng.random(shape) < 0.5
    x[mask] = rng.choice(corners, int(mask.sum()))
    if dtype.kind == "c":
        imaginary = np.where(rng.random(shape) < 0.5, 0, rng.uniform(-5, 5, shape))
        x = np.where(rng.random(shape) < 0.2, 0, x) + 1j * imaginary  # imaginary-only values too
    with np.errstate(over="ignore"):
        return np.asarray(x).astype(dtype)


@pytest.mark.parametrize("source", CAST_TYPES, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("target", CAST_TYPES, ids=lambda t: np.dtype(t).name)
def test_cast_every_pair(source, target):
    x = cast_input(source, 7, (6, 9))
    options = CastOptions(TensorType.from_numpy(source), TensorType.from_numpy(target))
    check_op("CAST", [x], options, output_dtypes=[target], rtol=0, atol=0)


@settings(max_examples=25, deadline=None)
@given(source=st.sampled_from(CAST_TYPES), target=st.sampled_from(CAST_TYPES), shape=shapes(),
       seed=st.integers(0, 2**32 - 1), with_options=st.booleans())
def test_cast_shapes(source, target, shape, seed, with_options):
    """Options absent or present: TFLite casts by the tensor types either way."""
    options = CastOptions(TensorType.from_numpy(source), TensorType.from_numpy(target)) \
        if with_options else None
    check_op("CAST", [cast_input(source, seed, shape)], options, output_dtypes=[target], rtol=0, atol=0)


def edgelite_error(op: str, operand, options=None, **kwargs) -> None:
    model = single_op_model(op, [operand], options, **kwargs)
    value = operand.value if isinstance(operand, Input) else operand
    run_edgelite(model.to_bytes(), [value])


@pytest.mark.parametrize(("op", "operand", "kwargs", "error"), [
    ("RELU", np.ones(3, np.float32), {"output_dtypes": [np.int32]}, ModelError),
    ("EXP", np.ones(3, np.int32), {}, UnsupportedOpError),
    ("CEIL", np.ones(3, np.float16), {}, UnsupportedOpError),
    ("ABS", Input(np.ones(3, np.int16), Quantization.of(0.1, 0)), {}, UnsupportedOpError),
    ("SOFTMAX", np.float32(1.0), {"output_shapes": [()]}, UnsupportedOpError),
    ("CAST", np.ones(3, np.float32), {"output_dtypes": [np.uint64]}, UnsupportedOpError),
])
def test_rejects_bad_models(op, operand, kwargs, error):
    with pytest.raises(error, match=op):
        edgelite_error(op, operand, **kwargs)
    assert issubclass(error, EdgeliteError)
