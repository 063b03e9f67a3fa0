"""What every mode receives: the model to rewrite in place, the options, and the report to fill."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from edgelite.model.ir import Model, Operator, Subgraph
from edgelite.optimize.quantize.calibrate import Calibration
from edgelite.optimize.quantize.report import OpDecision


@dataclass
class Context:
    model: Model  # a private copy of the float model: modes rewrite it in place
    per_channel: bool = True
    calibration: Calibration | None = None
    skip: tuple[str | int, ...] = ()
    input_type: np.dtype | None = None  # None: float32 model inputs
    output_type: np.dtype | None = None
    decisions: list[OpDecision] = field(default_factory=list)
    inserted: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    matched_skips: set = field(default_factory=set)
    int16: frozenset[int] = frozenset()  # int8 mode: node indices of subgraph 0 quantized int16x8

    def skipped(self, subgraph: int, index: int, op: Operator, graph: Subgraph) -> str | None:
        """The skip= entry naming this op (by op name, output tensor name, or index in subgraph 0)."""
        outputs = {graph.tensors[i].name for i in op.outputs if i >= 0}
        for entry in self.skip:
            if (isinstance(entry, int) and subgraph == 0 and entry == index) or \
                    (isinstance(entry, str) and (entry == op.name or entry in outputs)):
                self.matched_skips.add(entry)
                return str(entry)
        return None

    def decide(self, subgraph: int, index: int, op: Operator, graph: Subgraph, quantized: bool,
               kind: str, reason: str) -> None:
        output = graph.tensors[op.outputs[0]].name if op.outputs and op.outputs[0] >= 0 else ""
        self.decisions.append(OpDecision(subgraph, index, op.name, output, quantized,
                                         kind if quantized else "float", reason))

    def keep_float(self, subgraph: int, index: int, op: Operator, graph: Subgraph, reason: str) -> None:
        self.decide(subgraph, index, op, graph, False, "float", reason)
