"""The compiled path of allocate_tensors: plan and lowering of a whole subgraph in one C call.

`compiled_executor` hands the reader's walker tuples to `_engine.compile` (native/compile.c), which
infers every shape, plans the arena and lowers every node exactly as runtime/plan.py and the
lowerers of runtime/native*.py would, or defers (anything it does not know: an op, a dtype, an
option, a variable, a custom resolver, ...), and then the Python path runs as before. Its result
becomes a `CompiledExecutor`: a NativeExecutor whose whole subgraph is one native segment, over a
`CompiledPlan` whose per-node parts (`nodes`, `constants`) are built only when someone asks for them
(partition, profiling, inspect): the common start-up (allocate, set, invoke, get) builds no Python
object per node or per tensor.

Tables the C side needs from Python (int8 activation tables run on the reference kernels, softmax's
exp table, ...) come through `_table(kind, args)`: runtime/int8_tables.TABLES[kind](*args) -> bytes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from edgelite.model.ir import Model
from edgelite.runtime import native, native_qgemm
from edgelite.runtime.executor import _arena
from edgelite.runtime.native import NativeExecutor
from edgelite.runtime.plan import Plan, _constants, build_plan

_SKIP = object()  # values[i] not looked up yet


def compiled_executor(model: Model, input_shapes: dict[int, tuple[int, ...]],
                      num_threads: int | None) -> CompiledExecutor | None:
    """The executor of subgraph 0 from one `_engine.compile` call, or None when it defers."""
    walked = getattr(model, "_walked", None)  # model/_native.Walked, set by the reader's walker
    if walked is None or native._engine is None:
        return None
    data, raw = walked.data, walked.raw
    threads = native.thread_count(num_threads)
    dw_format = -1 if native_qgemm.DW_FORMAT == "auto" else int(native_qgemm.DW_FORMAT == "quads")
    result = native._engine.compile(raw[4][0], raw[2], raw[1], raw[7], raw[8], data, input_shapes, threads,
                                    native_qgemm.prefer_quads(), dw_format, _table)
    if result[0] is None:
        return None
    try:
        return CompiledExecutor(model, input_shapes, result, num_threads)
    except native._engine.NodeRefused:  # a node past what the engine takes: the Python path partitions
        return None


def _table(kind: str, args: tuple) -> bytes:
    from edgelite.runtime.int8_tables import TABLES

    return TABLES[kind](*args)


class CompiledPlan(Plan):
    """A Plan from the compiler: shapes and arena now; `nodes`, `constants` and `arena_offsets` on
    first use (the Python planner's nodes, which the compiler's tests show it matches)."""

    def __init__(self, model: Model, input_shapes: dict, shapes: tuple, offsets: tuple, arena_size: int,
                 lower_bound: int, folding: tuple | None) -> None:  # no super().__init__: lazy fields
        self.model, self.subgraph_index, self.preserved = model, 0, False
        self.shapes, self.arena_size, self.arena_lower_bound = list(shapes), arena_size, lower_bound
        self.dynamic_tensors: set[int] = set()
        self._input_shapes, self._offsets, self._folding = input_shapes, offsets, folding

    def __getattr__(self, name: str) -> Any:  # only for attributes not set yet
        if name == "nodes":
            self.nodes = build_plan(self.model, 0, self._input_shapes).nodes
            return self.nodes
        if name == "constants":
            self.constants = self._built_constants()
            return self.constants
        if name == "arena_offsets":
            self.arena_offsets = {i: offset for i, offset in enumerate(self._offsets) if offset >= 0}
            return self.arena_offsets
        raise AttributeError(name)

    def _built_constants(self) -> dict[int, np.ndarray]:
        constants = _constants(self.model, self.subgraph)[0]
        if self._folding is not None:
            block, offset, folded = self._folding
            for target, first in folded:
                shape = self.shapes[target]
                constants[target] = np.frombuffer(block, np.float32, math.prod(shape),
                                                  offset + 4 * first).reshape(shape)
        return constants


class CompiledValues:
    """executor.values of a CompiledExecutor: each tensor's array made on first use (the arena view
    or the constant), as ReferenceExecutor builds them all up front. Holds no executor (no cycle)."""

    def __init__(self, plan: CompiledPlan, arena: np.ndarray) -> None:
        self._plan, self._arena = plan, arena
        self._values: list[Any] = [_SKIP] * len(plan.shapes)

    def __len__(self) -> int:
        return len(self._values)

    def __getitem__(self, i: int) -> np.ndarray | None:
        value = self._values[i]
        if value is _SKIP:
            value = self._values[i] = self._value_of(i)
        return value

    def __setitem__(self, i: int, value: np.ndarray | None) -> None:
        self._values[i] = value

    def __iter__(self):
        return (self[i] for i in range(len(self._values)))

    def _value_of(self, i: int) -> np.ndarray | None:
        plan = self._plan
        offset = plan._offsets[i]
        if offset >= 0:
            return np.ndarray(plan.shapes[i], plan.subgraph.tensors[i].dtype, self._arena, offset)
        return plan.constants.get(i)


class CompiledExecutor(NativeExecutor):
    """A NativeExecutor built from the compiler's tables: one native segment of every node."""

    def __init__(self, model: Model, input_shapes: dict, result: tuple, num_threads: int | None) -> None:
        # no super().__init__: nothing to lower, and no node needs the Interpreter
        (tensor_rows, node_rows, buffers, writable, shapes, offsets, arena_size, lower_bound, planned,
         fused, folding) = result
        self.plan = CompiledPlan(model, input_shapes, shapes, offsets, arena_size, lower_bound, folding)
        self.arena = _arena(arena_size)
        self.num_threads, self.threads = num_threads, native.thread_count(num_threads)
        buffers[0] = self.arena
        self.tables = (native._table(tensor_rows, native.TENSOR_WORDS),
                       native._table(node_rows, native.NODE_WORDS))
        self.program = native._engine.Program(*self.tables, buffers, writable, self.threads)
        count = len(planned)
        self.native, self._reasons, self._keep = [True] * count, [None] * count, buffers
        self.fused_pads = set(fused)
        self.segments = [(True, 0, count)]
        self._whole_program = True
        self._native_start = list(range(count))
        self.values = CompiledValues(self.plan, self.arena)
        self.settable = {i: self.values[i] for i in model.subgraphs[0].inputs if offsets[i] >= 0}
