"""Convolution2DTransposeBias: MediaPipe's custom transposed conv with a bias (no output_shape).

Inputs: NHWC input, OHWI weights, bias. Custom options: a packed TfLiteTransposeConvParams, i.e.
little-endian int32 padding (TfLitePadding: 0 unknown, 1 SAME, 2 VALID), stride_width,
stride_height. The output size follows from the input (MediaPipe's transpose_conv_bias.cc):
stride * (in - 1) + kernel - total_padding, where SAME pads kernel - (in - 1) % stride - 1.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from edgelite.errors import ModelError
from edgelite.ops._conv import (
    check_bias,
    check_float,
    check_positive,
    check_rank,
    transpose_conv,
    transpose_conv_padding,
)
from edgelite.ops.base import FLOAT, Node, OpDef

_PARAMS = struct.Struct("<iii")
SAME, VALID = 1, 2  # TfLitePadding values (not the schema's Padding enum)


@dataclass(frozen=True)
class TransposeConvParams:
    """The custom options; padding other than SAME (VALID or unknown) means no padding."""

    padding: int = SAME
    stride_width: int = 1
    stride_height: int = 1

    @classmethod
    def from_bytes(cls, data: bytes | None, where: str = "Convolution2DTransposeBias") -> TransposeConvParams:
        if data is None or len(data) < _PARAMS.size:
            raise ModelError(f"{where}: custom options must hold {_PARAMS.size} bytes (padding, "
                             f"stride_width, stride_height as int32), got {len(data or b'')}")
        params = cls(*_PARAMS.unpack_from(data))
        if params.padding not in (0, SAME, VALID):
            raise ModelError(f"{where}: unknown padding {params.padding} in custom options "
                             f"(TfLitePadding: 1 = SAME, 2 = VALID)")
        return params

    def to_bytes(self) -> bytes:
        return _PARAMS.pack(self.padding, self.stride_width, self.stride_height)


def _params(node: Node) -> TransposeConvParams:
    params = TransposeConvParams.from_bytes(node.op.custom_options, node.describe())
    check_positive(node, stride_height=params.stride_height, stride_width=params.stride_width)
    return params


def _out_size(size: int, kernel: int, stride: int, padding: int) -> int:
    total_pad = max(0, kernel - (size - 1) % stride - 1) if padding == SAME else 0
    return stride * (size - 1) + kernel - total_pad


def shape(node: Node) -> list:
    p = _params(node)
    (n, h, w, _), (out_c, kh, kw, _) = node.input_shapes[0], node.input_shapes[1]
    return [(n, _out_size(h, kh, p.stride_height, p.padding), _out_size(w, kw, p.stride_width, p.padding),
             out_c)]


def check(node: Node) -> None:
    if len(node.input_tensors) != 3 or node.input_tensors[2] is None:
        raise ModelError(f"{node.describe()}: needs 3 inputs (input, weights, bias), "
                         f"got {len(node.input_tensors)}")
    _params(node)
    check_rank(node, 0, 4, "input")
    check_rank(node, 1, 4, "weights")
    check_rank(node, 2, 1, "bias")
    check_float(node, 1, 2)
    x, weights = node.input_shapes[0], node.input_shapes[1]
    if x[3] != weights[3]:
        raise ModelError(f"{node.describe()}: input depth {x[3]} differs from the weights' input "
                         f"depth {weights[3]} (weights are [out, kh, kw, in])")
    check_bias(node, 2, weights[0])


def run(node: Node) -> None:
    x, weights, bias = node.inputs
    p, out = _params(node), node.outputs[0]
    stride = (p.stride_height, p.stride_width)
    pad = tuple(transpose_conv_padding(x.shape[1 + a], out.shape[1 + a], weights.shape[1 + a], stride[a])
                for a in range(2))
    out[...] = transpose_conv(x, weights, stride, pad, out.shape[1:3]) + bias


OP = OpDef("Convolution2DTransposeBias", run, shape=shape, check=check, types=FLOAT)
