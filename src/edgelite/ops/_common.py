"""Helpers shared by op modules: option enums, fused activations, padding, broadcasting."""

from __future__ import annotations

import enum

import numpy as np

from edgelite.ops.base import Node


class Padding(enum.IntEnum):
    SAME = 0
    VALID = 1


_SAME = Padding.SAME


class Activation(enum.IntEnum):
    NONE = 0
    RELU = 1
    RELU_N1_TO_1 = 2
    RELU6 = 3
    TANH = 4
    SIGN_BIT = 5


_NARROWING = {Activation.RELU: (0, None), Activation.RELU6: (0, 6), Activation.RELU_N1_TO_1: (-1, 1)}


def activation_range(activation: int, dtype: np.dtype | type = np.float32) -> tuple:
    """TFLite's CalculateActivationRange: the clamp a fused activation means for a kernel.

    Kernels that fuse activations only clamp: RELU, RELU6 and RELU_N1_TO_1 narrow the range;
    every other activation (TANH and SIGN_BIT too) is the type's whole range, which for float
    still turns +-inf into +-FLT_MAX.
    """
    info = np.finfo(dtype) if np.dtype(dtype).kind == "f" else np.iinfo(dtype)
    low, high = _NARROWING.get(activation, (None, None))
    return (info.min if low is None else low), (info.max if high is None else high)


def apply_activation(x: np.ndarray, activation: int, node: Node | None = None) -> np.ndarray:
    """Clamp x to the fused activation's range, in place when x is writeable; return it."""
    if activation not in Activation.__members__.values():
        where = node.describe() if node else "op"
        raise ValueError(f"{where}: unknown fused activation {activation}")
    if x.dtype.kind != "f" and activation not in _NARROWING:
        return x
    return np.clip(x, *activation_range(activation, x.dtype), out=x if x.flags.writeable else None)


def conv_output_size(size: int, kernel: int, stride: int, dilation: int, padding: int) -> int:
    """Output extent of a windowed op along one axis, as TFLite computes it."""
    if padding == _SAME:
        return (size + stride - 1) // stride
    return (size - (kernel - 1) * dilation - 1 + stride) // stride


def padding_before(size: int, kernel: int, stride: int, dilation: int, out_size: int) -> int:
    """Leading padding for SAME-style padding (TFLite's ComputePadding, offset goes after)."""
    effective = (kernel - 1) * dilation + 1
    total = max((out_size - 1) * stride + effective - size, 0)
    return total // 2


def same_as_input(node: Node) -> list:
    """Shape function for ops whose single output has the shape of input 0."""
    return [node.input_shapes[0]]


def axis_list(value: np.ndarray | int, rank: int) -> list[int]:
    """Normalize (possibly negative) axis values to a sorted list of unique non-negative axes."""
    axes = np.atleast_1d(np.asarray(value, dtype=np.int64))
    return sorted({int(a) + rank if a < 0 else int(a) for a in axes})
