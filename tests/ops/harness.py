"""Single-op models run in edgelite and in the official runtime (ai-edge-litert), compared."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from edgelite.model.ir import Model, Operator, Quantization, Sparsity, Subgraph, Tensor, TensorType
from edgelite.ops.base import Node
from edgelite.ops.registry import lookup


@dataclass
class Const:
    """A constant operand of a single-op model."""

    value: np.ndarray
    quantization: Quantization | None = None
    sparsity: Sparsity | None = None
    dense_shape: tuple[int, ...] | None = None  # required with sparsity: value holds packed values


@dataclass
class Input:
    """A graph-input operand with quantization parameters."""

    value: np.ndarray
    quantization: Quantization | None = None


def const(value: Any, quantization: Quantization | None = None, sparsity: Sparsity | None = None,
          dense_shape: tuple[int, ...] | None = None) -> Const:
    if sparsity is not None and dense_shape is None:
        raise ValueError("a sparse constant needs dense_shape=: its value holds only the packed values")
    return Const(np.asarray(value), quantization, sparsity, dense_shape)


def single_op_model(opcode: str, operands: list, options: Any = None, *, output_dtypes=None,
                    output_shapes=None, output_quant=None, num_outputs: int = 1, version: int = 1,
                    custom_code: str | None = None, custom_options: bytes | None = None) -> Model:
    """A Model with one operator; output shapes from edgelite's shape function unless given."""
    model = Model(subgraphs=[Subgraph(name="main")])
    graph = model.subgraphs[0]
    op_inputs, graph_inputs = [], []
    for i, operand in enumerate(operands):
        if operand is None:
            op_inputs.append(-1)
            continue
        if not isinstance(operand, (Const, Input)):
            operand = Input(np.asarray(operand))
        value = operand.value
        buffer = model.add_buffer(value) if isinstance(operand, Const) else 0
        sparsity = getattr(operand, "sparsity", None)
        shape = tuple(value.shape) if sparsity is None else tuple(operand.dense_shape)
        graph.tensors.append(Tensor(f"input_{i}", shape, TensorType.from_numpy(value.dtype), buffer,
                                    operand.quantization, sparsity))
        op_inputs.append(len(graph.tensors) - 1)
        if isinstance(operand, Input):
            graph_inputs.append(len(graph.tensors) - 1)
    op = Operator(opcode, tuple(op_inputs), (), options, custom_code=custom_code,
                  custom_options=custom_options, version=version)
    if output_shapes is None:
        output_shapes = _edgelite_shapes(model, op)
    dtypes = output_dtypes or [operands[0].value.dtype if isinstance(operands[0], (Const, Input))
                               else np.asarray(operands[0]).dtype] * num_outputs
    quants = output_quant or [None] * num_outputs
    outputs = []
    for k in range(num_outputs):
        graph.tensors.append(Tensor(f"output_{k}", tuple(output_shapes[k] or ()),
                                    TensorType.from_numpy(dtypes[k]), 0, quants[k]))
        outputs.append(len(graph.tensors) - 1)
    op.outputs = tuple(outputs)
    graph.operators.append(op)
    graph.inputs, graph.outputs = tuple(graph_inputs), tuple(outputs)
    return model


def _edgelite_shapes(model: Model, op: Operator) -> list:
    graph = model.subgraphs[0]
    tensors = [graph.tensors[i] if i >= 0 else None for i in op.inputs]
    node = Node(0, op, tensors, [], [None if t is None else t.shape for t in tensors],
                [None if t is None else model.constant(t) for t in tensors])
    opdef = lookup(op.name)
    if opdef is None or opdef.shape is None:
        raise AssertionError(f"{op.name}: no edgelite shape function; pass output_shapes=")
    return opdef.shape(node)


def graph_feeds(operands: list) -> list[np.ndarray]:
    return [np.asarray(o.value if isinstance(o, Input) else o) for o in operands
            if o is not None and not isinstance(o, Const)]


def run_litert(model_bytes: bytes, feeds: list[np.ndarray]) -> list[np.ndarray]:
    litert = pytest.importorskip("ai_edge_litert.interpreter",
                                 reason="ai-edge-litert (the oracle) is not installed")
    interpreter = litert.Interpreter(
        model_content=model_bytes,
        experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    return _run(interpreter, feeds)


def run_edgelite(model_bytes: bytes, feeds: list[np.ndarray]) -> list[np.ndarray]:
    import edgelite

    return _run(edgelite.Interpreter(model_content=model_bytes), feeds)


def _run(interpreter: Any, feeds: list[np.ndarray]) -> list[np.ndarray]:
    for detail, value in zip(interpreter.get_input_details(), feeds, strict=True):
        if tuple(detail["shape"]) != value.shape:
            interpreter.resize_tensor_input(detail["index"], value.shape)
    interpreter.allocate_tensors()
    for detail, value in zip(interpreter.get_input_details(), feeds, strict=True):
        interpreter.set_tensor(detail["index"], value)
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]


def assert_same(ours: list[np.ndarray], theirs: list[np.ndarray], rtol: float, atol: float) -> None:
    assert len(ours) == len(theirs)
    for k, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert a.shape == b.shape, f"output {k}: shape {a.shape} != LiteRT {b.shape}"
        assert a.dtype == b.dtype, f"output {k}: dtype {a.dtype} != LiteRT {b.dtype}"
        if np.issubdtype(a.dtype, np.floating):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"output {k}")
        else:
            np.testing.assert_array_equal(a, b, err_msg=f"output {k}")


def check_op(opcode: str, operands: list, options: Any = None, *, rtol: float = 1e-5, atol: float = 1e-6,
             **model_kwargs: Any) -> list[np.ndarray]:
    """Run a one-op model in edgelite and LiteRT, assert they agree, return edgelite's outputs."""
    model_bytes = single_op_model(opcode, operands, options, **model_kwargs).to_bytes()
    feeds = graph_feeds(operands)
    theirs = run_litert(model_bytes, feeds)
    ours = run_edgelite(model_bytes, feeds)
    assert_same(ours, theirs, rtol, atol)
    return ours
