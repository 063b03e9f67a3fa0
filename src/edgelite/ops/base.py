"""The contract between the runtime and one op: the Node a kernel sees and the OpDef it exports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgelite.errors import UnsupportedOpError
from edgelite.model.ir import Operator, Tensor, TensorType

Shape = tuple[int, ...]


@dataclass
class Node:
    """One operator as a kernel or shape function sees it.

    At prepare time `inputs` holds the values known then (constants, folded shapes) and None
    elsewhere, and `outputs` is empty. At invoke time every present input is an array and
    `outputs` holds the arena views the kernel must fill in place (`out[...] = ...`).
    Omitted optional inputs (index -1) are None in both `inputs` and `input_tensors`.
    """

    index: int
    op: Operator
    input_tensors: list[Tensor | None]
    output_tensors: list[Tensor]
    input_shapes: list[Shape | None]
    inputs: list[np.ndarray | None]
    outputs: list[np.ndarray] = field(default_factory=list)
    runtime: Any = None  # the executor, for ops that call subgraphs

    @property
    def options(self) -> Any:
        return self.op.options

    def input_type(self, i: int = 0) -> TensorType:
        tensor = self.input_tensors[i]
        if tensor is None:
            raise ValueError(f"{self.describe()}: optional input {i} is absent")
        return tensor.type

    def describe(self) -> str:
        """'CONV_2D (node 3)' — used to start every error message about this node."""
        return f"{self.op.name} (node {self.index})"

    def unsupported(self, why: str) -> UnsupportedOpError:
        return UnsupportedOpError(f"{self.describe()}: {why}")


ShapeFn = Callable[[Node], list]
KernelFn = Callable[[Node], None]
CheckFn = Callable[[Node], None]


@dataclass(frozen=True)
class OpDef:
    """What an op module exports as `OP`.

    run:     fills node.outputs from node.inputs (numpy reference kernel).
    shape:   output shapes from input shapes/known values; an entry of None means the shape
             depends on input data not known yet (a dynamic output). Default: the shapes stored
             in the model.
    check:   prepare-time validation; raises UnsupportedOpError/ModelError naming the node.
    types:   input-0 tensor types the kernel supports (None = any).
    options: the dataclass holding the op's builtin options (None for ops without options).
    """

    name: str
    run: KernelFn
    shape: ShapeFn | None = None
    check: CheckFn | None = None
    types: frozenset[TensorType] | None = None
    options: type | None = None


FLOAT = frozenset({TensorType.FLOAT32})
NUMERIC = frozenset({TensorType.FLOAT32, TensorType.INT32, TensorType.INT64, TensorType.INT8,
                     TensorType.UINT8, TensorType.INT16})
