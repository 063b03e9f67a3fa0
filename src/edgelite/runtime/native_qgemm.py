"""QGEMM and QDWCONV weight formats of the native engine (native/include/el_qkernels.h, ops_qconv.c).

Two packings of the same [N, K] weights in channel groups of 16: int16 pairs (qgemm kernels:
vpmaddwd / vpdpwssd over inputs minus the zero point) and int8 quads (qgemmc4 kernels: vpdpbusd
over uint8 inputs x + 128, bias corrected by -(zero point + 128) x sum(w)). Quads halve the
multiply instructions and the weight bytes; they need VNNI to pay off and int8-range weights.
native/pack.c packs both (tests/native/packers.py keeps the numpy packers as its oracle).
"""

from __future__ import annotations

PAIRS, QUADS = 0, 1
GROUP, IM2COL_ROWS = 16, 48
# "auto": quads where the dispatch level has vpdpbusd (avx512vnni); "pairs" / "quads" force one
# format (tests use this to run both formats' kernels at every level). Depthwise quads run in
# blocks of 64 channels: measured on MobileNetV2-224 they win 5-15% on layers of whole blocks
# (192, 384, 576 channels) and lose on partial ones (32, 96, 144), which keep the pairs kernels.
FORMAT = "auto"
DW_FORMAT = "auto"
DW_BLOCK = 64


def prefer_quads() -> bool:
    """Whether gemm weights that fit int8 (centred) go to quads at the current level; native/pack.c
    checks the fit and falls back to pairs."""
    if FORMAT != "auto":
        return FORMAT == "quads"
    from edgelite.runtime import native

    return native.isa() == "avx512vnni"


def padded_k(fmt: int, k: int) -> int:
    return -(-k // 4) * 4 if fmt == QUADS else k + k % 2


def slice_floats(fmt: int, k: int) -> int:
    """One thread's scratch slice in floats (ops_qconv.c's slice_bytes)."""
    tile = IM2COL_ROWS * padded_k(fmt, k) * (1 if fmt == QUADS else 3)
    return -(-(tile + 32) // 32) * 8


def choose_dw_format(channels: int) -> int:
    """The depthwise packing for a layer of `channels` at the current level."""
    from edgelite.runtime import native

    if DW_FORMAT != "auto":
        return QUADS if DW_FORMAT == "quads" else PAIRS
    return QUADS if native.isa() == "avx512vnni" and channels % DW_BLOCK == 0 else PAIRS
