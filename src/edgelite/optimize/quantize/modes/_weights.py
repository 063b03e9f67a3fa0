"""Quantized copies of constant weight tensors, shared by every mode that rewrites weights."""

from __future__ import annotations

import numpy as np

from edgelite.model.ir import Model, Quantization, Subgraph, TensorType
from edgelite.optimize.quantize._graph import add_constant
from edgelite.optimize.quantize._params import quantize_weights, weight_scales


class WeightCache:
    """int8 symmetric copies of float constants, made once per (tensor, axis, scales)."""

    def __init__(self, model: Model, graph: Subgraph) -> None:
        self.model, self.graph = model, graph
        self._made: dict[tuple, int] = {}

    def int8(self, tensor_index: int, axis: int | None, scales: np.ndarray | None = None,
             spread: bool = False) -> int:
        """Index of an int8 copy of float constant `tensor_index`, per channel along `axis`.

        scales: given scales (else max|w|/127 per channel); spread: one per-tensor scale written
        once per channel along `axis` (for kernels that read only per-channel parameters).
        """
        tensor = self.graph.tensors[tensor_index]
        values = self.model.constant(tensor)
        if scales is None:
            scales = weight_scales(values, axis if not spread else None)
        key = (tensor_index, axis, spread, scales.tobytes())
        if key not in self._made:
            quantized = quantize_weights(values, scales, axis if scales.size > 1 else None)
            if spread and axis is not None:
                scales = np.full(values.shape[axis], scales[0], np.float32)
            quant = Quantization.of(scales, 0, axis if axis is not None else 0)
            self._made[key] = add_constant(self.model, self.graph, tensor.name, quantized,
                                           TensorType.INT8, quant)
        return self._made[key]
