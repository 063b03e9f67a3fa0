"""`edgelite.optimize.compress_lut`: store clustered weights in TensorFlow Lite Micro's LUT
compression (model/_lut.py), so that k distinct values take ceil(log2 k) bits per weight on a
microcontroller. TFLM-only: LiteRT refuses such files (their weight buffers are too short for
the tensor shapes); the dense clustered file is the one for LiteRT."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable
from dataclasses import dataclass

from edgelite.model import _lut
from edgelite.model.ir import Model
from edgelite.optimize import _layers
from edgelite.optimize.sparse_storage import densify_constants

# Inputs TFLM's kernels decompress: (op, input slot) of weights and bias.
LUT_INPUTS = {("FULLY_CONNECTED", 1), ("FULLY_CONNECTED", 2), ("CONV_2D", 1), ("CONV_2D", 2),
              ("DEPTHWISE_CONV_2D", 1), ("DEPTHWISE_CONV_2D", 2), ("TRANSPOSE_CONV", 1),
              ("TRANSPOSE_CONV", 3)}


@dataclass
class LutTensorReport:
    subgraph: int
    tensor: int
    name: str
    index_bits: int
    channels: int  # value tables (one per channel of a per-channel quantized tensor)
    dense_bytes: int
    lut_bytes: int  # packed indices + value tables


def compress_lut(model: Model | str | os.PathLike | bytes, skip: Iterable[str | int] = (),
                 return_report: bool = False) -> Model | tuple[Model, list[LutTensorReport]]:
    """A copy of `model` whose weights and biases (FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D,
    TRANSPOSE_CONV) are written LUT-compressed wherever that is smaller: at most 128 distinct
    values per table (per channel for per-channel quantized tensors). Sparse constants come back
    dense (a tensor is either sparse or LUT-compressed). skip: tensor names or indices kept as
    they are. The Model stays dense in memory; `save` / `to_bytes` write the compressed form."""
    result = copy.deepcopy(_layers.load(model))
    densify_constants(result)
    skip = {skip} if isinstance(skip, (str, int)) else set(skip)
    report = []
    for s, graph in enumerate(result.subgraphs):
        for index in _candidates(graph):
            tensor = graph.tensors[index]
            values = result.constant(tensor)
            if tensor.lut or {index, tensor.name} & skip or values is None or tensor.sparsity is not None:
                continue
            encoded = _lut.encode(values, tensor)
            if encoded is None:
                continue
            packed, tables, bits = encoded
            size = packed.nbytes + tables.nbytes
            if size + _lut.ENTRY_OVERHEAD >= values.nbytes:
                continue
            tensor.lut = True
            channels = _lut.channel_layout(tensor)[0]
            report.append(LutTensorReport(s, index, tensor.name, bits, channels, values.nbytes, size))
    return (result, report) if return_report else result


def _candidates(graph) -> list[int]:
    """Tensors read only at the weight / bias inputs of the ops TFLM decompresses."""
    good, bad = set(), set(graph.inputs) | set(graph.outputs)
    for op in graph.operators:
        for slot, index in enumerate(op.inputs):
            if index >= 0:
                (good if (op.opcode, slot) in LUT_INPUTS else bad).add(index)
        bad |= set(op.outputs)
    return sorted(good - bad)


def lut_size(model: Model) -> int:
    """Bytes of the .tflite file with every eligible weight LUT-compressed."""
    return len(compress_lut(model).to_bytes())
