"""Elementwise arithmetic ops (ADD, SUB, MUL, DIV, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM, POW,
FLOOR_DIV, FLOOR_MOD, PRELU, ADD_N) against LiteRT: broadcasting across ranks (scalars
included), constant or graph operands, every fused activation, every supported dtype."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgelite.errors import EdgeliteError, ModelError, UnsupportedOpError
from edgelite.model.ir import Quantization
from edgelite.ops._common import Activation
from edgelite.ops.registry import lookup
from tests.ops.harness import (
    Input,
    check_op,
    const,
    graph_feeds,
    run_edgelite,
    single_op_model,
)

FUSED = {"ADD": (np.float32, np.int32, np.int64), "SUB": (np.float32, np.int32, np.int64),
         "MUL": (np.float32, np.int32, np.int64), "DIV": (np.float32, np.int32)}
PLAIN = {"SQUARED_DIFFERENCE": (np.float32, np.int32),
         "MAXIMUM": (np.float32, np.int32, np.int64, np.int8, np.uint8, np.int16),
         "MINIMUM": (np.float32, np.int32, np.int64, np.int8, np.uint8, np.int16),
         "FLOOR_DIV": (np.float32, np.int32), "FLOOR_MOD": (np.float32, np.int32, np.int64),
         "POW": (np.float32, np.int32)}
DIVIDES = {"DIV", "FLOOR_DIV", "FLOOR_MOD"}


@st.composite
def broadcast_shapes(draw, count: int = 2, max_rank: int = 5) -> list[tuple[int, ...]]:
    """`count` shapes that broadcast together: suffixes of one shape (ranks differ, rank 0
    gives a scalar) with some dimensions set to 1."""
    rank = draw(st.integers(0, max_rank))
    full = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    shapes = []
    for _ in range(count):
        own_rank = draw(st.integers(0, rank))
        dims = full[rank - own_rank:]
        shapes.append(tuple(d if draw(st.booleans()) else 1 for d in dims))
    return shapes


def values(rng: np.random.Generator, shape: tuple[int, ...], dtype, low: float = -8,
           high: float = 8) -> np.ndarray:
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return np.asarray(rng.random(shape) < 0.5)
    if dtype.kind == "f":
        return np.asarray(rng.uniform(low, high, shape), dtype=dtype)
    low, high = max(low, np.iinfo(dtype).min), min(high, np.iinfo(dtype).max)
    return np.asarray(rng.integers(int(low), int(high), shape, endpoint=True), dtype=dtype)


def nonzero(rng: np.random.Generator, shape: tuple[int, ...], dtype) -> np.ndarray:
    """Divisors: magnitude at least 1 (ints) or 0.25 (floats), either sign."""
    magnitude = values(rng, shape, dtype, 1, 8) if np.dtype(dtype).kind == "i" else \
        np.asarray(rng.uniform(0.25, 8, shape), dtype=dtype)
    return np.where(rng.random(shape) < 0.5, -magnitude, magnitude).astype(dtype)


def operands(x: np.ndarray, y: np.ndarray, y_const: bool) -> list:
    return [x, const(y) if y_const else y]


def options(op: str, activation: Activation | None = None):
    cls = lookup(op).options
    if cls is None:
        return None
    return cls() if activation is None else cls(fused_activation_function=activation)


@settings(max_examples=25, deadline=None)
@given(op=st.sampled_from(sorted(FUSED)), data=st.data(), shapes=broadcast_shapes(),
       activation=st.sampled_from(list(Activation)), y_const=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_fused_arithmetic(op, data, shapes, activation, y_const, seed):
    # TANH and SIGN_BIT are drawn too: TFLite's arithmetic kernels ignore them.
    dtype = data.draw(st.sampled_from(FUSED[op]))
    rng = np.random.default_rng(seed)
    x = values(rng, shapes[0], dtype)
    y = nonzero(rng, shapes[1], dtype) if op == "DIV" else values(rng, shapes[1], dtype)
    check_op(op, operands(x, y, y_const), options(op, activation))


@settings(max_examples=25, deadline=None)
@given(op=st.sampled_from(sorted(PLAIN)), data=st.data(), shapes=broadcast_shapes(),
       y_const=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_plain_binary(op, data, shapes, y_const, seed):
    dtype = data.draw(st.sampled_from(PLAIN[op]))
    rng = np.random.default_rng(seed)
    if op == "POW":
        # Positive float bases (negative ones give NaN for fractional exponents); int32
        # exponents must be >= 0 in TFLite.
        float_pow = np.dtype(dtype).kind == "f"
        x = values(rng, shapes[0], dtype, *((0.1, 4) if float_pow else (-5, 5)))
        y = values(rng, shapes[1], dtype, *((-3, 3) if float_pow else (0, 6)))
    else:
        x = values(rng, shapes[0], dtype)
        y = nonzero(rng, shapes[1], dtype) if op in DIVIDES else values(rng, shapes[1], dtype)
    check_op(op, operands(x, y, y_const), options(op))


@settings(max_examples=20, deadline=None)
@given(shapes=broadcast_shapes(), y_const=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_prelu(shapes, y_const, seed):
    x_shape = np.broadcast_shapes(*shapes)  # alpha must broadcast into x's shape
    rng = np.random.default_rng(seed)
    x, alpha = values(rng, x_shape, np.float32), values(rng, shapes[1], np.float32, -1, 1)
    check_op("PRELU", operands(x, alpha, y_const))


@settings(max_examples=15, deadline=None)
@given(count=st.integers(2, 4), shape=broadcast_shapes(count=1), dtype=st.sampled_from(
    [np.float32, np.int32]), consts=st.lists(st.booleans(), min_size=4, max_size=4),
    seed=st.integers(0, 2**32 - 1))
def test_add_n(count, shape, dtype, consts, seed):
    rng = np.random.default_rng(seed)
    inputs = [values(rng, shape[0], dtype) for _ in range(count)]
    inputs = [const(v) if consts[i] and i else v for i, v in enumerate(inputs)]
    check_op("ADD_N", inputs, options("ADD_N"))


def test_special_values_match_tflite():
    """inf clamps to +-FLT_MAX in fused float kernels; MAXIMUM/MINIMUM are `x > y ? x : y`
    (so NaN in x loses to y, NaN in y wins); the floor ops divide in double precision."""
    x = np.array([np.inf, -np.inf, np.nan, 1, np.nan, 2, 1.0, -7, 0.3], np.float32)
    y = np.array([1, 1, 1, np.nan, 0, np.nan, 0.1, 2, 0.1], np.float32)
    for op in ("ADD", "MUL", "SUB"):
        for activation in Activation:
            check_op(op, [x, y], options(op, activation))
    for op in ("MAXIMUM", "MINIMUM", "FLOOR_MOD", "POW"):
        check_op(op, [x, y], options(op))
    check_op("FLOOR_DIV", [x, np.where(y == 0, 0.5, y)], options("FLOOR_DIV"))
    check_op("DIV", [x, np.zeros_like(y)], options("DIV"))  # x / 0: +-FLT_MAX, NaN
    check_op("FLOOR_MOD", [x, np.zeros_like(y)], options("FLOOR_MOD"))  # fmod(x, 0): NaN
    ints = np.array([7, -7, 7, -7, 0, -1, 2**31 - 1], np.int32)
    divisors = np.array([2, 2, -2, -2, 3, 5, 1], np.int32)
    for op in ("DIV", "FLOOR_DIV", "FLOOR_MOD"):
        check_op(op, [ints, divisors], options(op))
    big = np.array([70000, -3, 2**31 - 1], np.int32)
    for op in ("MUL", "ADD", "SQUARED_DIFFERENCE"):  # int32 wraps around in both
        check_op(op, [big, big], options(op))
    check_op("POW", [np.array([-2.0, -3, 0], np.float32), np.array([3.0, 2, 0], np.float32)])


def test_raw_quantized_maximum_minimum():
    """int8/uint8/int16 MAXIMUM/MINIMUM pick raw values (quantized differently: see
    test_quant_binary.py)."""
    rng = np.random.default_rng(0)
    for dtype in (np.int8, np.uint8, np.int16):
        quant = Quantization.of(0.25, 3)
        x, y = (Input(values(rng, (2, 3), dtype, -100, 100), quant) for _ in range(2))
        for op in ("MAXIMUM", "MINIMUM"):
            check_op(op, [x, y], options(op), output_quant=[quant])


def edgelite_run(op: str, inputs: list, opts=None, **model_kwargs) -> None:
    """Run a one-op model in edgelite only (its output shape need not be valid)."""
    try:
        shape = np.broadcast_shapes(*[np.shape(v) for v in graph_feeds(inputs)])
    except ValueError:
        shape = (1,)
    model = single_op_model(op, inputs, opts, output_shapes=[shape], **model_kwargs)
    run_edgelite(model.to_bytes(), graph_feeds(inputs))


@pytest.mark.parametrize("op, inputs, error", [
    ("ADD", [np.ones((2, 3), np.float32), np.ones(4, np.float32)], ModelError),
    ("SUB", [np.ones(3, np.float32), np.ones(3, np.int32)], ModelError),
    ("ADD", [np.ones(3, np.float32)] * 3, ModelError),
    ("MUL", [np.ones(3, np.float32), None], ModelError),
    ("MUL", [np.ones(3, np.int8), np.ones(3, np.int8)], ModelError),  # int8 without quantization
    ("POW", [np.ones(3, np.int64), np.ones(3, np.int64)], UnsupportedOpError),
    ("DIV", [np.ones(3, np.int32), np.array([1, 0, 1], np.int32)], EdgeliteError),
    ("FLOOR_DIV", [np.ones(3, np.float32), np.array([1, 0, 1], np.float32)], EdgeliteError),
    ("FLOOR_MOD", [np.ones(3, np.int64), np.array([1, 0, 1], np.int64)], EdgeliteError),
    ("POW", [np.ones(3, np.int32), np.array([1, -1, 1], np.int32)], EdgeliteError),
    ("PRELU", [np.ones(3, np.float32), np.ones((2, 3), np.float32)], ModelError),
    ("ADD_N", [np.ones(3, np.float32), np.ones((2, 3), np.float32)], ModelError),
    ("ADD_N", [np.ones(3, np.float32)], ModelError),
])
def test_rejects_bad_models_and_inputs(op, inputs, error):
    with pytest.raises(error, match=op):
        edgelite_run(op, inputs, options(op))


@settings(max_examples=500, deadline=None)
@given(st.lists(st.lists(st.sampled_from([0, 1, 1, 2, 3, -1]), max_size=4).map(tuple),
                min_size=1, max_size=3))
def test_python_broadcast_is_numpys(shapes):
    """The prepare-time broadcast (plain Python) against np.broadcast_shapes: equal where it answers,
    and it leaves clashes and negative dimensions to numpy."""
    from edgelite.ops._binary import _broadcast_dims

    try:
        expected = tuple(int(d) for d in np.broadcast_shapes(*shapes))
    except ValueError:
        expected = None
    got = _broadcast_dims(shapes)
    if any(d < 0 for s in shapes for d in s):
        assert got is None
    else:
        assert got == expected
