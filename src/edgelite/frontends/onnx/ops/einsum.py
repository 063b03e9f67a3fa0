"""Einsum: the forms that are a (batched) matrix product or a permutation/sum of one operand.

Two operands: indices in both and the output are batch dims, in both but not the output are
contracted, in one only are free (or summed first when absent from the output). Each operand is
transposed to [batch, free, contracted] (or uses adj_x/adj_y when already [batch, contracted,
free]), grouped to rank batch + 2, multiplied by BATCH_MATMUL, then reshaped and transposed to the
output. Repeated indices within an operand (diagonals) and three or more operands are unsupported.
"""

from __future__ import annotations

import string

import numpy as np
import onnx

from edgelite.frontends.onnx.context import Context, Unsupported, Value
from edgelite.frontends.onnx.ops.shape import dims_of, int32, reshape


def parse(equation: str, ranks: list[int]) -> tuple[list[str], str]:
    """Operand index strings and the output, with '...' spelled out as letters the equation lacks."""
    equation = equation.replace(" ", "")
    left, arrow, output = equation.partition("->")
    terms = left.split(",")
    if len(terms) != len(ranks):
        raise Unsupported(f"equation {equation!r} names {len(terms)} operands, the node has {len(ranks)}")
    widths = [rank - len(term.replace("...", "")) for term, rank in zip(terms, ranks, strict=True)]
    widest = max([w for w, t in zip(widths, terms, strict=True) if "..." in t], default=0)
    ellipsis = "".join(c for c in string.ascii_letters if c not in equation)[:widest]
    terms = [t.replace("...", ellipsis[widest - w:]) if "..." in t else t
             for t, w in zip(terms, widths, strict=True)]
    if any(len(t) != r for t, r in zip(terms, ranks, strict=True)):
        raise Unsupported(f"equation {equation!r} does not match the operand ranks {ranks}")
    if not arrow:
        letters = "".join(terms)
        once = sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ellipsis)
        output = ellipsis + "".join(once)
    return terms, output.replace("...", ellipsis)


def _einsum(node: onnx.NodeProto, ctx: Context) -> None:
    equation = ctx.attr(node, "equation")
    operands = ctx.inputs(node)
    terms, output = parse(equation, [v.rank for v in operands])
    if any(len(set(t)) != len(t) for t in terms) or len(set(output)) != len(output):
        raise Unsupported(f"equation {equation!r} repeats an index within an operand (a diagonal)")
    if len(operands) > 2:
        raise Unsupported(f"equation {equation!r} has {len(operands)} operands (1 or 2 are converted)")
    sizes: dict[str, int] = {}
    for term, value in zip(terms, operands, strict=True):
        for letter, dim in zip(term, dims_of(value), strict=True):
            sizes[letter] = dim if sizes.get(letter, 1) in (1, -1) else sizes[letter]
    keep = set(output) | (set(terms[1]) if len(terms) > 1 else set())
    x, a = _sum_out(ctx, operands[0], terms[0], keep)
    if len(operands) == 1:
        _permute(ctx, node, x, a, output)
        return
    y, b = _sum_out(ctx, operands[1], terms[1], set(output) | set(a))
    if x.dtype != np.float32 or y.dtype != np.float32:
        raise Unsupported(f"equation {equation!r} on {x.dtype} (BATCH_MATMUL takes float32)")
    batch = [c for c in output if c in a and c in b]
    left = [c for c in output if c in a and c not in b]
    right = [c for c in output if c in b and c not in a]
    contracted = [c for c in a if c in b and c not in output]
    if len(batch) > 3:
        raise Unsupported(f"equation {equation!r} has {len(batch)} batch dims (BATCH_MATMUL takes 3)")
    x, adj_x = _arrange(ctx, x, a, batch, left, contracted)
    y, adj_y = _arrange(ctx, y, b, batch, right, contracted, rhs=True)
    product = ctx.emit("BATCH_MATMUL", [x, y], {"adj_x": adj_x, "adj_y": adj_y}, outputs=1)[0]
    result = batch + left + right
    if len(left) != 1 or len(right) != 1:
        product = _reshape(ctx, product, [sizes[c] for c in result], equation)
    _permute(ctx, node, product, "".join(result), output)


def _sum_out(ctx: Context, x: Value, term: str, keep: set[str]) -> tuple[Value, str]:
    """SUM over the indices of x that appear nowhere else."""
    axes = [i for i, c in enumerate(term) if c not in keep]
    if not axes:
        return x, term
    summed = ctx.emit("SUM", [x, int32(ctx, axes, "axes")], {"keep_dims": False}, outputs=1)[0]
    return summed, "".join(c for c in term if c in keep)


def _permute(ctx: Context, node: onnx.NodeProto, x: Value, term: str, output: str) -> None:
    if term == output:
        ctx.bind(node.output[0], x)
        return
    if sorted(term) != sorted(output):
        raise Unsupported(f"output {output!r} does not match {term!r}")
    ctx.transpose(x, [term.index(c) for c in output], outputs=[node.output[0]])


def _arrange(ctx: Context, x: Value, term: str, batch: list[str], free: list[str], contracted: list[str],
             rhs: bool = False) -> tuple[Value, bool]:
    """x as [batch, rows, depth] (lhs) or [batch, depth, cols] (rhs); True when transposed (adj)."""
    plain = batch + (contracted + free if rhs else free + contracted)
    swapped = batch + (free + contracted if rhs else contracted + free)
    adjoint = list(term) == swapped and list(term) != plain
    order = swapped if adjoint else plain
    if list(term) != order:
        x = ctx.transpose(x, [term.index(c) for c in order])
    groups = [free, contracted] if adjoint == rhs else [contracted, free]
    if any(len(g) != 1 for g in groups):
        own = dims_of(x)  # batch dims may be 1 here and broadcast in BATCH_MATMUL
        middle = len(batch) + len(groups[0])
        dims = [*own[:len(batch)], _product(own[len(batch):middle]), _product(own[middle:])]
        x = _reshape(ctx, x, dims, "".join(term))
    return x, adjoint


def _product(dims: list[int]) -> int:
    return -1 if -1 in dims else int(np.prod(dims, dtype=np.int64))


def _reshape(ctx: Context, x: Value, dims: list[int], what: str) -> Value:
    if dims.count(-1) > 1:
        raise Unsupported(f"einsum {what!r} regroups several dynamic dims")
    return reshape(ctx, x, dims)


CONVERTERS = {"Einsum": _einsum}
