"""QUANTIZE (float32 -> int8/uint8/int16, per tensor and per channel; requantization between
integer types) and DEQUANTIZE against LiteRT, bit-exact. (More DEQUANTIZE cases: test_dequantize.py.)"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgelite.errors import EdgeliteError
from edgelite.model.ir import Quantization
from edgelite.ops import _quant
from tests.ops.harness import Input, check_op, run_edgelite, single_op_model

EXACT = {"rtol": 0, "atol": 0}
QUANTIZE_VERSION = 6  # LiteRT registers QUANTIZE 1..6; int16 and int32 paths need the newer ones


@st.composite
def shapes(draw, max_rank: int = 4) -> tuple[int, ...]:
    """Shapes whose sizes hit both LiteRT's 8-lane vector loop and its scalar tail."""
    rank = draw(st.integers(0, max_rank))
    return tuple(draw(st.lists(st.integers(1, 7), min_size=rank, max_size=rank)))


def zero_point_for(dtype, rng: np.random.Generator) -> int:
    if dtype in (np.int16, np.int32):
        return 0
    info = np.iinfo(dtype)
    return int(rng.integers(info.min, info.max, endpoint=True))


def floats(rng: np.random.Generator, shape, scale: float, style: str) -> np.ndarray:
    """Values around the quantization grid: random, exactly on .5 ties, one ulp off ties, or
    special (NaN, infinities, values beyond int32 once scaled)."""
    size = int(np.prod(shape))
    if style == "random":
        x = rng.standard_normal(size) * scale * rng.uniform(1, 300)
    else:
        x = (rng.integers(-300, 300, size) + 0.5) * np.float64(np.float32(scale))
        if style == "near_ties":
            x = np.nextafter(x.astype(np.float32), rng.choice([-np.inf, np.inf], size).astype(np.float32))
    x = x.astype(np.float32)
    if style == "special" and size:
        picks = np.array([np.nan, np.inf, -np.inf, 3e38, -3e38, 1e10 * scale, -1e10 * scale], np.float32)
        where = rng.random(size) < 0.5
        x[where] = rng.choice(picks, int(where.sum()))
    return x.reshape(shape)


@settings(max_examples=60, deadline=None)
@given(dtype=st.sampled_from([np.int8, np.uint8, np.int16]), shape=shapes(),
       style=st.sampled_from(["random", "ties", "near_ties", "special"]),
       log_scale=st.floats(-12, 4), seed=st.integers(0, 2**32 - 1))
def test_quantize_float_per_tensor(dtype, shape, style, log_scale, seed):
    rng = np.random.default_rng(seed)
    scale = float(np.exp(log_scale))
    x = floats(rng, shape, scale, style)
    check_op("QUANTIZE", [x], output_dtypes=[dtype], output_shapes=[shape],
             output_quant=[Quantization.of(scale, zero_point_for(dtype, rng))], version=QUANTIZE_VERSION,
             **EXACT)


@settings(max_examples=30, deadline=None)
@given(dtype=st.sampled_from([np.int8, np.uint8, np.int16]), shape=shapes().filter(len), data=st.data(),
       style=st.sampled_from(["random", "ties", "special"]), seed=st.integers(0, 2**32 - 1))
def test_quantize_float_per_channel(dtype, shape, data, style, seed):
    rng = np.random.default_rng(seed)
    axis = data.draw(st.integers(0, len(shape) - 1), label="axis")
    if shape[axis] == 1:  # one scale would be per-tensor quantization
        shape = shape[:axis] + (3,) + shape[axis + 1:]
    scales = np.exp(rng.uniform(-8, 1, shape[axis])).astype(np.float32)
    zero_points = [zero_point_for(dtype, rng) for _ in scales]
    x = floats(rng, shape, float(scales.min()), style)
    check_op("QUANTIZE", [x], output_dtypes=[dtype], output_shapes=[shape],
             output_quant=[Quantization.of(scales, zero_points, axis)], version=QUANTIZE_VERSION, **EXACT)


REQUANTIZE = [(np.int8, np.int8), (np.int8, np.uint8), (np.int8, np.int16), (np.uint8, np.int8),
              (np.uint8, np.uint8), (np.uint8, np.int16), (np.int16, np.int8), (np.int16, np.int16),
              (np.int16, np.int32), (np.int32, np.int8), (np.int32, np.int16)]


