"""The reference executor: runs a Plan one numpy kernel at a time over one arena."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from time import perf_counter_ns

import numpy as np

from edgelite.errors import EdgeliteError, ModelError
from edgelite.model.ir import TensorType
from edgelite.runtime.plan import ARENA_ALIGNMENT, Plan, output_shapes

try:  # the arena's memory (native/_slab.c); numpy's without the extension
    from edgelite.native._engine import slab as _slab
except ImportError:
    _slab = None


@dataclass(frozen=True)
class Placement:
    """Where one plan node runs: `reason` says why it stays on the reference kernels (None: native)."""

    index: int
    op: str
    reason: str | None = None


@dataclass(frozen=True)
class Segment:
    """A run of consecutive plan nodes [first, end) on one executor (a delegate partition when native)."""

    native: bool
    first: int
    end: int
    nodes: tuple[Placement, ...]


def partition_summary(segments: list[Segment]) -> str:
    """TFLite-style one-liner, e.g. 'native engine: 63/65 nodes in 2 partitions'."""
    total = sum(len(s.nodes) for s in segments)
    native = [s for s in segments if s.native]
    count = sum(len(s.nodes) for s in native)
    return f"native engine: {count}/{total} nodes in {len(native)} partition{'s' * (len(native) != 1)}"


class ReferenceExecutor:
    """Owns the arena of a Plan and the per-tensor views into it; `invoke` runs every node."""

    def __init__(self, plan: Plan, runtime: object = None) -> None:
        self.plan = plan
        self.arena = _arena(plan.arena_size)
        runtime = _weak(runtime)
        graph = plan.subgraph
        self.values: list[np.ndarray | None] = [None] * len(graph.tensors)
        for i, value in plan.constants.items():
            self.values[i] = value
        arena, tensors, shapes = self.arena, graph.tensors, plan.shapes
        for i, offset in plan.arena_offsets.items():
            self.values[i] = np.ndarray(shapes[i], tensors[i].dtype, arena, offset)
        # Tensors set_tensor may copy into without further checks (arena views, not constants).
        self.settable: dict[int, np.ndarray] = {i: self.values[i] for i in plan.arena_offsets
                                                if i not in plan.constants and self.values[i].dtype != object}
        self.reset_variables()
        for planned in plan.nodes:
            planned.node.runtime = runtime
            if not planned.dynamic:
                self._bind(planned.node)

    def reset_variables(self) -> None:
        """Variable tensors start at zero, int8 ones at their zero point (TFLite's ResetVariableTensor)."""
        for i, tensor in enumerate(self.plan.subgraph.tensors):
            if tensor.is_variable and i in self.plan.arena_offsets:
                quant = tensor.quantization
                int8_zero = tensor.type == TensorType.INT8 and quant is not None and quant.zero_point.size
                self.values[i][...] = int(quant.zero_point[0]) if int8_zero else 0

    def _bind(self, node) -> None:
        node.inputs = [self.values[i] if i >= 0 else None for i in node.op.inputs]
        node.outputs = [self.values[i] for i in node.op.outputs]

    def partition(self) -> list[Segment]:
        """Every node on the reference kernels (the native executor overrides this)."""
        nodes = tuple(Placement(i, p.node.op.name or "CUSTOM", "the reference executor was chosen")
                      for i, p in enumerate(self.plan.nodes))
        return [Segment(False, 0, len(nodes), nodes)] if nodes else []

    def invoke(self, profile: list[int] | None = None) -> None:
        """Run every node in order; with `profile`, append each node's wall time (ns) to it."""
        for planned in self.plan.nodes:
            self._run_node(planned, profile)

    def _run_node(self, planned, profile: list[int] | None) -> None:
        """Run one node on its numpy kernel (the native executor calls this for the nodes it leaves)."""
        node = planned.node
        start = perf_counter_ns() if profile is not None else 0
        if planned.dynamic:
            self._bind_dynamic(planned)
        try:
            planned.opdef.run(node)
            if profile is not None:
                profile.append(perf_counter_ns() - start)
        except EdgeliteError:
            raise
        except (ValueError, IndexError, TypeError, FloatingPointError) as error:
            raise ModelError(f"{node.describe()} failed: {error}") from error

    def _bind_dynamic(self, planned) -> None:
        """Give a node whose shapes depend on data fresh outputs sized from its actual inputs."""
        node = planned.node
        node.inputs = [self.values[i] if i >= 0 else None for i in node.op.inputs]
        missing = [i for i, v in zip(node.op.inputs, node.inputs, strict=True) if i >= 0 and v is None]
        if missing:
            raise ModelError(f"{node.describe()}: input tensor {missing[0]} was never written")
        node.input_shapes = [None if v is None else tuple(v.shape) for v in node.inputs]
        if planned.opdef.check is not None:
            planned.opdef.check(node)
        shapes = output_shapes(planned.opdef, node)
        outputs = []
        for k, shape in zip(node.op.outputs, shapes, strict=True):
            current = self.values[k]
            if k in self.plan.dynamic_tensors or current is None:
                tensor = self.plan.subgraph.tensors[k]
                current = np.empty(shape, dtype=tensor.dtype)
                self.values[k] = current
            elif current.shape != shape:
                raise ModelError(f"{node.describe()}: output {k} has shape {shape} at run time but "
                                 f"{current.shape} was planned; call allocate_tensors after resizing")
            outputs.append(current)
        node.outputs = outputs


def _arena(size: int) -> np.ndarray:
    """Zeroed, ARENA_ALIGNMENT-aligned bytes: a slab (native/_slab.c: mapped, reused across
    interpreters) when the extension is built, numpy's memory otherwise."""
    if _slab is not None and size > 0:
        return np.frombuffer(_slab(size, True), np.uint8, size)
    raw = np.zeros(size + ARENA_ALIGNMENT, dtype=np.uint8)
    start = -raw.ctypes.data % ARENA_ALIGNMENT
    return raw[start:start + size]


def _weak(runtime: object) -> object:
    """The runtime (the Interpreter, which holds the executor) as the nodes' weak proxy: no reference
    cycle, so the executor and its memory go back as soon as the Interpreter is dropped, not at the
    next cyclic collection (native/README.md, "Slabs")."""
    try:
        return None if runtime is None else weakref.proxy(runtime)
    except TypeError:  # not weakly referenceable: kept as it is
        return runtime
