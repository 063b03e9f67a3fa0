"""QGEMM and QDWCONV weight formats of the native engine (native/include/el_qkernels.h, ops_qconv.c).

Two packings of the same [N, K] weights in channel groups of 16: int16 pairs (qgemm kernels:
vpmaddwd / vpdpwssd over inputs minus the zero point) and int8 quads (qgemmc4 kernels: vpdpbusd
over uint8 inputs x + 128, bias corrected by -(zero point + 128) x sum(w)). Quads halve the
multiply instructions and the weight bytes; they need VNNI to pay off and int8-range weights.
"""

from __future__ import annotations

import numpy as np

from edgelite.ops import _quant

PAIRS, QUADS = 0, 1
GROUP, IM2COL_ROWS = 16, 48
# "auto": quads where the dispatch level has vpdpbusd (avx512vnni); "pairs" / "quads" force one
# format (tests use this to run both formats' kernels at every level). Depthwise quads run in
# blocks of 64 channels: measured on MobileNetV2-224 they win 5-15% on layers of whole blocks
# (192, 384, 576 channels) and lose on partial ones (32, 96, 144), which keep the pairs kernels.
FORMAT = "auto"
DW_FORMAT = "auto"
DW_BLOCK = 64


def choose_format(weights: np.ndarray) -> int:
    """The packing for these (already zero-point-centred) [N, K] weights at the current level."""
    from edgelite.runtime import native

    fits = weights.size == 0 or (int(weights.min()) >= -128 and int(weights.max()) <= 127)
    if FORMAT == "pairs" or not fits:
        return PAIRS
    return QUADS if FORMAT == "quads" or native.isa() == "avx512vnni" else PAIRS


def padded_k(fmt: int, k: int) -> int:
    return -(-k // 4) * 4 if fmt == QUADS else k + k % 2


def slice_floats(fmt: int, k: int) -> int:
    """One thread's scratch slice in floats (ops_qconv.c's slice_bytes)."""
    tile = IM2COL_ROWS * padded_k(fmt, k) * (1 if fmt == QUADS else 3)
    return -(-(tile + 32) // 32) * 8


def pack_quads(weights: np.ndarray, bias: np.ndarray, zero_point: int, headers) -> np.ndarray:
    """[N, K] int8-range weights -> groups of [header][K/4 quads x 16 channels x 4 int8], the bias
    corrected for uint8 inputs (x + 128 instead of x - zero point). `headers(bias)` builds the
    group headers (native_int8.group_headers with the node's multipliers)."""
    n, k = weights.shape
    kq, groups = padded_k(QUADS, k), -(-n // GROUP)
    sums = weights.sum(axis=1, dtype=np.int64)
    corrected = _quant.wrap_int32(bias.astype(np.int64) - (zero_point + 128) * sums)
    header = headers(corrected)
    packed = np.empty((groups, header.shape[1] + kq * GROUP), np.uint8)
    packed[:, :header.shape[1]] = header
    body = packed[:, header.shape[1]:].view(np.int8).reshape(groups, kq // 4, GROUP, 4)  # a view
    if (n, k) != (groups * GROUP, kq):
        padded = np.zeros((groups * GROUP, kq), np.int8)
        padded[:n, :k] = weights
        weights = padded
    body.transpose(0, 2, 1, 3)[...] = weights.reshape(groups, GROUP, kq // 4, 4)
    return packed.view(np.int8)


def choose_dw_format(channels: int) -> int:
    """The depthwise packing for a layer of `channels` at the current level."""
    from edgelite.runtime import native

    if DW_FORMAT != "auto":
        return QUADS if DW_FORMAT == "quads" else PAIRS
    return QUADS if native.isa() == "avx512vnni" and channels % DW_BLOCK == 0 else PAIRS


def pack_dw_quads(taps: np.ndarray, bias: np.ndarray, headers) -> np.ndarray:
    """[taps, C] int8 weights -> groups of [header][taps/4 quads x 16 channels x 4 int8], the
    bias (already minus zero point x sum(w)) corrected for uint8 inputs x ^ 0x80."""
    count, c = taps.shape
    quads, groups = -(-count // 4), -(-c // GROUP)
    corrected = _quant.wrap_int32(bias.astype(np.int64) - 128 * taps.sum(axis=0, dtype=np.int64))
    body = np.zeros((quads * 4, groups * GROUP), np.int8)
    body[:count, :c] = taps
    ordered = body.reshape(quads, 4, groups, GROUP).transpose(2, 0, 3, 1)  # [group, quad, channel, tap]
    flat = np.ascontiguousarray(ordered).reshape(groups, -1).view(np.uint8)
    return np.concatenate([headers(corrected), flat], axis=1).view(np.int8)
