"""native/pack.c's weight packers against the numpy packers they replace (tests/native/packers.py):
the same bytes for every format on hypothesis-drawn shapes, weights, biases and scales (odd channel
counts, K not a multiple of 4, per-tensor and per-channel multipliers, shifts at the edges), and a
specific ValueError for every size or type the C side is given wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.native import packers

from edgelite.ops import _quant
from edgelite.runtime import native

pytestmark = pytest.mark.skipif(native._engine is None, reason="the native extension is not built")
engine = native._engine
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def unpack(result: tuple) -> bytes:
    """The packed bytes of a packer's (bytearray, offset, nbytes, ...) answer, checking the alignment."""
    raw, offset, nbytes = result[:3]
    view = np.frombuffer(raw, np.uint8)
    assert view[offset:].ctypes.data % 64 == 0 and len(raw) >= offset + nbytes
    return view[offset:offset + nbytes].tobytes()


def scale(exponent: int, mantissa: float) -> float:
    """A float32 scale mantissa x 2^exponent."""
    return float(np.float32(np.ldexp(mantissa, exponent)))


seeds = st.integers(0, 2**32 - 1)
mantissas = st.floats(0.5, 1.0, exclude_max=True)


@st.composite
def scales(draw, channels: int):
    """(input scale, float32 weight scales: one or one per channel, output scale): exponents drawn so
    that the shifts reach past both ends of [-31, 31]."""
    per_channel = draw(st.booleans())
    count = channels if per_channel else 1
    exponents = draw(st.lists(st.integers(-40, 12), min_size=count, max_size=count))
    weights = np.array([scale(e, draw(mantissas)) for e in exponents], np.float32)
    return scale(draw(st.integers(-20, 4)), draw(mantissas)), weights, scale(draw(st.integers(-30, 30)),
                                                                               draw(mantissas))


def int8_weights(rng: np.random.Generator, shape: tuple, extremes: bool) -> np.ndarray:
    values = rng.choice(np.array([-128, -127, 127, 0], np.int8), shape) if extremes else \
        rng.integers(-128, 128, shape)
    return np.asarray(values, np.int8)


def int32_bias(rng: np.random.Generator, channels: int, present: bool) -> np.ndarray | None:
    if not present:
        return None
    return rng.integers(-2**31, 2**31, channels, dtype=np.int64).astype(np.int32)


def assert_packed_as(got: tuple | None, packer, *args) -> None:
    """What a C packer returned holds the numpy packer's bytes and format (None: a shift out of range)."""
    try:
        want, fmt = packer(*args)
    except packers.ShiftOutOfRange:
        assert got is None
        return
    assert got is not None and got[3] == fmt
    assert unpack(got) == want.tobytes()


@SETTINGS
@given(st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=64),
                 st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0**-31, 2.0**-32, 2.0**-33, 1 - 2.0**-33,
                                  1 - 2.0**-32, -(1 - 2.0**-33), 2.0**31, 5e-324, 1.7976931348623157e308])))
def test_quantize_multiplier_is_numpys(real):
    multiplier, shift = _quant.quantize_multiplier(real)
    assert engine.quantize_multiplier(real) == (int(np.int32(multiplier)), int(shift))


def test_quantize_multiplier_rejects_non_finite():
    for real in (float("inf"), float("nan")):
        with pytest.raises(ValueError, match="not finite"):
            engine.quantize_multiplier(real)


@SETTINGS
@given(st.integers(1, 3), st.integers(1, 40), st.integers(0, 37), st.booleans(), seeds)
def test_float_gemm_panels(groups, n, k, with_bias, seed):
    rng = np.random.default_rng(seed)
    weights = rng.standard_normal((groups * n, k)).astype(np.float32)
    weights.reshape(-1)[::7] = np.float32(np.nan)  # bits copied, NaN included (K = 0: bias rows only)
    bias = rng.standard_normal(groups * n).astype(np.float32) if with_bias else None
    want = packers.pack_grouped_gemm(weights, bias, groups)
    assert unpack(engine.pack_gemm(weights, bias, groups, n, k)) == want.tobytes()
    assert native.pack_gemm(weights, bias, groups).tobytes() == want.tobytes()


@st.composite
def qgemm_cases(draw):
    n, k = draw(st.integers(1, 40)), draw(st.integers(1, 37))
    return n, k, draw(scales(n))


