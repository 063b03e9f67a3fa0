"""Full-integer int8: asymmetric per-tensor int8 activations, symmetric int8 weights (per channel:
CONV_2D and TRANSPOSE_CONV axis 0, DEPTHWISE_CONV_2D axis 3, FULLY_CONNECTED axis 0), int32 bias
with scale input_scale * weight_scale; model I/O float32 (QUANTIZE/DEQUANTIZE at the edges) or
int8/uint8 with input_type/output_type."""

from __future__ import annotations

import numpy as np

from edgelite.optimize.quantize.modes._context import Context
from edgelite.optimize.quantize.modes._integer import IntegerQuantizer

IO_TYPES = (np.float32, np.int8, np.uint8)


def quantize_int8(ctx: Context) -> None:
    IntegerQuantizer(ctx, np.int8, "int8").run()
