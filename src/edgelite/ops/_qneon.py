"""The vector code paths of LiteRT's optimized quantized ADD and MUL.

LiteRT's x86 build compiles TFLite's NEON kernels through NEON_2_SSE, so its 8-bit ADD/MUL (and
int16 ADD) compute most elements in vector loops whose arithmetic differs from the scalar
loop that finishes each row: ADD rescales inputs with one combined shift (int8 rows) or with a
truncating right shift after the multiply (uint8 rows and scalar-broadcast rows), and 8-bit
results are narrowed to int16 (wrapping or saturating) before the output offset is added.
`lane_paths` reproduces which output element each path computes (TFLite's
ProcessBroadcastShapes and its five-fold broadcast loops); the formulas below do the rest.
"""

from __future__ import annotations

import numpy as np

from edgelite.ops._quant import (
    multiply_by_quantized_multiplier,
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
    wrap_int32,
)

SCALAR, ROWS, SCALAR_ROWS = 0, 1, 2  # scalar loop, elementwise vector loop, broadcast vector loop


def lane_paths(shape_x: tuple, shape_y: tuple, row_lanes: int, scalar_row_lanes: int | None
               ) -> np.ndarray:
    """The code path of each output element (C order) in BinaryBroadcastFiveFold and friends.

    scalar_row_lanes None: the kernel has no vector broadcast (it runs TFLite's reference loop).
    """
    rank = max(len(shape_x), len(shape_y))
    a = (1,) * (rank - len(shape_x)) + tuple(shape_x)
    b = (1,) * (rank - len(shape_y)) + tuple(shape_y)
    total = int(np.prod(np.broadcast_shapes(a, b), dtype=np.int64))
    if a == b:
        return _rows(total, total, row_lanes, ROWS)
    if scalar_row_lanes is None:
        return np.full(total, SCALAR, np.int8)
    differing = [i for i in range(rank) if a[i] != b[i]]
    if a[differing[-1]] != 1:  # the second input broadcasts fast: swap roles
        a, b = b, a
    y = [1] * 5
    i = rank - 1
    for slot, test in ((4, lambda k: a[k] == b[k]), (3, lambda k: a[k] == 1),
                       (2, lambda k: a[k] == b[k]), (1, lambda k: b[k] == 1),
                       (0, lambda k: a[k] == b[k])):
        while i >= 0 and test(i):
            y[slot] *= max(a[i], b[i])
            i -= 1
    if i >= 0:  # not a five-fold pattern: the reference loop
        return np.full(total, SCALAR, np.int8)
    if y[4] > 1:
        return _rows(total, y[4], row_lanes, ROWS)
    return _rows(total, y[3], scalar_row_lanes, SCALAR_ROWS)


def _rows(total: int, row: int, lanes: int, path: int) -> np.ndarray:
    """Rows of `row` elements: whole vectors of `lanes` take `path`, the rest the scalar loop."""
    if total == 0:
        return np.zeros(0, np.int8)
    one = np.full(row, SCALAR, np.int8)
    one[:row - row % lanes] = path
    return np.tile(one, total // row)


def vshl(v: np.ndarray, n: int) -> np.ndarray:
    """vshlq_s32: left shift (wrapping) or, for negative n, a truncating arithmetic right shift."""
    return wrap_int32(v << n) if n >= 0 else v >> -n


def wrap_int16(v: np.ndarray) -> np.ndarray:
    return ((v + 2**15) & 0xFFFF) - 2**15


def add_inputs(v: np.ndarray, left_shift: int, multiplier: int, shift: int,
               combined: bool) -> np.ndarray:
    """An ADD input (q - zero_point) rescaled as a vector loop does: combined shift then a
    rounding doubling multiply (int8/int16 rows), or shift, multiply, truncating shift."""
    if combined:
        return saturating_rounding_doubling_high_mul(vshl(v, left_shift + shift), multiplier)
    return vshl(saturating_rounding_doubling_high_mul(vshl(v, left_shift), multiplier), shift)


def add_output(raw: np.ndarray, multiplier: int, shift: int, zero_point: int, low: int,
               high: int, dtype: np.dtype) -> np.ndarray:
    """The vector loops' output stage: 8-bit results pass through a wrapping int16 narrowing and
    a wrapping int16 offset before saturating; int16 clamps in int32."""
    scaled = rounding_divide_by_pot(saturating_rounding_doubling_high_mul(raw, multiplier), -shift)
    if dtype == np.int16:
        return np.clip(wrap_int32(scaled + zero_point), low, high)
    return _narrow_8bit(wrap_int16(wrap_int16(scaled) + zero_point), low, high, dtype)


def mul_output(product: np.ndarray, multiplier: int, shift: int, zero_point: int, low: int,
               high: int, dtype: np.dtype, saturate: bool) -> np.ndarray:
    """MUL's vector loops: the rescaled product narrowed to int16 (saturating, or wrapping in
    uint8's scalar-broadcast loop), the offset added in wrapping int16, then saturated."""
    scaled = multiply_by_quantized_multiplier(product, multiplier, shift)
    narrowed = np.clip(scaled, -2**15, 2**15 - 1) if saturate else wrap_int16(scaled)
    return _narrow_8bit(wrap_int16(narrowed + zero_point), low, high, dtype)


def _narrow_8bit(v: np.ndarray, low: int, high: int, dtype: np.dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.clip(np.clip(v, info.min, info.max), low, high)
