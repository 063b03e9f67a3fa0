"""Comparison, logical and select ops (EQUAL ... GREATER_EQUAL, LOGICAL_AND/OR/NOT, SELECT,
SELECT_V2) against LiteRT, with broadcasting across ranks and scalars."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgelite.errors import ModelError, UnsupportedOpError
from tests.ops.harness import check_op, const
from tests.ops.test_binary import broadcast_shapes, edgelite_run, operands, options, values

COMPARISONS = ("EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL")
SELECTABLE = (np.float32, np.int32, np.int64, np.bool_, np.int8, np.uint8, np.int16)
BOOL = [np.bool_]


def few_values(rng: np.random.Generator, shape: tuple[int, ...], dtype) -> np.ndarray:
    """Values from a small set, so that equal pairs are common."""
    if np.dtype(dtype) == np.bool_:
        return values(rng, shape, dtype)
    return (values(rng, shape, np.int32, -3, 3) * (0.5 if np.dtype(dtype).kind == "f" else 1)
            ).astype(dtype)


@settings(max_examples=25, deadline=None)
@given(op=st.sampled_from(COMPARISONS), data=st.data(), shapes=broadcast_shapes(),
       y_const=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_comparisons(op, data, shapes, y_const, seed):
    dtypes = [np.float32, np.int32, np.int64] + ([np.bool_] if op in ("EQUAL", "NOT_EQUAL") else [])
    dtype = data.draw(st.sampled_from(dtypes))
    rng = np.random.default_rng(seed)
    x, y = few_values(rng, shapes[0], dtype), few_values(rng, shapes[1], dtype)
    check_op(op, operands(x, y, y_const), options(op), output_dtypes=BOOL)


@settings(max_examples=15, deadline=None)
@given(op=st.sampled_from(["LOGICAL_AND", "LOGICAL_OR", "LOGICAL_NOT"]), shapes=broadcast_shapes(),
       y_const=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_logical(op, shapes, y_const, seed):
    rng = np.random.default_rng(seed)
    x, y = values(rng, shapes[0], np.bool_), values(rng, shapes[1], np.bool_)
    inputs = [x] if op == "LOGICAL_NOT" else operands(x, y, y_const)
    check_op(op, inputs, options(op))


@settings(max_examples=20, deadline=None)
@given(shapes=broadcast_shapes(count=3), dtype=st.sampled_from(SELECTABLE),
       consts=st.lists(st.booleans(), min_size=3, max_size=3), seed=st.integers(0, 2**32 - 1))
def test_select_v2(shapes, dtype, consts, seed):
    rng = np.random.default_rng(seed)
    inputs = [values(rng, shapes[0], np.bool_), values(rng, shapes[1], dtype),
              values(rng, shapes[2], dtype)]
    inputs = [const(v) if c else v for v, c in zip(inputs, consts, strict=True)]
    check_op("SELECT_V2", inputs, options("SELECT_V2"), output_dtypes=[dtype])


@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=5).map(tuple),
       condition=st.sampled_from(["same", "scalar", "rows"]), dtype=st.sampled_from(SELECTABLE),
       seed=st.integers(0, 2**32 - 1))
def test_select(shape, condition, dtype, seed):
    rng = np.random.default_rng(seed)
    condition_shape = {"same": shape, "scalar": (), "rows": shape[:1]}[condition]
    inputs = [values(rng, condition_shape, np.bool_), values(rng, shape, dtype),
              values(rng, shape, dtype)]
    check_op("SELECT", inputs, options("SELECT"), output_dtypes=[dtype])


@pytest.mark.parametrize("op, inputs, error", [
    ("LESS", [np.ones((2, 3), np.float32), np.ones((3, 2), np.float32)], ModelError),
    ("EQUAL", [np.ones(3, np.int32), np.ones(3, np.int64)], ModelError),
    ("GREATER", [np.ones(3, np.int8), np.ones(3, np.int8)], ModelError),  # no quantization
    ("LOGICAL_AND", [np.ones(3, np.float32), np.ones(3, np.float32)], UnsupportedOpError),
    ("SELECT", [np.ones((2, 1), bool), np.ones((2, 3), np.float32), np.ones((2, 3), np.float32)],
     ModelError),
    ("SELECT_V2", [np.ones(3, bool), np.ones(3, np.float32), np.ones(3, np.int32)], ModelError),
    ("SELECT_V2", [np.ones(3, np.int32), np.ones(3, np.float32), np.ones(3, np.float32)],
     UnsupportedOpError),
])
def test_rejects_bad_models(op, inputs, error):
    output = BOOL if op in COMPARISONS else [inputs[-1].dtype]
    with pytest.raises(error, match=op):
        edgelite_run(op, inputs, options(op), output_dtypes=output)
