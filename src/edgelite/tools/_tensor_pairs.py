"""Pairing the activations of two versions of a model (float vs quantized) and reading them as reals.

Used by `edgelite compare` and by the quantizer's selective quantization.
"""

from __future__ import annotations

import re

import numpy as np

from edgelite.model.ir import Model, Tensor


def dequantize(value: np.ndarray, tensor: Tensor) -> np.ndarray:
    """float64 real values: (q - zero_point) * scale for quantized integers, a plain cast otherwise."""
    quant = tensor.quantization
    if value.dtype.kind not in "iu" or quant is None or quant.scale.size == 0:
        return value.astype(np.float64)
    scale, zero_point = quant.scale.astype(np.float64), quant.zero_point.astype(np.float64)
    if scale.size > 1:  # per channel
        shape = [1] * value.ndim
        shape[quant.quantized_dimension] = scale.size
        scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
    return (value.astype(np.float64) - zero_point) * scale


def activations(model: Model) -> dict[int, tuple[int, str]]:
    """Tensors computed from the inputs (not from constants alone), in execution order -> (op index, op)."""
    graph = model.subgraphs[0]
    live = set(graph.inputs) | {i for i, t in enumerate(graph.tensors) if t.is_variable}
    produced: dict[int, tuple[int, str]] = {}
    for op_index, op in enumerate(graph.operators):
        if any(i in live for i in op.inputs if i >= 0):
            for index in op.outputs:
                if index >= 0 and index not in produced:
                    live.add(index)
                    produced[index] = (op_index, op.name)
    return produced


def _comparable(a: Tensor, b: Tensor) -> bool:
    """Numeric tensors of the same shape (dimensions unknown until run time match anything)."""
    if a.dtype.kind not in "biuf" or b.dtype.kind not in "biuf":
        return False
    shape_a, shape_b = a.shape_signature or a.shape, b.shape_signature or b.shape
    return len(shape_a) == len(shape_b) and all(x == y or -1 in (x, y)
                                                for x, y in zip(shape_a, shape_b, strict=True))


def _base(name: str) -> str:
    return re.sub(r"\d+$", "", name)


def match_tensors(model_a: Model, model_b: Model) -> list[tuple[int, int]]:
    """(A index, B index) pairs of activations, in A's execution order.

    A pair has the same name and shape. When the converter renamed an activation because a
    weight took its name (TensorFlow's float16 models: '...Squeeze1' -> '...Squeeze2'), a tensor
    left over on both sides is paired with the one partner whose name differs only in trailing
    digits; ambiguous cases stay unpaired.
    """
    graph_a, graph_b = model_a.subgraphs[0], model_b.subgraphs[0]
    acts_a, acts_b = activations(model_a), activations(model_b)
    by_name_b = {graph_b.tensors[i].name: i for i in acts_b}
    pairs: dict[int, int] = {}
    for i in acts_a:
        j = by_name_b.get(graph_a.tensors[i].name)
        if j is not None and _comparable(graph_a.tensors[i], graph_b.tensors[j]):
            pairs[i] = j
    taken = set(pairs.values())
    rest_a = [i for i in acts_a if i not in pairs]
    rest_b = [j for j in acts_b if j not in taken]
    for i in rest_a:
        base = _base(graph_a.tensors[i].name)
        same_a = [k for k in rest_a if _base(graph_a.tensors[k].name) == base]
        same_b = [j for j in rest_b if _base(graph_b.tensors[j].name) == base]
        if len(same_a) == 1 and len(same_b) == 1:
            j = same_b[0]
            if _comparable(graph_a.tensors[i], graph_b.tensors[j]):
                pairs[i] = j
    return [(i, pairs[i]) for i in acts_a if i in pairs]
