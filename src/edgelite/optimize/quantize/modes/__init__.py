"""The quantization modes: one module each, registered once in MODES.

Adding a mode is writing `modes/<mode>.py` with a function that rewrites `Context.model` in place
(and records a decision per operator), plus one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edgelite.optimize.quantize.modes import dynamic, float16, int8, int16x8
from edgelite.optimize.quantize.modes._context import Context


@dataclass(frozen=True)
class Mode:
    name: str
    run: Callable[[Context], None]
    needs_calibration: bool
    io_types: tuple[type, ...]  # dtypes allowed for input_type / output_type
    summary: str


MODES: dict[str, Mode] = {
    "int8": Mode("int8", int8.quantize_int8, True, int8.IO_TYPES,
                 "int8 activations and weights, int32 bias (full integer)"),
    "int16x8": Mode("int16x8", int16x8.quantize_int16x8, True, int16x8.IO_TYPES,
                    "int16 activations, int8 weights, int64 bias"),
    "dynamic": Mode("dynamic", dynamic.quantize_dynamic, False, (np.float32,),
                    "int8 weights, float activations (LiteRT's hybrid kernels)"),
    "float16": Mode("float16", float16.quantize_float16, False, (np.float32,),
                    "float16 weights + DEQUANTIZE, float32 arithmetic"),
}

__all__ = ["MODES", "Context", "Mode"]
