"""Cut one operator out of a model as a model of its own (for per-op profiling and debugging)."""

from __future__ import annotations

import dataclasses

from edgelite.errors import ModelError
from edgelite.model.ir import Model, Operator, Subgraph


def single_op_model(model: Model, op_index: int, subgraph_index: int = 0) -> Model:
    """A model running only operator op_index: its constant inputs keep their data, every other
    input becomes a graph input, its outputs the graph outputs."""
    if not 0 <= subgraph_index < len(model.subgraphs):
        raise ModelError(f"subgraph {subgraph_index} does not exist (the model has {len(model.subgraphs)})")
    source = model.subgraphs[subgraph_index]
    if not 0 <= op_index < len(source.operators):
        raise ModelError(f"operator {op_index} does not exist (subgraph {subgraph_index} has "
                         f"{len(source.operators)})")
    op = source.operators[op_index]
    if op.intermediates:
        raise ModelError(f"operator {op_index} ({op.name}) has intermediate tensors: it cannot run alone")
    result = Model(description=f"operator {op_index} ({op.name}) of {model.description or 'a model'}")
    subgraph = Subgraph(name=f"op{op_index}")
    renumber: dict[int, int] = {}
    graph_inputs: list[int] = []

    def copy(index: int, is_output: bool) -> int:
        if index < 0:
            return index
        if index not in renumber:
            tensor = source.tensors[index]
            data = None if is_output else model.buffers[tensor.buffer]
            has_data = data is not None and data.size > 0
            buffer = result.add_buffer(data) if has_data else 0
            subgraph.tensors.append(dataclasses.replace(tensor, buffer=buffer))
            renumber[index] = len(subgraph.tensors) - 1
            if not has_data and not is_output and not tensor.is_variable:
                graph_inputs.append(renumber[index])
        return renumber[index]

    inputs = tuple(copy(i, False) for i in op.inputs)
    outputs = tuple(copy(i, True) for i in op.outputs)
    subgraph.operators.append(dataclasses.replace(op, inputs=inputs, outputs=outputs))
    subgraph.inputs, subgraph.outputs = tuple(graph_inputs), outputs
    result.subgraphs.append(subgraph)
    return result


def is_self_contained(op: Operator) -> bool:
    """Whether the op can run alone (control flow and stateful ops call or keep other graph parts)."""
    return op.opcode not in {"WHILE", "IF", "CALL_ONCE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE"} \
        and not op.intermediates
