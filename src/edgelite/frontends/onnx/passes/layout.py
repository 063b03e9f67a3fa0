"""The layout pass: push TRANSPOSEs down through layout-agnostic ops and cancel inverse pairs.

Import wraps every layout-sensitive op in NCHW->NHWC / NHWC->NCHW transposes. Here an op whose
transposed inputs all share one perm P runs on the untransposed tensors instead (constants
permuted, axes remapped) and P moves to its output, where it meets the next op's inverse
transpose and both vanish. Transposes that only move size-1 dims become RESHAPEs.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from edgelite.frontends.onnx.passes import reshape_layout
from edgelite.frontends.onnx.passes.rewrite import Rewriter, signature_of
from edgelite.model.ir import Model, Operator
from edgelite.ops._common import axis_list
from edgelite.ops.reshape import ReshapeOptions

# Ops computing each element from the same position of every input (all inputs are data).
ELEMENTWISE = frozenset({
    "ABS", "CEIL", "COS", "ELU", "EXP", "FLOOR", "GELU", "HARD_SWISH", "LEAKY_RELU", "LOG", "LOGISTIC",
    "NEG", "RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "ROUND", "RSQRT", "SIGN", "SIN", "SQRT", "SQUARE",
    "TANH", "CAST", "LOGICAL_NOT", "ZEROS_LIKE", "DEQUANTIZE", "QUANTIZE",
    "ADD", "SUB", "MUL", "DIV", "POW", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE", "FLOOR_DIV", "FLOOR_MOD",
    "EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL", "LOGICAL_AND", "LOGICAL_OR",
    "PRELU", "SELECT_V2", "ADD_N",
})
REDUCERS = frozenset({"MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD", "REDUCE_ANY", "REDUCE_ALL"})
PADS = frozenset({"PAD", "PADV2", "MIRROR_PAD"})
_MAX_SWEEPS = 64


def inverse(perm: list[int]) -> list[int]:
    return [int(i) for i in np.argsort(perm)]


def optimize_layout(model: Model, subgraph_index: int = 0) -> int:
    """Push and cancel transposes until nothing moves; return the number of rewrites."""
    rw = Rewriter(model, subgraph_index)
    total = 0
    for _ in range(_MAX_SWEEPS):
        changed = 0
        for op in list(rw.graph.operators):
            if op not in rw.graph.operators:
                continue
            if op.opcode == "TRANSPOSE":
                changed += _merge_transposes(rw, op) or _pull_up_through_reshape(rw, op)
            elif op.opcode == "RESHAPE":
                changed += _push_through_reshape(rw, op)
            elif op.opcode in ELEMENTWISE or op.opcode in REDUCERS or op.opcode in PADS \
                    or op.opcode == "CONCATENATION":
                changed += _push(rw, op)
        total += changed
        if not changed:
            break
    total += _transposes_to_reshapes(rw)
    return total + merge_reshapes(rw)


def perm_of(rw: Rewriter, op: Operator) -> list[int] | None:
    if op.opcode != "TRANSPOSE" or len(op.inputs) < 2:
        return None
    perm = rw.const(op.inputs[1])
    return None if perm is None else [int(p) for p in perm]


def _merge_transposes(rw: Rewriter, op: Operator) -> int:
    """T(T(x, p1), p2) -> T(x, p1 o p2); an identity result disappears."""
    outer = perm_of(rw, op)
    producer = rw.producers().get(op.inputs[0])
    inner = perm_of(rw, producer) if producer is not None else None
    if outer is None:
        return 0
    if outer == list(range(len(outer))):
        return int(rw.bypass(op))
    if inner is None:
        return 0
    combined = [inner[p] for p in outer]
    source = producer.inputs[0]
    if combined == list(range(len(combined))):
        op.inputs = (source, op.inputs[1])  # an identity transpose now; bypass it
        if rw.bypass(op):
            return 1
        op.inputs = (producer.outputs[0], op.inputs[1])
        return 0
    perm_index = rw.add_const(np.asarray(combined, np.int32), f"{rw.tensor(op.outputs[0]).name}/perm")
    op.inputs = (source, perm_index)
    return 1


def _push_through_reshape(rw: Rewriter, op: Operator) -> int:
    producer = rw.producers().get(op.inputs[0])
    perm = perm_of(rw, producer) if producer is not None else None
    return int(perm is not None and reshape_layout.push_down(rw, op, perm, producer.inputs[0]))


def _pull_up_through_reshape(rw: Rewriter, op: Operator) -> int:
    """T(RESHAPE(T'(x))) -> RESHAPE(T(T'(x))) when the reshape's result has no other reader,
    so the two transposes meet and merge."""
    producers = rw.producers()
    reshape = producers.get(op.inputs[0])
    if reshape is None or reshape.opcode != "RESHAPE" or reshape.outputs[0] in rw.graph.outputs:
        return 0
    above = producers.get(reshape.inputs[0])
    perm = perm_of(rw, op)
    if above is None or perm_of(rw, above) is None or perm is None:
        return 0
    if len(rw.consumers().get(reshape.outputs[0], [])) != 1:
        return 0
    return int(reshape_layout.pull_up(rw, op, perm, reshape))


def _push(rw: Rewriter, op: Operator) -> int:
    """Run `op` before the transposes feeding it; its outputs get the transpose instead."""
    producers = rw.producers()
    data = _data_inputs(op)
    out_rank = len(rw.tensor(op.outputs[0]).shape) if op.opcode not in REDUCERS else None
    perm, sources = None, {}
    for k in data:
        index = op.inputs[k]
        if index < 0 or rw.const(index) is not None:
            continue
        producer = producers.get(index)
        p = perm_of(rw, producer) if producer is not None else None
        if p is None or (perm is not None and p != perm):
            return 0
        perm, sources[k] = p, producer.inputs[0]
    if perm is None:
        return 0
    rank = len(perm)
    if out_rank is not None and out_rank != rank:
        return 0
    inv = inverse(perm)
    new_inputs = list(op.inputs)
    for k in data:
        index = op.inputs[k]
        if k in sources:
            new_inputs[k] = sources[k]
        elif index >= 0:
            value = rw.const(index)
            if value.ndim > rank:
                return 0
            if value.size > 1:
                expanded = value.reshape((1,) * (rank - value.ndim) + value.shape)
                new_inputs[k] = rw.add_const(np.transpose(expanded, inv), f"{rw.tensor(index).name}/nhwc")
    out_perm = _remap_params(rw, op, perm, new_inputs)
    if out_perm is False:
        return 0
    op.inputs = tuple(new_inputs)
    outputs = []
    for y in op.outputs:
        outputs.append(_transpose_output(rw, op, y, out_perm if out_perm is not None else perm))
    op.outputs = tuple(outputs)
    return 1


def _data_inputs(op: Operator) -> list[int]:
    if op.opcode in ELEMENTWISE or op.opcode == "CONCATENATION":
        return list(range(len(op.inputs)))
    return [0]


def _remap_params(rw: Rewriter, op: Operator, perm: list[int], inputs: list[int]):
    """Remap axes/paddings for running on untransposed inputs. Returns the output perm (None:
    same as the inputs'), or False when the op cannot move."""
    if op.opcode == "CONCATENATION":
        axis = op.options.axis % len(perm)
        op.options = dataclasses.replace(op.options, axis=perm[axis])
        return None
    if op.opcode in PADS:
        paddings = rw.const(op.inputs[1])
        if paddings is None:
            return False
        moved = np.zeros_like(paddings)
        for i, p in enumerate(perm):
            moved[p] = paddings[i]
        inputs[1] = rw.add_const(moved, f"{rw.tensor(op.inputs[1]).name}/nhwc")
        return None
    if op.opcode in REDUCERS:
        axes = rw.const(op.inputs[1])
        if axes is None:
            return False
        reduced = axis_list(axes, len(perm))
        moved = np.asarray(sorted(perm[a] for a in reduced), dtype=axes.dtype)
        inputs[1] = rw.add_const(moved, f"{rw.tensor(op.inputs[1]).name}/nhwc")
        if getattr(op.options, "keep_dims", False):
            return None
        kept_y = [i for i in range(len(perm)) if i not in reduced]
        kept_x = sorted(perm[i] for i in kept_y)
        return [kept_x.index(perm[i]) for i in kept_y]
    return None


def _transpose_output(rw: Rewriter, op: Operator, y: int, perm: list[int]) -> int:
    """Give op a new output z (untransposed) and make y = TRANSPOSE(z, perm); return z."""
    tensor = rw.tensor(y)
    if perm == list(range(len(perm))):
        return y
    inv = inverse(perm)
    shape = tuple(tensor.shape[i] for i in inv)
    signature = tuple(signature_of(tensor)[i] for i in inv)
    z = rw.add_tensor(tensor, shape, signature, f"{tensor.name}/nhwc")
    perm_index = rw.add_const(np.asarray(perm, np.int32), f"{tensor.name}/perm")
    position = rw.graph.operators.index(op) + 1
    rw.graph.operators.insert(position, Operator("TRANSPOSE", (z, perm_index), (y,)))
    return z


def _transposes_to_reshapes(rw: Rewriter) -> int:
    """A transpose that keeps the order of every dim larger than 1 moves no data: RESHAPE it."""
    count = 0
    for op in rw.graph.operators:
        perm = perm_of(rw, op)
        if perm is None:
            continue
        source, result = rw.tensor(op.inputs[0]), rw.tensor(op.outputs[0])
        dims, new_shape = signature_of(source), signature_of(result)
        moved = [p for p in perm if dims[p] != 1]
        if moved != sorted(moved) or list(new_shape).count(-1) > 1:
            continue
        shape = np.asarray(new_shape, dtype=np.int32)
        op.opcode, op.options = "RESHAPE", ReshapeOptions(new_shape=tuple(int(d) for d in shape))
        op.inputs = (op.inputs[0], rw.add_const(shape, f"{result.name}/shape"))
        count += 1
    return count


def merge_reshapes(rw: Rewriter) -> int:
    """RESHAPE(RESHAPE(x)) -> RESHAPE(x): the outer one reads x (the inner dies if unused)."""
    producers, count = rw.producers(), 0
    for op in rw.graph.operators:
        inner = producers.get(op.inputs[0]) if op.opcode == "RESHAPE" else None
        if inner is None or inner.opcode != "RESHAPE" or len(op.inputs) < 2 or rw.const(op.inputs[1]) is None:
            continue
        op.inputs = (inner.inputs[0], *op.inputs[1:])
        count += 1
    return count
