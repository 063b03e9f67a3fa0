"""LOG_SOFTMAX: x - max - log(sum(exp(x - max))) over the last axis (float32).

int8/uint8, as LiteRT's optimized (builtin) kernel: float sums of the softmax exp table (beta 1),
a float logf, and a float affine map to the output, which must be quantized with scale 16/256
and zero point 127 (uint8: 255)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.ops import _lut
from edgelite.ops._activation import EIGHT_BIT, UINT8, require_output, scale_and_zero_point
from edgelite.ops._common import same_as_input
from edgelite.ops._unary import check_has_last_axis, check_not_quantized
from edgelite.ops.base import FLOAT, Node, OpDef

F32 = np.float32


@dataclass
class LogSoftmaxOptions:
    table: ClassVar[str] = "LogSoftmaxOptions"


def run_float(node: Node) -> None:
    x, out = node.inputs[0], node.outputs[0]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        shifted = x - x.max(axis=-1, keepdims=True)
        out[...] = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def run_8bit(node: Node) -> None:
    x = node.inputs[0].astype(np.int64)
    in_scale, out_scale = F32(scale_and_zero_point(node)[0]), F32(16 / 256)
    out_zero_point = scale_and_zero_point(node, "output")[1]
    table = _lut.softmax_exp_table(float(in_scale), 1.0)
    row_max = x.max(axis=-1, keepdims=True)
    exps = table[255 - (row_max - x)]
    total = np.zeros(x.shape[:-1] + (1,), dtype=F32)
    for j in range(x.shape[-1]):  # sequential float sum, as the C loop
        total += exps[..., j:j + 1]
    log_sum = _lut.cmath("log", total)
    precomputed = (in_scale * row_max.astype(F32) + log_sum) / out_scale
    log_probability = (in_scale / out_scale) * x.astype(F32) - precomputed
    quantized = _lut.float_to_int32(np.rint(log_probability) + F32(out_zero_point))
    info = np.iinfo(node.output_tensors[0].dtype)
    node.outputs[0][...] = np.clip(quantized, info.min, info.max)


def check(node: Node) -> None:
    check_has_last_axis(node)
    if node.input_type(0) in EIGHT_BIT:
        scale_and_zero_point(node, "input")
        require_output(node, 16 / 256, 255 if node.input_type(0) == UINT8 else 127,
                       label="16/256")
    else:
        check_not_quantized(node)


def run(node: Node) -> None:
    if node.inputs[0].size == 0:
        return
    (run_8bit if node.input_type(0) in EIGHT_BIT else run_float)(node)


OP = OpDef("LOG_SOFTMAX", run, shape=same_as_input, check=check, types=FLOAT | EIGHT_BIT,
           options=LogSoftmaxOptions)