@SETTINGS
@given(qgemm_cases(), st.sampled_from([0, 0, 3, -128, 127]), st.integers(-128, 127), st.booleans(),
       st.booleans(), st.booleans(), st.booleans(), seeds)
def test_qgemm_groups(case, weight_zero, input_zero, with_bias, float_product, quads, extremes, seed):
    n, k, (x_scale, w_scales, out_scale) = case
    rng = np.random.default_rng(seed)
    weights, bias = int8_weights(rng, (n, k), extremes), int32_bias(rng, n, with_bias)
    got = engine.pack_qgemm(weights, n, k, weight_zero, bias, w_scales, x_scale, out_scale, float_product,
                            input_zero, quads)
    assert_packed_as(got, packers.qgemm, weights, weight_zero, bias, w_scales, x_scale, out_scale,
                     float_product, input_zero, quads)


@SETTINGS
@given(st.integers(1, 30), st.integers(1, 70), st.data(), st.integers(-128, 127), st.booleans(),
       st.booleans(), st.booleans(), seeds)
def test_qdwconv_groups(taps, channels, data, input_zero, with_bias, quads, extremes, seed):
    x_scale, w_scales, out_scale = data.draw(scales(channels))
    rng = np.random.default_rng(seed)
    weights, bias = int8_weights(rng, (taps, channels), extremes), int32_bias(rng, channels, with_bias)
    got = engine.pack_qdwconv(weights, taps, channels, bias, w_scales, x_scale, out_scale, input_zero, quads)
    assert_packed_as(got, packers.qdwconv, weights, bias, w_scales, x_scale, out_scale, input_zero, quads)


@SETTINGS
@given(st.integers(1, 40), st.integers(1, 37), st.booleans(), st.booleans(), seeds)
def test_hgemm_groups(n, k, per_channel, with_bias, seed):
    rng = np.random.default_rng(seed)
    weights = int8_weights(rng, (n, k), False)
    scales_ = rng.uniform(1e-4, 1.0, n if per_channel else 1).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32) if with_bias else None
    want = packers.pack_hgemm(weights, scales_, bias)
    assert unpack(engine.pack_hgemm(weights, n, k, scales_, bias)) == want.tobytes()


def test_shift_outside_the_kernels_range_is_none():
    weights, one = np.ones((3, 5), np.int8), np.ones(1, np.float32)
    assert engine.pack_qgemm(weights, 3, 5, 0, None, one, 2.0**40, 1.0, False, 0, False) is None  # shift 41
    with pytest.raises(packers.ShiftOutOfRange):
        packers.qgemm(weights, 0, None, one, 2.0**40, 1.0, False, 0, False)
    assert engine.pack_qdwconv(np.ones((9, 4), np.int8), 9, 4, None, one, 1.0, 0.0, 0, False) is None  # inf


WEIGHTS = np.zeros((4, 6), np.int8)
ONE = np.ones(1, np.float32)


