"""Single-op models whose weights are sparse constants, in both of TFLite's file forms: behind a
DENSIFY op (what TensorFlow's converter and edgelite.prune write) or read directly by the op."""

from __future__ import annotations

import numpy as np

from edgelite.model.ir import Model
from edgelite.optimize.quantize._graph import prune as drop_unused
from edgelite.optimize.sparse_storage import store_sparse
from tests.ops.harness import single_op_model

PATTERNS = ("unstructured", "block(1,4)", "block(1,16)")
LAYOUTS = ("csr", "csr(rows)", "block(1,4)", "block(1,16)")


def sparse_weights(rng: np.random.Generator, shape: tuple, sparsity: float, pattern: str,
                   dtype=np.float32) -> np.ndarray:
    """Random weights with `sparsity` of them zero: single values, or blocks along the last axis."""
    block = 1 if pattern == "unstructured" else int(pattern[len("block(1,"):-1])
    if dtype == np.int8:
        dense = rng.integers(-127, 128, size=shape).astype(np.int8)
        dense[dense == 0] = 1
    else:
        dense = rng.standard_normal(shape).astype(dtype)
    blocks = dense.reshape(*shape[:-1], shape[-1] // block, block)
    keep = rng.random(blocks.shape[:-1]) >= sparsity
    blocks *= keep[..., None].astype(dense.dtype)
    return dense


def sparse_model(opcode: str, operands: list, options, weight_input: int, layout: str,
                 direct: bool = False, **kwargs) -> Model:
    """The single-op model with input `weight_input` stored in `layout` behind DENSIFY, or (direct)
    read by the op itself."""
    model = single_op_model(opcode, operands, options, **kwargs)
    graph = model.subgraphs[0]
    weight = graph.operators[0].inputs[weight_input]
    chosen = store_sparse(model, [weight], layout, force=True)
    assert chosen[weight] == layout, f"{layout} does not apply to {graph.tensors[weight].shape}"
    if direct:
        densify = next(op for op in graph.operators if op.opcode == "DENSIFY")
        for op in graph.operators:
            op.inputs = tuple(densify.inputs[0] if i == densify.outputs[0] else i for i in op.inputs)
        graph.operators.remove(densify)
        drop_unused(model)
    return model
