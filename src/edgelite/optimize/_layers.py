"""What pruning and clustering share: the weight tensors they rewrite, seen as [rows, columns]
matrices (rows = output channels, columns = the inputs each output reads), and the activations
that reach them when the model runs on calibration data (batched, in edgelite)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgelite.errors import EdgeliteError
from edgelite.model.ir import Model, Operator, TensorType
from edgelite.ops._common import conv_output_size
from edgelite.ops._conv import patches

WEIGHT_OPS = ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D")
BATCH = 256  # samples per interpreter run
ALL_TYPES = (TensorType.FLOAT32, TensorType.FLOAT16, TensorType.INT8)


class OptimizationError(EdgeliteError, ValueError):
    """A pruning / clustering / pipeline request that cannot be honoured."""


@dataclass
class Layer:
    """One op whose constant float weights are rewritten (subgraph 0)."""

    op_index: int
    op: Operator
    weight: int  # tensor index of the weights (input 1)

    @property
    def opcode(self) -> str:
        return self.op.opcode


def load(model: Model | str | os.PathLike | bytes) -> Model:
    if isinstance(model, Model):
        return model
    from edgelite.model.reader import load as read

    return read(model)


def layers(model: Model, ops: Iterable[str], skip: Iterable[str | int] = (),
           types: Iterable[TensorType] = (TensorType.FLOAT32,)) -> list[Layer]:
    """The ops of subgraph 0 named in `ops` with constant weights of `types`, minus `skip`
    (op names, weight or output tensor names, or op indices)."""
    if isinstance(skip, (str, int)):
        skip = (skip,)
    skip, ops, types = set(skip), set(ops), set(types)
    graph = model.subgraphs[0]
    found = []
    for index, op in enumerate(graph.operators):
        if op.opcode not in ops or len(op.inputs) < 2 or op.inputs[1] < 0:
            continue
        weight = graph.tensors[op.inputs[1]]
        names = {op.opcode, index, weight.name, *(graph.tensors[o].name for o in op.outputs)}
        if names & skip or weight.type not in types or weight.sparsity is not None \
                or model.constant(weight) is None:
            continue
        found.append(Layer(index, op, op.inputs[1]))
    return found


def rows_axis(opcode: str) -> int:
    """The output-channel axis of the weights (depthwise filters are [1, kh, kw, channels])."""
    return 3 if opcode == "DEPTHWISE_CONV_2D" else 0


def as_matrix(weights: np.ndarray, opcode: str) -> np.ndarray:
    """[rows, columns] view: one row per output channel, columns in the stored order."""
    if opcode == "DEPTHWISE_CONV_2D":
        return weights.reshape(-1, weights.shape[3]).T
    return weights.reshape(weights.shape[0], -1)


def from_matrix(matrix: np.ndarray, shape: tuple[int, ...], opcode: str) -> np.ndarray:
    if opcode == "DEPTHWISE_CONV_2D":
        return np.ascontiguousarray(matrix.T).reshape(shape)
    return matrix.reshape(shape)


def weights_of(model: Model, layer: Layer) -> np.ndarray:
    return np.array(model.constant(model.subgraphs[0].tensors[layer.weight]))


def set_weights(model: Model, layer_or_tensor: Layer | int, values: np.ndarray) -> None:
    """Store new values for a weight tensor in a buffer of its own (buffers may be shared)."""
    index = layer_or_tensor.weight if isinstance(layer_or_tensor, Layer) else layer_or_tensor
    tensor = model.subgraphs[0].tensors[index]
    tensor.buffer = model.add_buffer(np.ascontiguousarray(values, dtype=tensor.dtype))
    tensor.lut = False  # new values may not fit a LUT: compress_lut decides again


def batches(model: Model, data: Any, limit: int | None = None) -> list[list[np.ndarray]]:
    """Calibration data in any form `edgelite.quantize` accepts, as batched arrays per input."""
    from edgelite.optimize.quantize.calibrate import samples_of

    graph = model.subgraphs[0]
    shapes = [tuple(graph.tensors[i].shape) for i in graph.inputs]
    columns: list[list[np.ndarray]] = [[] for _ in shapes]
    for count, sample in enumerate(samples_of(data, model)):
        if limit is not None and count >= limit:
            break
        for column, value, shape in zip(columns, sample, shapes, strict=True):
            value = np.asarray(value)
            column.append(value if value.ndim == len(shape) else value[None])
    if not columns or not columns[0]:
        raise OptimizationError("the calibration data yielded no samples; give at least one input sample")
    stacked = [np.concatenate(column) for column in columns]
    return [[s[k:k + BATCH] for s in stacked] for k in range(0, len(stacked[0]), BATCH)]


def run(model: Model, data: list[list[np.ndarray]], tensors: Iterable[int] = ()) -> dict[int, np.ndarray]:
    """Run `model` on batched `data`; the graph outputs (keys = output tensor indices) and the
    requested intermediate tensors, concatenated over all batches. A model whose shapes are
    fixed to batch 1 (a RESHAPE to [1, n]) runs one sample at a time."""
    from edgelite.runtime.interpreter import Interpreter

    graph = model.subgraphs[0]
    wanted = list(dict.fromkeys([*tensors, *graph.outputs]))
    interpreter = Interpreter(model_content=model.to_bytes(), experimental_preserve_all_tensors=True)
    details = interpreter.get_input_details()
    found: dict[int, list[np.ndarray]] = {i: [] for i in wanted}
    for batch in data:
        parts = [batch] if _allocate(interpreter, details, batch) else \
            [[column[k:k + 1] for column in batch] for k in range(len(batch[0]))]
        for part in parts:
            if part is not batch:
                _allocate(interpreter, details, part, retry=False)
            for detail, value in zip(details, part, strict=True):
                interpreter.set_tensor(detail["index"], value.astype(detail["dtype"], copy=False))
            interpreter.invoke()
            for i in wanted:
                found[i].append(interpreter.get_tensor(i))
    return {i: np.concatenate(values) for i, values in found.items()}


def _allocate(interpreter: Any, details: list[dict], batch: list[np.ndarray], retry: bool = True) -> bool:
    """Size the inputs for `batch`; False when the model cannot take it but could take one sample."""
    for detail, value in zip(details, batch, strict=True):
        interpreter.resize_tensor_input(detail["index"], value.shape)
    try:
        interpreter.allocate_tensors()
    except EdgeliteError:
        if not retry or len(batch[0]) == 1:
            raise
        return False
    return True


def layer_columns(layer: Layer, x: np.ndarray, kernel: tuple[int, int]) -> np.ndarray:
    """The [samples, columns] inputs that the weight matrix's rows multiply (im2col for convs)."""
    if layer.opcode == "FULLY_CONNECTED":
        return x.reshape(-1, x.shape[-1]) if x.ndim > 1 else x[None]
    o = layer.op.options
    stride, dilation = (o.stride_h, o.stride_w), (o.dilation_h_factor, o.dilation_w_factor)
    out_hw = tuple(conv_output_size(x.shape[1 + a], kernel[a], stride[a], dilation[a], o.padding)
                   for a in range(2))
    cols = patches(x, kernel, stride, dilation, out_hw, o.padding)
    return cols.reshape(-1, kernel[0] * kernel[1] * x.shape[3])


