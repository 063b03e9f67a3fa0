"""Shape values known element by element: partial folding of Shape chains with dynamic dims.

With a dynamic batch, SHAPE(x) runs at run time, yet most of its elements are static: x.size(1)
of an (N, 16, 64) tensor is 16. The shape converters record, for each small int vector they
derive from a shape, what every element is: a known int, the dynamic dim `axis` of a tensor
(Dim), or unknown (None). Gather/Slice/Concat/Unsqueeze of such vectors then fold to constants
when every element they keep is known, and Reshape learns which target dims copy the input's
dynamic dims (so `x.view(x.size(0), -1)` becomes one RESHAPE to [-1, k]).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edgelite.frontends.onnx.context import Context, Value

_LIMIT = 16  # longest vector tracked (shapes, not data)


@dataclass(frozen=True)
class Dim:
    """The run-time size of dynamic dim `axis` of `source` (Values compare by identity)."""

    source: Value
    axis: int


Symbol = int | Dim | None
_TABLE: weakref.WeakKeyDictionary[Value, tuple[Symbol, ...]] = weakref.WeakKeyDictionary()


def of(value: Value | None) -> tuple[Symbol, ...] | None:
    """The elements of a small int vector (or scalar): constants' values, else what was recorded."""
    if value is None:
        return None
    if value.is_const:
        if value.dtype.kind not in "iu" or value.const.ndim > 1 or value.const.size > _LIMIT:
            return None
        return tuple(int(v) for v in value.const.reshape(-1))
    return _TABLE.get(value)


def of_shape(x: Value) -> tuple[Symbol, ...]:
    """SHAPE(x) element by element: static dims as ints, dynamic ones as Dim."""
    dims = x.signature if x.signature is not None else x.shape
    return tuple(Dim(x, i) if d == -1 else int(d) for i, d in enumerate(dims))


def record(value: Value, symbols: Sequence[Symbol]) -> Value:
    if not value.is_const and len(symbols) <= _LIMIT and any(s is not None for s in symbols):
        _TABLE[value] = tuple(symbols)
    return value


def known(ctx: Context, symbols: Sequence[Symbol], dtype: np.dtype, shape: Sequence[int], hint: str
          ) -> Value | None:
    """A constant when every element is a known int; None otherwise."""
    if any(not isinstance(s, int) for s in symbols):
        return None
    return ctx.constant(np.asarray(symbols, dtype=dtype).reshape(tuple(shape)), hint)


def forward(ctx: Context, source: Value, output_name: str) -> None:
    """An op that only reshapes a vector (Unsqueeze, Squeeze, Reshape, Flatten) keeps its elements."""
    symbols = of(source)
    out = ctx.values.get(output_name)
    if symbols is None or out is None or out.shape is None or len(out.shape) > 1:
        return
    if int(np.prod(out.shape)) == len(symbols):
        record(out, symbols)
