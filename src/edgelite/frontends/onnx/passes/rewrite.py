"""Small graph-editing helpers the passes share: constants, new tensors, producers/consumers."""

from __future__ import annotations

import numpy as np

from edgelite.model.ir import Model, Operator, Subgraph, Tensor, TensorType


class Rewriter:
    """One subgraph being edited in place."""

    def __init__(self, model: Model, subgraph_index: int = 0) -> None:
        self.model = model
        self.graph: Subgraph = model.subgraphs[subgraph_index]
        self._names = {t.name for t in self.graph.tensors}

    def tensor(self, index: int) -> Tensor:
        return self.graph.tensors[index]

    def const(self, index: int) -> np.ndarray | None:
        """A tensor's constant value (None for -1 and for non-constant tensors)."""
        return None if index < 0 else self.model.constant(self.graph.tensors[index])

    def add_const(self, array: np.ndarray, name: str) -> int:
        array = np.ascontiguousarray(array)
        buffer = self.model.add_buffer(array) if array.size else 0
        return self._append(Tensor(self._unique(name), tuple(array.shape), TensorType.from_numpy(array.dtype),
                                   buffer))

    def add_tensor(self, like: Tensor, shape: tuple[int, ...], signature: tuple[int, ...] | None,
                   name: str) -> int:
        """A non-constant tensor of `like`'s type and quantization with a new shape."""
        signature = signature if signature is not None and -1 in signature else None
        return self._append(Tensor(self._unique(name), tuple(shape), like.type, 0, like.quantization,
                                   shape_signature=signature))

    def consumers(self) -> dict[int, list[Operator]]:
        readers: dict[int, list[Operator]] = {}
        for op in self.graph.operators:
            for i in set(op.inputs):
                if i >= 0:
                    readers.setdefault(i, []).append(op)
        return readers

    def producers(self) -> dict[int, Operator]:
        return {i: op for op in self.graph.operators for i in op.outputs}

    def replace_uses(self, old: int, new: int) -> None:
        for op in self.graph.operators:
            if old in op.inputs:
                op.inputs = tuple(new if i == old else i for i in op.inputs)

    def bypass(self, op: Operator) -> bool:
        """Remove a single-output op that copies its input 0 (same shape), rewiring its readers.

        When the output is a graph output, the input's producer writes it directly instead (if
        the input is an op's result that is neither a graph input nor output). False if impossible.
        """
        source, result = op.inputs[0], op.outputs[0]
        graph = self.graph
        if result in graph.outputs:
            producer = self.producers().get(source)
            if producer is None or source in graph.inputs or source in graph.outputs:
                return False
            producer.outputs = tuple(result if i == source else i for i in producer.outputs)
            graph.operators.remove(op)
            self.replace_uses(source, result)
            return True
        graph.operators.remove(op)
        self.replace_uses(result, source)
        return True

    def _append(self, tensor: Tensor) -> int:
        self.graph.tensors.append(tensor)
        return len(self.graph.tensors) - 1

    def _unique(self, name: str) -> str:
        base, k = name, 0
        while name in self._names:
            k += 1
            name = f"{base}_{k}"
        self._names.add(name)
        return name


def signature_of(tensor: Tensor) -> tuple[int, ...]:
    """The tensor's shape with -1 for dynamic dims."""
    return tuple(tensor.shape_signature) if tensor.shape_signature is not None else tuple(tensor.shape)
