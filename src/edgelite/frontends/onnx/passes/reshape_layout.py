"""Moving a TRANSPOSE across a RESHAPE that only splits or merges axes (part of the layout pass).

A reshape decomposes into groups: one input axis split into consecutive output axes, several
consecutive input axes merged into one, or an axis kept. A transpose commutes with it when every
merged group stays consecutive and in order on the other side; then the reshape runs in the
other layout and the transpose is re-expressed over the new axes. Channel shuffles (ShuffleNet)
and flattens after NHWC features need this.
"""

from __future__ import annotations

import numpy as np

from edgelite.frontends.onnx.passes.rewrite import Rewriter, signature_of
from edgelite.model.ir import Operator
from edgelite.ops.reshape import ReshapeOptions


def groups(before: tuple[int, ...], after: tuple[int, ...]) -> list[tuple[list[int], list[int]]] | None:
    """[(input axes, output axes)] of a reshape, or None when it mixes axes (or dims are dynamic
    anywhere but in a kept axis). Size-1 axes are their own groups where possible."""
    result, i, j = [], 0, 0
    while i < len(before) or j < len(after):
        if i < len(before) and j < len(after) and before[i] == after[j]:
            result.append(([i], [j]))
            i, j = i + 1, j + 1
            continue
        if i < len(before) and before[i] == 1:
            result.append(([i], []))
            i += 1
            continue
        if j < len(after) and after[j] == 1:
            result.append(([], [j]))
            j += 1
            continue
        if i >= len(before) or j >= len(after) or before[i] < 0 or after[j] < 0:
            return None
        ins, outs, a, b = [i], [j], before[i], after[j]
        i, j = i + 1, j + 1
        while a != b:
            if a < b and i < len(before) and before[i] > 0:
                a *= before[i]
                ins.append(i)
                i += 1
            elif b < a and j < len(after) and after[j] > 0:
                b *= after[j]
                outs.append(j)
                j += 1
            else:
                return None
        if len(ins) > 1 and len(outs) > 1:
            return None
        result.append((ins, outs))
    return result


def _consecutive(values: list[int]) -> bool:
    return all(b == a + 1 for a, b in zip(values, values[1:], strict=False))


def push_down(rw: Rewriter, reshape: Operator, perm: list[int], source: int) -> bool:
    """RESHAPE(TRANSPOSE(x, perm)) -> TRANSPOSE(RESHAPE'(x), perm'); False if it cannot."""
    t, out = rw.tensor(reshape.inputs[0]), rw.tensor(reshape.outputs[0])
    parts = groups(signature_of(t), signature_of(out))
    if parts is None or any(not ins for ins, _ in parts):
        return False
    x_axes = []
    for ins, _ in parts:  # the x axes each group covers must be consecutive and in order
        mapped = [perm[a] for a in ins]
        if not _consecutive(mapped):
            return False
        x_axes.append(mapped[0])
    loose = [k for k, (ins, outs) in enumerate(parts) if not outs]  # dropped size-1 axes
    ordered = sorted((k for k in range(len(parts)) if k not in loose), key=lambda k: x_axes[k])
    new_axes = [j for k in ordered for j in parts[k][1]]
    dims = signature_of(out)
    if list(dims).count(-1) > 1:
        return False
    new_perm = [new_axes.index(j) for j in range(len(dims))]
    _rewire(rw, reshape, source, new_axes, new_perm)
    return True


def pull_up(rw: Rewriter, transpose: Operator, perm: list[int], reshape: Operator) -> bool:
    """TRANSPOSE(RESHAPE(a), perm) -> RESHAPE(TRANSPOSE(a, perm')); False if it cannot."""
    a, r = rw.tensor(reshape.inputs[0]), rw.tensor(reshape.outputs[0])
    parts = groups(signature_of(a), signature_of(r))
    if parts is None or any(not outs for _, outs in parts) or any(not ins for ins, _ in parts):
        return False
    position = {axis: k for k, axis in enumerate(perm)}  # r axis -> its place after the transpose
    for _, outs in parts:
        if not _consecutive([position[j] for j in outs]):
            return False
    ordered = sorted(range(len(parts)), key=lambda k: position[parts[k][1][0]])
    a_perm = [i for k in ordered for i in parts[k][0]]
    result = rw.tensor(transpose.outputs[0])
    a_dims = signature_of(a)
    moved = rw.add_tensor(a, tuple(a.shape[i] for i in a_perm), tuple(a_dims[i] for i in a_perm),
                          f"{result.name}/pre_reshape")
    perm_index = rw.add_const(np.asarray(a_perm, np.int32), f"{result.name}/perm")
    shape = signature_of(result)
    if list(shape).count(-1) > 1:
        return False
    shape_index = rw.add_const(np.asarray(shape, np.int32), f"{result.name}/shape")
    at = rw.graph.operators.index(transpose)
    rw.graph.operators[at:at + 1] = [
        Operator("TRANSPOSE", (reshape.inputs[0], perm_index), (moved,)),
        Operator("RESHAPE", (moved, shape_index), (transpose.outputs[0],), ReshapeOptions(tuple(shape)))]
    return True


def _rewire(rw: Rewriter, reshape: Operator, source: int, new_axes: list[int], new_perm: list[int]) -> None:
    """reshape now reads `source` and writes its output's axes in `new_axes` order; a TRANSPOSE
    by new_perm restores the original output tensor."""
    out = rw.tensor(reshape.outputs[0])
    dims = signature_of(out)
    new_shape = tuple(dims[j] for j in new_axes)
    z = rw.add_tensor(out, tuple(out.shape[j] for j in new_axes), new_shape, f"{out.name}/nhwc")
    shape_index = rw.add_const(np.asarray(new_shape, np.int32), f"{out.name}/shape")
    perm_index = rw.add_const(np.asarray(new_perm, np.int32), f"{out.name}/perm")
    y = reshape.outputs[0]
    reshape.inputs, reshape.outputs = (source, shape_index), (z,)
    reshape.options = ReshapeOptions(tuple(new_shape))
    at = rw.graph.operators.index(reshape) + 1
    rw.graph.operators.insert(at, Operator("TRANSPOSE", (z, perm_index), (y,)))
