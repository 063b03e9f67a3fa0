"""Representations of one tensor during full-integer rewriting: float32, int8 with some scale,
uint8, int16. Each original tensor keeps a map of the tensors holding it in each representation;
asking for a missing one emits a QUANTIZE (float or integer -> integer: quantize or requantize) or a
DEQUANTIZE (integer -> float) right before the node that needs it, once, shared by later readers.
"""

from __future__ import annotations

from collections import defaultdict

from edgelite.model.ir import Operator, Quantization, Subgraph, TensorType
from edgelite.optimize.quantize._graph import add_tensor
from edgelite.optimize.quantize.modes._context import Context

FLOAT = (int(TensorType.FLOAT32), (), ())


def key(type_: TensorType, quant: Quantization | None) -> tuple:
    if quant is None:
        return FLOAT
    return int(type_), tuple(quant.scale.tolist()), tuple(quant.zero_point.tolist())


class Views:
    def __init__(self, ctx: Context, graph: Subgraph, emitted: list[Operator]) -> None:
        self.ctx, self.graph, self.emitted = ctx, graph, emitted
        self.held: dict[int, dict[tuple, int]] = defaultdict(dict)
        self._names: set[str] = {t.name for t in graph.tensors}

    def hold(self, original: int, index: int, type_: TensorType, quant: Quantization | None) -> None:
        """Record that tensor `index` holds `original` as (type_, quant)."""
        self.held[original][key(type_, quant)] = index

    def get(self, original: int, type_: TensorType, quant: Quantization | None) -> int:
        """A tensor holding `original` as (type_, quant), converting now if none does yet."""
        wanted = key(type_, quant)
        if wanted in self.held[original]:
            return self.held[original][wanted]
        index = self.new(original, type_, quant, hold=False)
        self.convert(original, index, type_, quant)
        return index

    def new(self, original: int, type_: TensorType, quant: Quantization | None, hold: bool = True) -> int:
        """A new tensor for `original` as (type_, quant), to be written by a node the caller emits."""
        source = self.graph.tensors[original]
        index = add_tensor(self.graph, self._fresh(f"{source.name}_{type_.name.lower()}"), source,
                           type_, quant)
        if hold:
            self.hold(original, index, type_, quant)
        return index

    def convert(self, original: int, destination: int, type_: TensorType,
                quant: Quantization | None) -> None:
        """Emit the node writing `original` as (type_, quant) into tensor `destination`."""
        held = self.held[original]
        if not held:
            raise AssertionError(f"tensor {original} is read before any node writes it")
        if quant is not None and FLOAT in held:  # quantize from float: more precise than requantizing
            source = held[FLOAT]
        else:
            source = next(i for k, i in held.items() if k != FLOAT)
        opcode = "DEQUANTIZE" if quant is None else "QUANTIZE"
        self.emitted.append(Operator(opcode, (source,), (destination,)))
        self.ctx.inserted[opcode] += 1
        tensor = self.graph.tensors[destination]
        tensor.type, tensor.quantization = type_, quant
        self.hold(original, destination, type_, quant)

    def _fresh(self, name: str) -> str:
        candidate, n = name, 1
        while candidate in self._names:
            n += 1
            candidate = f"{name}_{n}"
        self._names.add(candidate)
        return candidate