@pytest.mark.parametrize("call, message", [
    (lambda: engine.pack_qgemm(WEIGHTS, 4, 7, 0, None, ONE, 1.0, 1.0, False, 0, False), "expected 28 values"),
    (lambda: engine.pack_qgemm(WEIGHTS.astype(np.int16), 4, 6, 0, None, ONE, 1.0, 1.0, False, 0, False),
     "expected items of type 'b'"),
    (lambda: engine.pack_qgemm(WEIGHTS, 4, 6, 0, np.zeros(4, np.int64), ONE, 1.0, 1.0, False, 0, False),
     "bias: expected items of type 'i'"),
    (lambda: engine.pack_qgemm(WEIGHTS, 4, 6, 0, None, np.ones(3, np.float32), 1.0, 1.0, False, 0, False),
     "scales: expected 4 values"),
    (lambda: engine.pack_qgemm(WEIGHTS, 4, 6, 200, None, ONE, 1.0, 1.0, False, 0, False), "outside int8"),
    (lambda: engine.pack_qgemm(WEIGHTS, 0, 6, 0, None, ONE, 1.0, 1.0, False, 0, False), "out of range"),
    (lambda: engine.pack_qgemm(WEIGHTS.T, 6, 4, 0, None, ONE, 1.0, 1.0, False, 0, False),
     "not a C-contiguous"),
    (lambda: engine.pack_qdwconv(WEIGHTS, 4, 6, None, ONE, 1.0, 1.0, -129, False), "outside int8"),
    (lambda: engine.pack_qdwconv(WEIGHTS, 5, 6, None, ONE, 1.0, 1.0, 0, False), "expected 30 values"),
    (lambda: engine.pack_hgemm(WEIGHTS, 4, 6, np.ones(2, np.float32), None), "scales: expected 4 values"),
    (lambda: engine.pack_hgemm(WEIGHTS, 4, 6, ONE, np.ones(4, np.float64)),
     "bias: expected items of type 'f'"),
    (lambda: engine.pack_gemm(np.zeros((4, 6), np.float32), None, 2, 4, 6), "expected 48 values"),
    (lambda: engine.pack_gemm(np.zeros((4, 6), np.float32), None, 1, 4, -6), "out of range"),
    (lambda: engine.pack_gemm(np.zeros((4, 6), np.float32), None, 1, 1 << 25, 1), "out of range"),
])
def test_wrong_sizes_and_types_are_rejected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_packed_buffers_are_independent_and_zero_padded():
    """Padding channels and K past the weights are zero; two calls share no memory."""
    weights = np.full((3, 3), 5, np.int8)
    first = engine.pack_qgemm(weights, 3, 3, 0, None, ONE, 0.5, 1.0, False, 0, False)
    second = engine.pack_qgemm(weights, 3, 3, 0, None, ONE, 0.5, 1.0, False, 0, False)
    assert unpack(first) == unpack(second) and first[0] is not second[0]
    body = np.frombuffer(unpack(first)[packers.HEADER:], np.int16).reshape(2, 16, 2)  # [pair, channel, j]
    assert (body[:, 3:] == 0).all() and (body[1, :3, 1] == 0).all() and (body[0, :3] == 5).all()


@SETTINGS
@given(st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=64),
                 st.floats(allow_nan=False, allow_infinity=False, width=32).map(np.float32),
                 st.sampled_from([0.0, -0.0, 1 - 2.0**-33, -(1 - 2.0**-33), 2.0**-32, 2.0**-33, 3, -7])))
def test_quantize_multiplier_scalar_path_is_the_array_path(real):
    """ops/_quant's Python-float path for one value gives the numpy path's multiplier and shift."""
    multiplier, shift = _quant.quantize_multiplier(real)
    arrays = _quant.quantize_multiplier(np.array([real], np.float64))
    assert (int(multiplier), int(shift)) == (int(arrays[0][0]), int(arrays[1][0]))


int64s = st.integers(-2**63, 2**63 - 1)


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 40), st.lists(int64s, max_size=native.MAX_INPUTS),
                          st.integers(-1, 10**6), st.lists(int64s, max_size=native.NODE_PARAMS)),
                max_size=12))
def test_node_rows_are_the_node_table_layout(records):
    """[op, n_inputs, inputs (zero-padded), output, params (zero-padded)] per record, as el_engine.h."""
    want = np.zeros((len(records), native.NODE_WORDS), np.int64)
    for row, (op, inputs, output, params) in zip(want, records, strict=True):
        row[0], row[1], row[2 + native.MAX_INPUTS] = op, len(inputs), output
        row[2:2 + len(inputs)] = inputs
        row[3 + native.MAX_INPUTS:3 + native.MAX_INPUTS + len(params)] = params
    assert bytes(engine.node_rows(records)) == want.tobytes()


@SETTINGS
@given(st.lists(st.lists(int64s, max_size=native.TENSOR_WORDS), max_size=12))
def test_int64_rows_zero_pad_each_row(rows):
    want = np.zeros((len(rows), native.TENSOR_WORDS), np.int64)
    for out, row in zip(want, rows, strict=True):
        out[:len(row)] = row
    assert bytes(engine.int64_rows(rows, native.TENSOR_WORDS)) == want.tobytes()


