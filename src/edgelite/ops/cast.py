"""CAST: converts between the numeric and bool types as TFLite does. float -> integer
truncates toward zero and saturates (NaN -> the type's max); complex -> anything takes the real
part; integers wrap; -> float16 goes through float32. The tensor types decide, not the options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.model.ir import TensorType
from edgelite.ops._common import same_as_input
from edgelite.ops.base import Node, OpDef


@dataclass
class CastOptions:
    table: ClassVar[str] = "CastOptions"
    in_data_type: TensorType = TensorType.FLOAT32
    out_data_type: TensorType = TensorType.FLOAT32


TYPES = frozenset({TensorType.FLOAT32, TensorType.FLOAT16, TensorType.FLOAT64, TensorType.INT8,
                   TensorType.UINT8, TensorType.INT16, TensorType.UINT16, TensorType.INT32,
                   TensorType.UINT32, TensorType.INT64, TensorType.BOOL, TensorType.COMPLEX64})


def check(node: Node) -> None:
    out = node.output_tensors[0].type
    if out not in TYPES:
        supported = ", ".join(sorted(t.name for t in TYPES))
        raise node.unsupported(f"cast to {out.name} is not supported (supported: {supported})")


def saturating_to_int(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float -> integer: truncate; below the range -> min; above it or NaN -> max."""
    info = np.iinfo(dtype)
    x = x.astype(np.float64)  # exact for every float input type
    with np.errstate(invalid="ignore"):
        high = ~(x < float(info.max) + 1)  # a power of two, exact; NaN lands here too
        low = x < info.min
        result = np.where(high | low, 0, np.trunc(x)).astype(dtype)
    result[high] = info.max
    result[low] = info.min
    return result


def cast(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if x.dtype.kind == "c" and dtype.kind != "c":
        x = x.real
    if x.dtype.kind == "f" and dtype.kind in "iu":
        return saturating_to_int(x, dtype)
    with np.errstate(over="ignore"):  # to a narrower float: out of range becomes +-inf
        if dtype == np.float16 and x.dtype != np.float16:
            x = x.astype(np.float32)
        return x.astype(dtype)


def run(node: Node) -> None:
    out = node.outputs[0]
    out[...] = cast(node.inputs[0], out.dtype)


OP = OpDef("CAST", run, shape=same_as_input, check=check, types=TYPES, options=CastOptions)
