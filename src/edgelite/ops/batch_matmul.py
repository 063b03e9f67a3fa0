"""BATCH_MATMUL: lhs [..., m, k] x rhs [..., k, n] (adj_x/adj_y transpose the last two axes),
batch dimensions broadcast; ranks 2 to 5 as in TFLite."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edgelite.errors import ModelError
from edgelite.ops._conv import check_float
from edgelite.ops.base import FLOAT, Node, OpDef


@dataclass
class BatchMatMulOptions:
    table: ClassVar[str] = "BatchMatMulOptions"
    adj_x: bool = False
    adj_y: bool = False
    asymmetric_quantize_inputs: bool = False


def _matrices(node: Node) -> tuple[tuple, tuple, int, int, int, int]:
    """Batch dims of lhs and rhs, extended to the output rank, and (rows, lhs depth, rhs depth, cols)."""
    lhs, rhs = node.input_shapes[0], node.input_shapes[1]
    rank = max(len(lhs), len(rhs))
    lhs, rhs = (1,) * (rank - len(lhs)) + tuple(lhs), (1,) * (rank - len(rhs)) + tuple(rhs)
    o = node.options
    rows, depth = (lhs[-1], lhs[-2]) if o.adj_x else (lhs[-2], lhs[-1])
    rhs_depth, cols = (rhs[-1], rhs[-2]) if o.adj_y else (rhs[-2], rhs[-1])
    return lhs[:-2], rhs[:-2], rows, depth, rhs_depth, cols


def shape(node: Node) -> list:
    lhs_batch, rhs_batch, rows, _, _, cols = _matrices(node)
    batch = tuple(b if a == 1 else a for a, b in zip(lhs_batch, rhs_batch, strict=True))
    return [(*batch, rows, cols)]


def check(node: Node) -> None:
    check_float(node, 1)
    for i in range(2):
        if not 2 <= len(node.input_shapes[i]) <= 5:
            raise ModelError(f"{node.describe()}: input {i} has shape {tuple(node.input_shapes[i])}; "
                             "BATCH_MATMUL takes ranks 2 to 5")
    lhs_batch, rhs_batch, _, depth, rhs_depth, _ = _matrices(node)
    if any(a != b and 1 not in (a, b) for a, b in zip(lhs_batch, rhs_batch, strict=True)):
        raise ModelError(f"{node.describe()}: batch dimensions {lhs_batch} and {rhs_batch} do not broadcast")
    if depth != rhs_depth:
        raise ModelError(f"{node.describe()}: lhs {tuple(node.input_shapes[0])} and rhs "
                         f"{tuple(node.input_shapes[1])} disagree on the contracted size "
                         f"({depth} vs {rhs_depth}; adj_x={node.options.adj_x}, adj_y={node.options.adj_y})")


def run(node: Node) -> None:
    lhs, rhs = node.inputs[0], node.inputs[1]
    o = node.options
    if o.adj_x:
        lhs = np.swapaxes(lhs, -1, -2)
    if o.adj_y:
        rhs = np.swapaxes(rhs, -1, -2)
    np.matmul(lhs, rhs, out=node.outputs[0])


OP = OpDef("BATCH_MATMUL", run, shape=shape, check=check, types=FLOAT, options=BatchMatMulOptions)