@pytest.mark.parametrize("call, message", [
    (lambda: engine.node_rows([(0, list(range(17)), 0, [])]), "17 inputs, at most 16"),
    (lambda: engine.node_rows([(0, [], 0, [0] * 30)]), "30 params, at most 29"),
    (lambda: engine.node_rows([(0, [1.5], 0, [])]), "not an int64"),
    (lambda: engine.node_rows([(0, [], 2**64, [])]), "not \\(op, inputs, output, params\\)"),
    (lambda: engine.node_rows([(0, [], 0)]), "not \\(op, inputs, output, params\\)"),
    (lambda: engine.int64_rows([[0] * 12], 11), "12 words, at most 11"),
    (lambda: engine.int64_rows([[2**63]], 11), "not an int64"),
])
def test_bad_table_rows_are_rejected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@SETTINGS
@given(st.sampled_from([np.int8, np.int16, np.int32, np.float32]), st.integers(0, 300), seeds)
def test_aligned_copy_is_a_64_byte_aligned_copy(dtype, size, seed):
    values = np.random.default_rng(seed).integers(-100, 100, size).astype(dtype)
    raw, offset = engine.aligned_copy(values)
    assert unpack((raw, offset, values.nbytes)) == values.tobytes()


def test_aligned_copy_rejects_a_strided_array():
    with pytest.raises(ValueError, match="not a C-contiguous"):
        engine.aligned_copy(np.zeros((4, 4), np.int8)[:, 1])


MODELS = Path(__file__).parents[2].parent / "shared" / "models"  # as test_int8_kernels
SHARED = sorted(MODELS.glob("*.tflite")) if MODELS.is_dir() else []


def oracle_bytes(plan, node, record) -> bytes | None:
    """What the numpy packers make of this node's constants (None: a record without packed weights)."""
    op, ins, consts = node.op.name, node.op.inputs, plan.constants
    weights = consts.get(ins[1]) if len(ins) > 1 else None
    bias = consts.get(ins[2]) if len(ins) > 2 and ins[2] >= 0 else None
    if record.op == "GEMM" and op in ("CONV_2D", "FULLY_CONNECTED"):
        groups = record.params[-1] if op == "CONV_2D" else 1
        return packers.pack_grouped_gemm(weights.reshape(weights.shape[0], -1), bias, groups).tobytes()
    if record.op == "HGEMM" and op in ("CONV_2D", "FULLY_CONNECTED"):
        scales = node.input_tensors[1].quantization.scale.astype(np.float32)
        return packers.pack_hgemm(weights.reshape(weights.shape[0], -1), scales, bias).tobytes()
    if record.op not in ("QGEMM", "QDWCONV"):
        return None
    x_q, w_q = node.input_tensors[0].quantization, node.input_tensors[1].quantization
    out_q = node.output_tensors[0].quantization
    scales = (float(x_q.scale[0]), w_q.scale, float(out_q.scale[0]))
    zero = int(x_q.zero_point[0])
    if record.op == "QDWCONV":
        taps = weights.reshape(-1, weights.shape[-1])
        quads = bool(record.params[12])
        packed, fmt = packers.qdwconv(taps, bias, scales[1], scales[0], scales[2], zero, quads)
        assert fmt == quads
        return packed.tobytes()
    per_tensor_fc = op == "FULLY_CONNECTED" and not w_q.per_channel
    weight_zero = int(w_q.zero_point[0]) if op == "FULLY_CONNECTED" else 0
    packed, fmt = packers.qgemm(weights.reshape(weights.shape[0], -1), weight_zero, bias, scales[1],
                                scales[0], scales[2], per_tensor_fc, zero, bool(record.params[15]))
    assert fmt == record.params[15]
    return packed.tobytes()


@pytest.mark.skipif(not SHARED, reason=f"no shared models in {MODELS}")
@pytest.mark.parametrize("path", SHARED, ids=lambda p: p.stem)
def test_shared_models_pack_as_the_numpy_packers(isa, path):
    """Every conv / fully-connected weight tensor of every shared model, lowered at every level, holds
    the numpy packers' bytes (and the format the level picks)."""
    from edgelite.model.reader import load
    from edgelite.runtime.plan import build_plan

    plan = build_plan(load(path.read_bytes()), 0, {})
    executor = native.NativeExecutor(plan)
    lowering = native.Lowering(executor)
    checked = 0
    for planned in plan.nodes:
        if not lowering.lower(planned):
            continue
        record = lowering.records[-1]
        want = oracle_bytes(plan, planned.node, record)
        if want is None:
            continue
        buffer, offset, nbytes = lowering.tensors[record.inputs[1]][:3]
        assert bytes(memoryview(lowering.buffers[buffer]).cast("B")[offset:offset + nbytes]) == want
        checked += 1
    assert checked > 0
