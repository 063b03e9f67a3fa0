"""Quantized activations against LiteRT's builtin kernels, bit-exact: RELU, RELU6, RELU_N1_TO_1,
RELU_0_TO_1, LEAKY_RELU, HARD_SWISH, LOGISTIC, TANH, ELU, GELU (int8, uint8, int16 where TFLite
has a kernel), SOFTMAX (int8/uint8 -> 8-bit or int16, int16 -> int16) and LOG_SOFTMAX; scales,
zero points and options drawn by hypothesis, every input value of a table covered; plus the
output quantizations TFLite mandates and the type combinations it lacks, rejected at prepare."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgelite.errors import EdgeliteError, ModelError, UnsupportedOpError
from edgelite.model.ir import Quantization
from edgelite.ops.gelu import GeluOptions
from edgelite.ops.leaky_relu import LeakyReluOptions
from edgelite.ops.softmax import SoftmaxOptions
from tests.ops.harness import Input, check_op, run_edgelite, run_litert, single_op_model

EXACT = {"rtol": 0, "atol": 0}
I8, U8, I16 = np.int8, np.uint8, np.int16

# Op -> {input dtype: op version (tools/versioning/op_version.cc)}.
ELEMENTWISE = {
    "RELU": {I8: 2, U8: 2, I16: 3},
    "RELU6": {I8: 2, U8: 1, I16: 3},
    "RELU_N1_TO_1": {I8: 1, U8: 1},
    "RELU_0_TO_1": {I8: 1, U8: 1},
    "LEAKY_RELU": {I8: 1, U8: 1, I16: 2},
    "HARD_SWISH": {I8: 1, U8: 1},
    "LOGISTIC": {I8: 2, U8: 1, I16: 3},
    "TANH": {I8: 2, U8: 1, I16: 3},
    "ELU": {I8: 1},
    "GELU": {I8: 2, U8: 2, I16: 1},
}
CASES = [(op, dtype) for op, versions in ELEMENTWISE.items() for dtype in versions]


@st.composite
def shapes(draw, min_rank: int = 0, max_rank: int = 4, max_dim: int = 5) -> tuple[int, ...]:
    rank = draw(st.integers(min_rank, max_rank))
    return tuple(draw(st.lists(st.integers(1, max_dim), min_size=rank, max_size=rank)))


def scales(dtype) -> st.SearchStrategy[float]:
    """8-bit scales in [1e-3, 1]; int16 ones in [2**-16, 2**-4] (and the power-of-two ones
    that select TFLite's fixed-point LOGISTIC/TANH)."""
    if dtype == I16:
        return st.floats(2**-16, 2**-4) | st.sampled_from([2**-12, 2**-11, 2**-13])
    return st.floats(1e-3, 1)


def zero_points(dtype) -> st.SearchStrategy[int]:
    info = np.iinfo(dtype)
    return st.just(0) if dtype == I16 else st.integers(int(info.min), int(info.max))


def values(seed: int, shape: tuple[int, ...], dtype, full_range: bool) -> np.ndarray:
    """Random values with the type's extremes, or every value of the type (every table entry)."""
    info = np.iinfo(dtype)
    if full_range:
        return np.arange(info.min, info.max + 1).astype(dtype).reshape(-1, 256)
    x = np.random.default_rng(seed).integers(info.min, info.max, shape, endpoint=True, dtype=dtype)
    x.reshape(-1)[:2] = (info.min, info.max)[: x.size]
    return x


def output_quantization(op: str, dtype, in_scale: float, data: st.DataObject) -> Quantization:
    if op == "LOGISTIC":  # TFLite fixes the scale; int8 takes any zero point (the LUT applies it)
        if dtype == I16:
            return Quantization.of(1 / 32768, 0)
        return Quantization.of(1 / 256, -128 if dtype == I8 else 0)
    if op == "TANH" and dtype == I16:
        return Quantization.of(1 / 32768, 0)
    scale = data.draw(scales(dtype), label="output scale")
    if op == "HARD_SWISH":  # TFLite needs output scale > input scale / 128
        scale = max(scale, in_scale / 64)
    return Quantization.of(scale, data.draw(zero_points(dtype), label="output zero point"))


def options(op: str, data: st.DataObject):
    if op == "LEAKY_RELU":
        alpha = data.draw(st.floats(-2, 2) | st.sampled_from([0.1, 0.2, 0.01]),
                          label="alpha")
        return LeakyReluOptions(alpha=alpha)
    if op == "GELU":
        return GeluOptions(approximate=data.draw(st.booleans(), label="approximate"))
    return None


@pytest.mark.parametrize(("op", "dtype"), CASES, ids=[f"{o}-{np.dtype(t).name}" for o, t in CASES])
@settings(max_examples=30, deadline=None)
@given(data=st.data(), shape=shapes(), seed=st.integers(0, 2**32 - 1))
def test_elementwise(op, dtype, data, shape, seed):
    full_range = data.draw(st.booleans(), label="every input value")
    in_scale = data.draw(scales(dtype), label="input scale")
    quantization = Quantization.of(in_scale, data.draw(zero_points(dtype), label="zero point"))
    x = values(seed, shape, dtype, full_range)
    check_op(op, [Input(x, quantization)], options(op, data), version=ELEMENTWISE[op][dtype],
             output_quant=[output_quantization(op, dtype, in_scale, data)], **EXACT)


SOFTMAX_CASES = [(I8, I8, 2), (I8, I16, 2), (U8, U8, 1), (U8, I16, 1), (I16, I16, 3)]


@pytest.mark.parametrize(("dtype", "out_dtype", "version"), SOFTMAX_CASES,
                         ids=[f"{np.dtype(a).name}-{np.dtype(b).name}" for a, b, _ in SOFTMAX_CASES])
@settings(max_examples=30, deadline=None)
@given(data=st.data(), shape=shapes(min_rank=1, max_dim=9), seed=st.integers(0, 2**32 - 1),
       beta=st.sampled_from([1.0, 0.5, 2.0]) | st.floats(0.05, 3))
def test_softmax(dtype, out_dtype, version, data, shape, seed, beta):
    in_scale = data.draw(st.floats(1e-3, 2) if dtype != I16 else scales(I16))
    quantization = Quantization.of(in_scale, data.draw(zero_points(dtype), label="zero point"))
    if out_dtype == I8:
        out = Quantization.of(1 / 256, -128)
    elif dtype == I16:
        out = Quantization.of(1 / 32768, 0)
    elif out_dtype == U8:  # LiteRT's uint8 kernel off ARM ignores the output zero point
        out = Quantization.of(1 / 256, data.draw(st.sampled_from([0, 0, 3])))
    else:
        out = Quantization.of(data.draw(st.floats(2**-16, 2**-8)),
                              data.draw(st.integers(-32768, 32767) | st.just(-32768)))
    x = values(seed, shape, dtype, full_range=False)
    check_op("SOFTMAX", [Input(x, quantization)], SoftmaxOptions(beta=beta), version=version,
             output_dtypes=[out_dtype], output_quant=[out], **EXACT)


@pytest.mark.parametrize(("dtype", "version"), [(I8, 2), (U8, 1)], ids=["int8", "uint8"])
@settings(max_examples=30, deadline=None)
@given(data=st.data(), shape=shapes(min_rank=1, max_dim=9), seed=st.integers(0, 2**32 - 1))
def test_log_softmax(dtype, version, data, shape, seed):
    in_scale = data.draw(st.floats(1e-3, 2))
    quantization = Quantization.of(in_scale, data.draw(zero_points(dtype), label="zero point"))
    out = Quantization.of(16 / 256, 127 if dtype == I8 else 255)
    check_op("LOG_SOFTMAX", [Input(values(seed, shape, dtype, False), quantization)],
             version=version, output_quant=[out], **EXACT)


def test_softmax_extreme_betas():
    """Negative and huge betas overflow LiteRT's float table to inf and NaN: same integers."""
    x = values(3, (3, 40), I8, False)
    for beta in (-1.0, 0.0, 50.0):
        for scale in (0.01, 3.0):
            check_op("SOFTMAX", [Input(x, Quantization.of(scale, 5))], SoftmaxOptions(beta=beta),
                     version=2, output_quant=[Quantization.of(1 / 256, -128)], **EXACT)


# --- models TFLite rejects: mandated output quantization, zero points, missing kernels --------

def both_reject(op: str, x: np.ndarray, quantization, out_quantization, out_dtype=None,
                options=None, version: int = 2, litert_too: bool = True) -> Exception:
    model = single_op_model(op, [Input(x, quantization)], options, version=version,
                            output_dtypes=[out_dtype or x.dtype], output_quant=[out_quantization],
                            output_shapes=[x.shape]).to_bytes()
    if litert_too:
        with pytest.raises(Exception):  # noqa: B017 - LiteRT raises RuntimeError or ValueError
            run_litert(model, [x])
    with pytest.raises(EdgeliteError) as caught:
        run_edgelite(model, [x])
    return caught.value


X8 = np.arange(-128, 128, dtype=np.int8).reshape(4, 64)
X16 = (X8.astype(np.int16) * 256).astype(np.int16)
Q8, Q16 = Quantization.of(0.05, 3), Quantization.of(2**-10, 0)


@pytest.mark.parametrize(("op", "x", "out", "out_dtype", "wanted"), [
    ("LOGISTIC", X8, Quantization.of(1 / 200, -128), None, "1/256"),
    ("LOGISTIC", X16, Quantization.of(1 / 16384, 0), None, "1/32768"),
    ("TANH", X16, Quantization.of(1e-4, 0), None, "2**-15"),
    ("SOFTMAX", X8, Quantization.of(1 / 256, 0), None, "zero point -128"),
    ("SOFTMAX", X8, Quantization.of(1 / 250, -128), None, "1/256"),
    ("SOFTMAX", X16, Quantization.of(1 / 30000, 0), None, "1/32768"),
    ("LOG_SOFTMAX", X8, Quantization.of(1 / 16, 0), None, "16/256"),
    ("LOG_SOFTMAX", X8, Quantization.of(1 / 32, 127), None, "zero point 127"),
])
def test_rejects_other_output_quantization(op, x, out, out_dtype, wanted):
    version = 3 if x.dtype == I16 else 2
    error = both_reject(op, x, Q16 if x.dtype == I16 else Q8, out, out_dtype, version=version)
    assert isinstance(error, ModelError)
    assert wanted in str(error) and op in str(error)


@pytest.mark.parametrize("op", ["RELU", "RELU6", "LEAKY_RELU", "LOGISTIC", "TANH", "SOFTMAX"])
def test_int16_needs_zero_point_0(op):
    out = Quantization.of(1 / 32768, 0) if op in ("LOGISTIC", "TANH", "SOFTMAX") \
        else Quantization.of(2**-10, 0)
    error = both_reject(op, X16, Quantization.of(2**-10, 4), out, version=3)
    assert isinstance(error, ModelError) and "zero point" in str(error)


@pytest.mark.parametrize(("op", "x", "out_dtype"), [
    ("HARD_SWISH", X16, None), ("RELU_N1_TO_1", X16, None), ("RELU_0_TO_1", X16, None),
    ("ELU", X16, None), ("ELU", X8.view(np.uint8), None), ("LOG_SOFTMAX", X16, None),
])
def test_rejects_types_without_kernel(op, x, out_dtype):
    quantization = Q16 if x.dtype == I16 else Q8
    error = both_reject(op, x, quantization, quantization, out_dtype, version=1)
    assert isinstance(error, UnsupportedOpError) and op in str(error)


def test_rejects_softmax_output_types():
    # int16 -> int8 passes LiteRT's Prepare, then its int16 kernel overruns the int8 output.
    for x, out_dtype in ((X8, np.float32), (X8, np.uint8), (X16, np.int8)):
        out = None if out_dtype == np.float32 else Quantization.of(1 / 256, 0)
        error = both_reject("SOFTMAX", x, Q16 if x.dtype == I16 else Q8, out, out_dtype,
                            litert_too=x.dtype != I16)
        assert isinstance(error, ModelError) and "output" in str(error)


def test_rejects_hard_swish_tiny_output_scale():
    error = both_reject("HARD_SWISH", X8, Quantization.of(0.5, 0), Quantization.of(0.001, 0),
                        version=1)
    assert isinstance(error, ModelError) and "output scale" in str(error)


def test_rejects_missing_quantization():
    error = both_reject("LOGISTIC", X8, None, Quantization.of(1 / 256, -128), litert_too=False)
    assert isinstance(error, ModelError) and "quantization" in str(error)
