"""The numpy weight packers the lowering used before pack.c: the oracle of tests/native/test_pack.py.

Each builds, with whole-array numpy, the bytes native/include/el_qkernels.h, el_hkernels.h and
ops_conv.c describe; multipliers come from ops/_quant.quantize_multiplier on the scales as the
reference kernels compute them (ops/_conv.output_stage, ops/_matmul.effective_scale)."""

from __future__ import annotations

import numpy as np

from edgelite.ops import _quant

GEMM_NR, GROUP, HEADER, HGROUP, HHEADER = 16, 16, 640, 16, 128
DW_SLOTS = (0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15)  # channel of each int32 lane pair


class ShiftOutOfRange(Exception):
    """A requantization shift outside [-31, 31]: the node stays on the reference kernels."""


def pack_gemm(weights: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """[N, K] float32 weights and bias -> panels of 16 columns: [panels, 1 + K, 16] (bias first)."""
    n, k = weights.shape
    panels, full = -(-n // GEMM_NR), n // GEMM_NR
    packed = np.empty((panels, k + 1, GEMM_NR), np.float32)
    by_row = packed.transpose(1, 0, 2)  # a view: [1 + K, panel, column]
    first = np.zeros(panels * GEMM_NR, np.float32)
    if bias is not None:
        first[:n] = bias
    by_row[0] = first.reshape(panels, GEMM_NR)
    by_row[1:, :full] = weights[:full * GEMM_NR].T.reshape(k, full, GEMM_NR)
    if full < panels:
        by_row[1:, full] = 0
        by_row[1:, full, :n - full * GEMM_NR] = weights[full * GEMM_NR:].T
    return packed


def pack_grouped_gemm(weights: np.ndarray, bias: np.ndarray | None, groups: int) -> np.ndarray:
    """A grouped conv's panels: each group's [N / groups, K] weights packed one after another."""
    n = weights.shape[0] // groups
    rows = [slice(g * n, (g + 1) * n) for g in range(groups)]
    parts = [pack_gemm(weights[r], None if bias is None else bias[r]).reshape(-1) for r in rows]
    return np.concatenate(parts)


def multipliers(input_scale: float, weight_scales: np.ndarray, output_scale: float, channels: int,
                float_product: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Per channel (multiplier, shift): output_stage's double product, or effective_scale's float one."""
    if float_product:
        product = (np.float32(input_scale) * weight_scales).astype(np.float32).astype(np.float64)
        real = product / np.float64(output_scale)
    else:
        real = np.float64(input_scale) * weight_scales.astype(np.float64) / np.float64(output_scale)
    return _quant.quantize_multiplier(np.broadcast_to(real, (channels,)))


def group_headers(bias: np.ndarray, multiplier, shift) -> np.ndarray:
    """[groups, HEADER] bytes: per 16 channels bias, multiplier, shift, left shift and the AVX2
    ruy constants (rounding + 2^63, total shift, 2^(63 - total shift)) in even/odd lane order."""
    groups = -(-bias.size // GROUP)
    words = np.zeros((4, groups * GROUP), np.int64)
    words[0, :bias.size] = _quant.wrap_int32(bias)
    words[1, :bias.size] = np.broadcast_to(multiplier, bias.shape)
    words[2, :bias.size] = np.broadcast_to(shift, bias.shape)
    if np.any(words[2] < -31) or np.any(words[2] > 31):
        raise ShiftOutOfRange("a requantization shift is outside [-31, 31]")
    words[3] = np.maximum(words[2], 0)
    right = np.maximum(-words[2], 0).astype(np.uint64)
    one = np.uint64(1)
    upper = np.where(right > 0, one << (np.uint64(30) + right), 0).astype(np.uint64)
    rounding = (one << np.uint64(30)) + upper + (one << np.uint64(63))
    derived = np.stack([rounding, np.uint64(31) + right, one << (np.uint64(32) - right)])
    order = np.array([0, 2, 4, 6, 1, 3, 5, 7])
    lanes = derived.reshape(3, groups, 2, 8)[..., order]  # [word, group, half, lane]
    header = np.empty((groups, HEADER), np.uint8)
    by_group = words.astype(np.int32).reshape(4, groups, GROUP).transpose(1, 0, 2)
    header[:, :256] = np.ascontiguousarray(by_group).reshape(groups, 64).view(np.uint8)
    header[:, 256:] = np.ascontiguousarray(lanes.transpose(1, 0, 2, 3)).reshape(groups, 48).view(np.uint8)
    return header


def _groups(bias: np.ndarray, multiplier, shift, body: np.ndarray) -> np.ndarray:
    """Each group's header followed by its int16 body, as int8 bytes."""
    flat = np.ascontiguousarray(body).reshape(body.shape[0], -1).view(np.uint8)
    return np.concatenate([group_headers(bias, multiplier, shift), flat], axis=1).view(np.int8)


def pack_qgemm_pairs(weights: np.ndarray, bias: np.ndarray, multiplier, shift) -> np.ndarray:
    """[N, K] int16 weights -> groups of [header][K/2 pairs x 16 channels x 2] (K padded to even)."""
    n, k = weights.shape
    kp, groups = k + k % 2, -(-n // GROUP)
    body = np.zeros((groups * GROUP, kp), np.int16)
    body[:n, :k] = weights
    return _groups(bias, multiplier, shift, body.reshape(groups, GROUP, kp // 2, 2).transpose(0, 2, 1, 3))


def pack_qgemm_quads(weights: np.ndarray, bias: np.ndarray, zero_point: int, multiplier, shift) -> np.ndarray:
    """[N, K] int8-range weights -> groups of [header][K/4 quads x 16 channels x 4 int8], the bias
    corrected for uint8 inputs (x + 128 instead of x - zero point)."""
    n, k = weights.shape
    kq, groups = -(-k // 4) * 4, -(-n // GROUP)
    sums = weights.sum(axis=1, dtype=np.int64)
    corrected = _quant.wrap_int32(bias.astype(np.int64) - (zero_point + 128) * sums)
    header = group_headers(corrected, multiplier, shift)
    packed = np.empty((groups, header.shape[1] + kq * GROUP), np.uint8)
    packed[:, :header.shape[1]] = header
    body = packed[:, header.shape[1]:].view(np.int8).reshape(groups, kq // 4, GROUP, 4)  # a view
    if (n, k) != (groups * GROUP, kq):
        padded = np.zeros((groups * GROUP, kq), np.int8)
        padded[:n, :k] = weights
        weights = padded
    body.transpose(0, 2, 1, 3)[...] = weights.reshape(groups, GROUP, kq // 4, 4)
    return packed.view(np.int8)


def pack_qdwconv_pairs(taps: np.ndarray, bias: np.ndarray, multiplier, shift) -> np.ndarray:
    """[taps, C] int8 weights -> groups of [header][taps/2 pairs x 32 int16] (see el_qkernels.h)."""
    count, c = taps.shape
    even, groups = count + count % 2, -(-c // GROUP)
    wide = np.zeros((even, groups * GROUP), np.int16)
    wide[:count, :c] = taps
    body = wide.reshape(even // 2, 2, groups, GROUP)[:, :, :, list(DW_SLOTS)]  # [pair, j, group, slot]
    return _groups(bias, multiplier, shift, body.transpose(2, 0, 3, 1))  # [group, pair, slot, j]


def pack_qdwconv_quads(taps: np.ndarray, bias: np.ndarray, multiplier, shift) -> np.ndarray:
    """[taps, C] int8 weights -> groups of [header][taps/4 quads x 16 channels x 4 int8], the
    bias (already minus zero point x sum(w)) corrected for uint8 inputs x ^ 0x80."""
    count, c = taps.shape
    quads, groups = -(-count // 4), -(-c // GROUP)
    corrected = _quant.wrap_int32(bias.astype(np.int64) - 128 * taps.sum(axis=0, dtype=np.int64))
    body = np.zeros((quads * 4, groups * GROUP), np.int8)
    body[:count, :c] = taps
    ordered = body.reshape(quads, 4, groups, GROUP).transpose(2, 0, 3, 1)  # [group, quad, channel, tap]
    flat = np.ascontiguousarray(ordered).reshape(groups, -1).view(np.uint8)
    return np.concatenate([group_headers(corrected, multiplier, shift), flat], axis=1).view(np.int8)


def pack_hgemm(weights: np.ndarray, scales: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """[N, K] int8 weights -> groups of [scale 16 | bias 16][K/2 pairs x 16 channels x 2 int16]."""
    n, k = weights.shape
    kp, groups = k + k % 2, -(-n // HGROUP)
    header = np.zeros((groups, HHEADER // 4), np.float32)
    padded = np.zeros((2, groups * HGROUP), np.float32)
    padded[0, :n] = np.broadcast_to(np.asarray(scales, np.float32), (n,))
    if bias is not None:
        padded[1, :n] = bias
    header[:, :2 * HGROUP] = padded.reshape(2, groups, HGROUP).transpose(1, 0, 2).reshape(groups, 2 * HGROUP)
    body = np.zeros((groups * HGROUP, kp), np.int16)
    body[:n, :k] = weights
    body = body.reshape(groups, HGROUP, kp // 2, 2).transpose(0, 2, 1, 3).reshape(groups, -1)
    return np.concatenate([header.view(np.uint8), body.view(np.uint8)], axis=1).view(np.int8)


def qgemm(weights: np.ndarray, weight_zero: int, bias: np.ndarray | None, scales: np.ndarray,
          input_scale: float, output_scale: float, float_product: bool, input_zero: int,
          quads: bool) -> tuple[np.ndarray, int]:
    """What the lowering packed for a QGEMM node: (bytes, format 0 pairs / 1 quads)."""
    n, _ = weights.shape
    multiplier, shift = multipliers(input_scale, scales, output_scale, n, float_product)
    centered = weights.astype(np.int16) - np.int16(weight_zero)
    wide_bias = np.zeros(n, np.int64) if bias is None else bias.astype(np.int64)
    fits = int(centered.min()) >= -128 and int(centered.max()) <= 127
    if quads and fits:
        return pack_qgemm_quads(centered, wide_bias, input_zero, multiplier, shift), 1
    return pack_qgemm_pairs(centered, wide_bias, multiplier, shift), 0


def qdwconv(taps: np.ndarray, bias: np.ndarray | None, scales: np.ndarray, input_scale: float,
            output_scale: float, input_zero: int, quads: bool) -> tuple[np.ndarray, int]:
    """What the lowering packed for a QDWCONV node: (bytes, format)."""
    c = taps.shape[1]
    multiplier, shift = multipliers(input_scale, scales, output_scale, c)
    wide = taps.astype(np.int64)
    wide_bias = np.zeros(c, np.int64) if bias is None else bias.astype(np.int64)
    folded = wide_bias - input_zero * wide.sum(axis=0)
    if quads:
        return pack_qdwconv_quads(wide, folded, multiplier, shift), 1
    return pack_qdwconv_pairs(wide, folded, multiplier, shift), 0
