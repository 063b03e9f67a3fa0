"""Which ops the full-integer modes quantize and how, after TFLite's operator_property.cc.

A Rule names the inputs quantized as activations (constants among them are quantized with their
own range, or with the shared scale of a same-scale op), the weights (symmetric int8, per channel
along an axis) and the bias (int32, or int64 with int16 activations), and how the output scale is
chosen: from calibration, fixed by the kernel (LOGISTIC, SOFTMAX, ...), or the same as the input
(ops that move data without rescaling: LiteRT's int8 kernels for them require equal parameters).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from edgelite.model.ir import Operator, Subgraph

INT8, INT16 = "int8", "int16"


@dataclass(frozen=True)
class Rule:
    activations: tuple[int, ...] | None = (0,)  # None: every input
    weights: dict[int, int] = field(default_factory=dict)  # input -> per-channel axis
    bias: int | None = None
    outputs: tuple[int, ...] | None = (0,)  # None: every output; (): no quantized output
    same_scale: bool = False
    scale_from_output: bool = False  # same-scale inputs take the output's range (a union of theirs)
    fixed: dict[str, tuple[float, int]] = field(default_factory=dict)  # "int8"/"int16" -> (scale, zp)
    types: tuple[str, ...] = (INT8, INT16)
    check: Callable[[Operator, Subgraph], str | None] | None = None
    int64_bias_with_int16: bool = True


def _grouped_conv(op: Operator, graph: Subgraph) -> str | None:
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    if len(x.shape) == 4 and len(w.shape) == 4 and x.shape[3] != w.shape[3]:
        return "grouped CONV_2D (filter depth < input depth) has no integer kernel in TFLite"
    return None


_CONV = {"weights": {1: 0}, "bias": 2}
_SAME = Rule(same_scale=True)
_OWN8 = Rule(types=(INT8,))
_UNION = Rule(activations=None, same_scale=True, scale_from_output=True)

RULES: dict[str, Rule] = {
    "CONV_2D": Rule(**_CONV, check=_grouped_conv),
    "DEPTHWISE_CONV_2D": Rule(weights={1: 3}, bias=2),
    "TRANSPOSE_CONV": Rule(activations=(2,), weights={1: 0}, bias=3),
    "FULLY_CONNECTED": Rule(**_CONV),
    "BATCH_MATMUL": Rule(activations=(0, 1)),
    "ADD": Rule(activations=(0, 1)),
    "SUB": Rule(activations=(0, 1)),
    "MUL": Rule(activations=(0, 1)),
    "SQUARED_DIFFERENCE": Rule(activations=(0, 1), types=(INT8,)),
    "MEAN": Rule(),
    "SUM": Rule(types=(INT8,)),
    "SOFTMAX": Rule(fixed={INT8: (1 / 256, -128), INT16: (1 / 32768, 0)}),
    "LOG_SOFTMAX": Rule(fixed={INT8: (16 / 256, 127)}, types=(INT8,)),
    "LOGISTIC": Rule(fixed={INT8: (1 / 256, -128), INT16: (1 / 32768, 0)}),
    "TANH": Rule(fixed={INT8: (1 / 128, 0), INT16: (1 / 32768, 0)}),
    "HARD_SWISH": _OWN8,
    "GELU": _OWN8,
    "RELU": Rule(),
    "RELU6": Rule(),
    "LEAKY_RELU": Rule(),
    "PRELU": Rule(activations=(0, 1), types=(INT8,)),
    "MAX_POOL_2D": _SAME,
    "AVERAGE_POOL_2D": _SAME,
    "REDUCE_MAX": _SAME,
    "REDUCE_MIN": _SAME,
    "RESHAPE": _SAME,
    "SQUEEZE": _SAME,
    "EXPAND_DIMS": _SAME,
    "TRANSPOSE": _SAME,
    "PAD": _SAME,
    "PADV2": Rule(activations=(0, 2), same_scale=True),
    "MIRROR_PAD": _SAME,
    "STRIDED_SLICE": _SAME,
    "SLICE": _SAME,
    "GATHER": _SAME,
    "RESIZE_BILINEAR": _SAME,
    "RESIZE_NEAREST_NEIGHBOR": _SAME,
    "SPACE_TO_DEPTH": Rule(same_scale=True, types=(INT8,)),
    "DEPTH_TO_SPACE": Rule(same_scale=True, types=(INT8,)),
    "SPACE_TO_BATCH_ND": _SAME,
    "BATCH_TO_SPACE_ND": _SAME,
    "TILE": Rule(same_scale=True, types=(INT8,)),
    "BROADCAST_TO": _SAME,
    "SPLIT": Rule(activations=(1,), outputs=None, same_scale=True),
    "SPLIT_V": Rule(outputs=None, same_scale=True),
    "UNPACK": Rule(outputs=None, same_scale=True),
    "CONCATENATION": _UNION,
    "PACK": _UNION,
    "MAXIMUM": Rule(activations=(0, 1), same_scale=True, scale_from_output=True),
    "MINIMUM": Rule(activations=(0, 1), same_scale=True, scale_from_output=True),
    "ARG_MAX": Rule(outputs=(), types=(INT8,)),
    "ARG_MIN": Rule(outputs=(), types=(INT8,)),
}

# Fused activations the integer kernels implement (as a clamp of the quantized output).
CLAMP_ACTIVATIONS = {0, 1, 2, 3}  # NONE, RELU, RELU_N1_TO_1, RELU6
