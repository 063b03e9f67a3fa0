"""ONNX-level pattern recognition before conversion: decomposed ops TFLite has natively.

- Erf-GELU  x * 0.5 * (1 + erf(x / sqrt(2)))  (any association of the products)  -> Gelu
- x * HardSigmoid(x, alpha=1/6, beta=0.5)                                    -> HardSwish

A match is replaced only when its intermediate tensors are read nowhere else.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import onnx
from onnx import helper, numpy_helper


class _Graph:
    def __init__(self, graph: onnx.GraphProto) -> None:
        self.graph = graph
        self.producer = {o: n for n in graph.node for o in n.output}
        self.uses = Counter(i for n in graph.node for i in n.input)
        self.uses.update(o.name for o in graph.output)
        self.constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        for node in graph.node:
            if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
                self.constants[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)

    def scalar(self, name: str) -> float | None:
        value = self.constants.get(name)
        return float(value.reshape(-1)[0]) if value is not None and value.size == 1 else None

    def node(self, name: str, op_type: str) -> onnx.NodeProto | None:
        node = self.producer.get(name)
        if node is None or node.op_type != op_type or node.domain not in ("", "ai.onnx"):
            return None
        return node

    def private(self, *names: str) -> bool:
        return all(self.uses[n] == 1 for n in names)


def _split(g: _Graph, node: onnx.NodeProto, value: float) -> str | None:
    """The non-constant operand of a binary node whose other operand is the scalar `value`."""
    for a, b in ((0, 1), (1, 0)):
        constant = g.scalar(node.input[b])
        if constant is not None and np.isclose(constant, value, rtol=1e-5):
            return node.input[a]
    return None


def _erf_gelu(g: _Graph, out: onnx.NodeProto) -> tuple[str, list[onnx.NodeProto]] | None:
    """Match the final Mul of x * 0.5 * (1 + erf(x / sqrt 2)); return (x, matched nodes)."""
    if out.op_type != "Mul":
        return None
    for a, b in ((0, 1), (1, 0)):
        inner = g.node(out.input[a], "Mul")
        if inner is None or not g.private(inner.output[0]):
            continue
        half_outer = g.scalar(out.input[b])
        if half_outer is not None and np.isclose(half_outer, 0.5):  # (x * (1 + erf)) * 0.5
            for c, d in ((0, 1), (1, 0)):
                found = _one_plus_erf(g, inner.input[d], inner.input[c])
                if found is not None:
                    return inner.input[c], [out, inner, *found]
        for c, d in ((0, 1), (1, 0)):  # (x * 0.5) * (1 + erf)   or   x * ((1 + erf) * 0.5)
            if g.scalar(inner.input[d]) is not None and np.isclose(g.scalar(inner.input[d]), 0.5):
                found = _one_plus_erf(g, out.input[b], inner.input[c])
                if found is not None:
                    return inner.input[c], [out, inner, *found]
                found = _one_plus_erf(g, inner.input[c], out.input[b])
                if found is not None:
                    return out.input[b], [out, inner, *found]
    return None


def _one_plus_erf(g: _Graph, name: str, x: str) -> list[onnx.NodeProto] | None:
    add = g.node(name, "Add")
    if add is None or not g.private(name):
        return None
    erf_out = _split(g, add, 1.0)
    erf = g.node(erf_out, "Erf") if erf_out is not None else None
    if erf is None or not g.private(erf_out):
        return None
    scaled = g.node(erf.input[0], "Div") or g.node(erf.input[0], "Mul")
    if scaled is None or not g.private(erf.input[0]) or scaled.input[0] != x:
        return None
    factor = g.scalar(scaled.input[1])
    want = np.sqrt(2.0) if scaled.op_type == "Div" else 1 / np.sqrt(2.0)
    if factor is None or not np.isclose(factor, want, rtol=1e-5):
        return None
    return [add, erf, scaled]


def _hard_swish(g: _Graph, out: onnx.NodeProto) -> tuple[str, list[onnx.NodeProto]] | None:
    if out.op_type != "Mul":
        return None
    for a, b in ((0, 1), (1, 0)):
        gate = g.node(out.input[b], "HardSigmoid")
        if gate is None or gate.input[0] != out.input[a] or not g.private(out.input[b]):
            continue
        attrs = {attr.name: helper.get_attribute_value(attr) for attr in gate.attribute}
        if np.isclose(attrs.get("alpha", 0.2), 1 / 6) and np.isclose(attrs.get("beta", 0.5), 0.5):
            return out.input[a], [out, gate]
    return None


def recognize(model: onnx.ModelProto) -> int:
    """Rewrite the patterns in place (main graph); return how many were replaced."""
    graph, count = model.graph, 0
    for matcher, op_type in ((_erf_gelu, "Gelu"), (_hard_swish, "HardSwish")):
        g = _Graph(graph)
        replaced: dict[int, onnx.NodeProto] = {}
        dropped: set[int] = set()
        for node in graph.node:
            if id(node) in dropped:
                continue
            found = matcher(g, node)
            if found is None or any(id(n) in dropped for n in found[1]):
                continue
            x, nodes = found
            replaced[id(node)] = helper.make_node(op_type, [x], [node.output[0]], name=node.name or None)
            dropped.update(id(n) for n in nodes if n is not node)
            count += 1
        if replaced:
            kept = [replaced.get(id(n), n) for n in graph.node if id(n) not in dropped]
            del graph.node[:]
            graph.node.extend(kept)
    return count
