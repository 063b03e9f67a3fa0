"""Lowerer of float32 BATCH_MATMUL onto the gemm microkernels (native/ops_matmul.c).

A constant rhs is packed here, per rhs matrix, into the gemm's panels (zero bias, adj_y applied);
a computed rhs is packed by each tile at run time into its thread's scratch. Batch dimensions
broadcast through per-operand matrix strides (0 along a broadcast dimension).
"""

from __future__ import annotations

from collections.abc import Callable

from edgelite.runtime.native import GEMM_NR, IM2COL_ROWS, Lowering, Unsupported, _Record, pack_gemm

MAX_BATCH_DIMS = 4


def batch_strides(batch: tuple, out_batch: tuple) -> list[int]:
    """Matrix strides of an operand's batch dims over the output's (0 where it broadcasts)."""
    strides, step = [], 1
    for dim, out in zip(reversed(batch), reversed(out_batch), strict=True):
        strides.append(0 if dim == 1 and out != 1 else step)
        step *= dim
    return strides[::-1]


def lower_batch_matmul(lw: Lowering, node) -> _Record:
    lhs_id, rhs_id, out_id = node.op.inputs[0], node.op.inputs[1], node.op.outputs[0]
    adj_x, adj_y = bool(node.options.adj_x), bool(node.options.adj_y)
    lhs, rhs, out = lw.plan.shapes[lhs_id], lw.plan.shapes[rhs_id], lw.plan.shapes[out_id]
    rank = len(out)
    if rank - 2 > MAX_BATCH_DIMS or min(len(lhs), len(rhs)) < 2:
        raise Unsupported(f"BATCH_MATMUL with {rank - 2} batch dims (at most {MAX_BATCH_DIMS})")
    lhs, rhs = (1,) * (rank - len(lhs)) + tuple(lhs), (1,) * (rank - len(rhs)) + tuple(rhs)
    m, k = (lhs[-1], lhs[-2]) if adj_x else (lhs[-2], lhs[-1])
    n = rhs[-2] if adj_y else rhs[-1]
    pad = MAX_BATCH_DIMS - (rank - 2)
    dims = [1] * pad + list(out[:-2])
    sx = [0] * pad + batch_strides(lhs[:-2], out[:-2])
    sw = [0] * pad + batch_strides(rhs[:-2], out[:-2])
    x = lw.tensor(lhs_id)
    constant = lw.plan.constants.get(rhs_id)
    if constant is not None:
        matrices = lw.constant(rhs_id).reshape(-1, *rhs[-2:])
        weights = matrices if adj_y else matrices.transpose(0, 2, 1)  # [N, K] per matrix
        w = lw.extra(pack_gemm(weights.reshape(-1, weights.shape[-1]), None, len(matrices), lw.heap))
        mode, flags, per_thread = 0, int(adj_x), 0
    else:
        w = lw.tensor(rhs_id)
        panels = -(-n // GEMM_NR)
        mode, flags, per_thread = 1, int(adj_x) | int(adj_y) << 1, panels * GEMM_NR * (k + 1)
    per_thread += IM2COL_ROWS * k if adj_x else 0
    inputs = [x, w] + ([lw.scratch(per_thread)] if per_thread else [])
    return lw.node("BATCH_MATMUL", inputs, out_id, [mode, flags, m, k, n, *dims, *sx, *sw])


LOWERERS: dict[str, Callable[[Lowering, object], _Record]] = {"BATCH_MATMUL": lower_batch_matmul}
