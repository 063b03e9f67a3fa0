"""int16x8: symmetric int16 activations (zero point 0), symmetric int8 weights, int64 bias for
CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV and FULLY_CONNECTED (as TFLite's int16 kernels read
it); fixed int16 output scale 1/32768 for LOGISTIC, TANH and SOFTMAX. Model I/O float32 or int16."""

from __future__ import annotations

import numpy as np

from edgelite.optimize.quantize.modes._context import Context
from edgelite.optimize.quantize.modes._integer import IntegerQuantizer

IO_TYPES = (np.float32, np.int16)


def quantize_int16x8(ctx: Context) -> None:
    IntegerQuantizer(ctx, np.int16, "int16x8").run()