def hessian(layer: Layer, x: np.ndarray, shape: tuple[int, ...], bias: bool = False,
            target: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """(X^T X, X^T Y) over the layer's input columns X (float64): the proxy Hessian of
    OBS/SparseGPT and its cross term with the columns Y of `target` (the float model's inputs of
    the layer; X itself when None). With `bias`, a last column of ones (so OBS updates the bias
    too). None where the rows do not all read the same columns (depthwise, grouped convs)."""
    if layer.opcode == "DEPTHWISE_CONV_2D" or (layer.opcode == "CONV_2D" and x.shape[-1] != shape[-1]):
        return None
    kernel = tuple(shape[1:3]) if layer.opcode == "CONV_2D" else (1, 1)
    columns = shape[-1] if layer.opcode == "FULLY_CONNECTED" else int(np.prod(shape[1:]))
    gram, cross = np.zeros((columns + bias, columns + bias)), np.zeros((columns + bias, columns + bias))
    for start in range(0, len(x), 64):
        cols = _with_ones(layer_columns(layer, x[start:start + 64], kernel), bias)
        gram += cols.T @ cols
        if target is not None:
            cross += cols.T @ _with_ones(layer_columns(layer, target[start:start + 64], kernel), bias)
    return gram, (gram if target is None else cross)


def _with_ones(cols: np.ndarray, bias: bool) -> np.ndarray:
    cols = cols.astype(np.float64)
    return np.concatenate([cols, np.ones((len(cols), 1))], axis=1) if bias else cols