@settings(max_examples=80, deadline=None)
@given(types=st.sampled_from(REQUANTIZE), shape=shapes(), log_ratio=st.floats(-12, 12),
       same_scale=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_requantize(types, shape, log_ratio, same_scale, seed):
    """Scale ratios from 2**-17 to 2**17 (left and right shifts), and equal scales (including
    LiteRT's int8 <-> uint8 fast path when the zero points differ by 128)."""
    in_type, out_type = types
    rng = np.random.default_rng(seed)
    info = np.iinfo(in_type)
    x = rng.integers(info.min, info.max, shape, endpoint=True).astype(in_type)
    in_scale = float(np.exp(rng.uniform(-8, 0)))
    out_scale = in_scale if same_scale else in_scale * float(np.exp(log_ratio))
    in_zero, out_zero = zero_point_for(in_type, rng), zero_point_for(out_type, rng)
    if same_scale and {in_type, out_type} == {np.int8, np.uint8} and rng.random() < 0.5:
        out_zero = in_zero + (128 if out_type == np.uint8 else -128)
    check_op("QUANTIZE", [Input(x, Quantization.of(in_scale, in_zero))], output_dtypes=[out_type],
             output_quant=[Quantization.of(out_scale, out_zero)], version=QUANTIZE_VERSION, **EXACT)


@pytest.mark.parametrize(("in_type", "out_type", "in_quant", "out_quant"), [
    (np.float32, np.int32, None, Quantization.of(0.1)),
    (np.int16, np.uint8, Quantization.of(0.1), Quantization.of(0.1, 3)),
    (np.int8, np.int32, Quantization.of(0.1), Quantization.of(0.1)),
    (np.float32, np.int8, None, None),  # no output quantization
    (np.int8, np.int8, None, Quantization.of(0.1)),  # no input quantization
    (np.int16, np.int16, Quantization.of(0.1, 4), Quantization.of(0.1)),  # asymmetric int16
    (np.int8, np.int8, Quantization.of([0.1, 0.2], [0, 0], 1), Quantization.of(0.1)),
    (np.float32, np.int8, None, Quantization.of([0.1, 0.2], [0, 0], 0)),  # 2 scales, dimension of 3
])
def test_quantize_rejects_bad_models(in_type, out_type, in_quant, out_quant):
    x = np.zeros((3, 2), in_type)
    model = single_op_model("QUANTIZE", [Input(x, in_quant)], output_dtypes=[out_type],
                            output_quant=[out_quant], version=QUANTIZE_VERSION)
    with pytest.raises(EdgeliteError):
        run_edgelite(model.to_bytes(), [x])


# --- DEQUANTIZE: sizes across the 8-lane split, extreme scales and zero points -----------------

@settings(max_examples=40, deadline=None)
@given(dtype=st.sampled_from([np.int8, np.uint8, np.int16]), shape=shapes(),
       log_scale=st.floats(-30, 30), seed=st.integers(0, 2**32 - 1))
def test_dequantize_per_tensor_extreme_scales(dtype, shape, log_scale, seed):
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)
    quant = Quantization.of(float(np.exp(log_scale)), zero_point_for(dtype, rng))
    check_op("DEQUANTIZE", [Input(x, quant)], output_dtypes=[np.float32], version=4, **EXACT)


@pytest.mark.parametrize("ratio", [2.0**31, 1e12, 2.0**-31, 1e-12, 1.0])
@pytest.mark.parametrize(("in_type", "out_type"), [(np.int8, np.int8), (np.int8, np.int16),
                                                   (np.int16, np.int16), (np.int32, np.int8)])
def test_requantize_extreme_scale_ratios(ratio, in_type, out_type):
    """Ratios of 2**31 and more: the scalar loop's left shift counts modulo 32 (x86), the
    16-lane loop's gives 0; tiny ratios flush to 0."""
    x = np.array([0, 1, -1, 2, -2, 3, 100, -100, 127, -128] * 3, in_type)
    check_op("QUANTIZE", [Input(x, Quantization.of(1.0))], output_dtypes=[out_type],
             output_quant=[Quantization.of(1.0 / ratio)], version=QUANTIZE_VERSION, **EXACT)


@settings(max_examples=500, deadline=None)
@given(real=st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                      st.floats(0, 1, exclude_min=True, exclude_max=True),
                      st.sampled_from([2.0**-31, 2.0**-32, 2.0**-33, 1 - 2.0**-53, 1 - 2.0**-32, -0.0])))
def test_scalar_quantize_multiplier_is_the_vector_one(real):
    """quantize_multiplier_int (plain floats, for prepare-time scalars) against the numpy version."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # inf / nan cast to int64 in the numpy version
        multiplier, shift = _quant.quantize_multiplier(real)
        assert _quant.quantize_multiplier_int(real) == (int(multiplier), int(shift))
