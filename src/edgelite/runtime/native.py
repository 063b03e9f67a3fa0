"""The native executor: a Plan lowered once to flat tables that one C call runs.

`NativeExecutor` is a ReferenceExecutor (same arena, `values`, `plan`, `reset_variables`,
`invoke(profile)`) whose supported nodes run in C: at construction each node is lowered (kernel,
operand tensors, integer/float params, weights repacked for the microkernels) or left to its numpy
kernel. Consecutive lowered nodes form one segment that `invoke` runs with one C call (without the
GIL and without allocating); the others run on the reference kernels in between, as TFLite
partitions a graph between a delegate and its builtin kernels. The C side copies and validates
every table entry when the program is created (`edgelite.native._engine.Program`).

`num_threads` (None or -1: one thread, as LiteRT's default) sizes the Program's thread pool: its
workers start once, with the Program, and split each large op into tiles of independent outputs,
so results are bitwise the same for any thread count. The float32 lowerers are in native_f32.py
(this module keeps what every lowerer shares: the Lowering, PAD fusion, routing), the data-movement ones
(TRANSPOSE, DEPTH_TO_SPACE, SPACE_TO_DEPTH, SLICE, STRIDED_SLICE, GATHER, RESIZE_NEAREST_NEIGHBOR) in
native_movement.py, BATCH_MATMUL in native_matmul.py. `partition()` reports which nodes run where and
why the others stay on the reference kernels (a lowerer's `Unsupported` message, or the engine's when its
validation refuses a lowered node: then the lowering runs again without it).

Where the compiler (native/compile*.c, runtime/compiled.py) takes a whole subgraph, `allocate_tensors`
uses its CompiledExecutor instead: the same tables, made in one C call; these lowerers are then its
test oracle, and the path for what it defers.
"""

from __future__ import annotations

import functools
import math
import os
import struct
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter_ns

import numpy as np

from edgelite.errors import EdgeliteError
from edgelite.model.ir import TensorType
from edgelite.ops._common import Activation, Padding, activation_range, padding_before
from edgelite.runtime.executor import Placement, ReferenceExecutor, Segment
from edgelite.runtime.plan import Plan, PlannedNode, tensor_nbytes

try:
    from edgelite.native import _engine
except ImportError as error:  # no compiler at install time, or a broken build
    _engine = None
    _IMPORT_ERROR: ImportError | None = error
else:
    _IMPORT_ERROR = None

_warned = False
# Op codes of the node table, in include/ops.inc order (test_engine checks they agree).
OPS = ("GEMM", "DWCONV", "BINARY", "UNARY", "MAXPOOL", "AVGPOOL", "MEAN_HW", "PAD", "CONCAT", "COPY",
       "SOFTMAX", "QGEMM", "QDWCONV", "QUANTIZE", "QLUT", "QBINARY", "QMAXPOOL", "QAVGPOOL", "QMEAN_HW",
       "QSOFTMAX", "BYTECOPY", "TCONV", "RESIZE_BILINEAR", "HGEMM", "QCONCAT", "QGATHER", "HDWCONV",
       "STRIDED_COPY", "RESIZE_NEAREST", "BATCH_MATMUL", "GATHER", "SPMM", "QSPMM")
CODE = {name: i for i, name in enumerate(OPS)}
MAX_INPUTS, NODE_PARAMS, MAX_RANK, MAX_THREADS = 16, 29, 6, 64
TENSOR_WORDS, NODE_WORDS = 5 + MAX_RANK, 3 + MAX_INPUTS + NODE_PARAMS
GEMM_NR, IM2COL_ROWS, DW_MAX_TAPS = 16, 48, 64
_NO_DIMS = (0,) * MAX_RANK  # a tensor record's unused dims
_F32 = struct.Struct("<f")


def available() -> bool:
    """Whether the extension imported; warns once (RuntimeWarning) when it did not."""
    global _warned
    if _engine is None and not _warned:
        _warned = True
        warnings.warn(f"edgelite's native engine is not available ({_IMPORT_ERROR}); running on the "
                      "reference executor (numpy)", RuntimeWarning, stacklevel=3)
    return _engine is not None


def isa() -> str | None:
    """The dispatch level in use (x86: 'scalar', 'avx2', 'avx512', 'avx512vnni'; Arm: 'scalar', 'neon',
    'neondot'), None without the extension."""
    return _engine.isa() if _engine is not None else None


def set_isa(level: str) -> str:
    """Cap the dispatch level (as EDGELITE_ISA does at start-up); returns the level now in use.

    Affects every executor of the process; do not call it while another thread invokes."""
    if _engine is None:
        raise RuntimeError("edgelite's native engine is not available")
    return _engine.set_isa(level)


def supported_isas() -> list[str]:
    return _engine.supported_isas() if _engine is not None else []


class Unsupported(Exception):
    """A node the native engine does not run (it stays on the reference kernels)."""


def f32_bits(value: float) -> int:
    """The bits of value rounded to float32 (C's cast: struct's, or numpy's where it overflows to inf)."""
    try:
        return int.from_bytes(_F32.pack(value), "little")
    except OverflowError:
        return int(np.array(value, np.float32).view(np.uint32))


def pack_gemm(weights: np.ndarray, bias: np.ndarray | None, groups: int = 1,
              heap: object = None) -> np.ndarray:
    """[groups x N, K] float32 weights and bias -> each group's panels of GEMM_NR columns, [1 + K,
    GEMM_NR] each (bias row first), one after another, flat (packed in C: native/pack.c), in a
    lowering's slabs when `heap` (an _engine.Heap) is given."""
    rows, k = weights.shape
    raw, offset, nbytes = _engine.pack_gemm(np.ascontiguousarray(weights, np.float32),
                                            None if bias is None else np.ascontiguousarray(bias, np.float32),
                                            groups, rows // groups, k, heap)
    return np.frombuffer(raw, np.float32, nbytes // 4, offset)


def heap_estimate(constants: dict) -> int:
    """Bytes the lowering of a plan with these constants is likely to pack: its first slab's size
    (int8 weights double as int16 pairs; more goes to further slabs)."""
    return sum(value.nbytes * (2 if value.itemsize == 1 else 1) for value in constants.values()) + (64 << 10)


def zeroed(heap: object, floats: int) -> np.ndarray:
    """`floats` zeroed float32 values, 64-byte aligned, from the lowering's slabs."""
    raw, offset = heap.take(floats * 4, True)
    return np.frombuffer(raw, np.float32, floats, offset)


@functools.lru_cache(maxsize=4096)  # a model's binary ops repeat a few shapes
def collapse_broadcast(out: tuple, a: tuple, b: tuple) -> tuple[tuple, tuple, tuple] | None:
    """Dims and element strides of a and b over out, adjacent dims merged, padded to MAX_RANK."""
    rank = len(out)
    if a == b == out and rank and math.prod(out) > 1:  # elementwise: one contiguous dim
        ones = (0,) * (MAX_RANK - 1) + (1,)
        return (1,) * (MAX_RANK - 1) + (math.prod(out),), ones, ones
    dims, strides = list(out), []
    for shape in (a, b):
        shape = (1,) * (rank - len(shape)) + tuple(shape)
        contiguous = [math.prod(shape[i + 1:]) for i in range(rank)]
        strides.append([0 if shape[i] == 1 and out[i] != 1 else contiguous[i] for i in range(rank)])
    keep = [i for i in range(rank) if dims[i] != 1]
    dims, sa, sb = [dims[i] for i in keep], [strides[0][i] for i in keep], [strides[1][i] for i in keep]
    i = len(dims) - 2
    while i >= 0:
        if sa[i] == sa[i + 1] * dims[i + 1] and sb[i] == sb[i + 1] * dims[i + 1]:
            dims[i:i + 2], sa[i:i + 2], sb[i:i + 2] = [dims[i] * dims[i + 1]], [sa[i + 1]], [sb[i + 1]]
        i -= 1
    if len(dims) > MAX_RANK:
        return None
    pad = MAX_RANK - len(dims)
    return tuple([1] * pad + dims), tuple([0] * pad + sa), tuple([0] * pad + sb)


@dataclass
class _Record:
    op: str
    inputs: list[int]
    output: int
    params: list[int]


class Lowering:
    """Builds the tensor table, node table and buffer list of one Program."""

    def __init__(self, executor: ReferenceExecutor) -> None:
        self.plan: Plan = executor.plan
        self.threads: int = getattr(executor, "threads", 1)  # scratch holds one slice per thread
        self.buffers: list = [executor.arena]
        self.writable: list[bool] = [True]
        self.tensors: list[list[int]] = []
        self.index: dict[int, int] = {}
        self.records: list[_Record] = []
        self.scratch_floats = 0
        self.zero_floats = 0
        self._scratch = self._zeros = -1
        self.reason: str | None = None  # why the last node lower() was given stays on the reference
        # PAD output -> (its record, its input, pads before, its index in plan.nodes)
        self.pads: dict[int, tuple[_Record, int, list[int], int]] = {}
        self.fused_pads: set[int] = set()  # PAD outputs whose padding a convolution does instead
        self._order = {id(planned): i for i, planned in enumerate(self.plan.nodes)}
        self._position = -2  # index in plan.nodes of the node being lowered
        # the plan's tables, looked up once per operand
        self.graph_tensors, self.shapes = self.plan.subgraph.tensors, self.plan.shapes
        self.offsets, self.constants = self.plan.arena_offsets, self.plan.constants
        self.dynamic = self.plan.dynamic_tensors
        self.readers: Counter | None = None  # graph tensor -> how many node inputs read it (_fused_pad)
        # packed weights, tables and scratch: a few slabs (native/_slab.c), not one allocation each
        self.heap = _engine.heap(heap_estimate(self.constants))

    # -- tensors ----------------------------------------------------------------------------
    def _add(self, buffer: int, offset: int, shape: tuple) -> int:
        if len(shape) > MAX_RANK:
            raise Unsupported(f"rank {len(shape)} > {MAX_RANK}")
        rank = len(shape)
        self.tensors.append([buffer, offset, math.prod(shape) * 4, 0, rank, *shape, *_NO_DIMS[rank:]])
        return len(self.tensors) - 1

    def extra(self, array: np.ndarray, writable: bool = False) -> int:
        """A tensor over an array the engine owns (packed weights, scratch)."""
        array = np.ascontiguousarray(array, np.float32)
        self.buffers.append(array)
        self.writable.append(writable)
        return self._add(len(self.buffers) - 1, 0, array.shape)

    def tensor(self, i: int, output: bool = False) -> int:
        """The table index of graph tensor i (float32, planned in the arena or constant)."""
        if i < 0:
            raise Unsupported("optional operand absent")
        tensor, shape = self.graph_tensors[i], self.shapes[i]
        if tensor.type != TensorType.FLOAT32:
            raise Unsupported(f"{tensor.type.name.lower()} operand {i} ({tensor.name!r}) is not supported "
                              f"natively by this op")
        if shape is None or i in self.dynamic:
            raise Unsupported(f"tensor {i} ({tensor.name!r}) has a shape known only at run time")
        index = self.index.get(i)
        if index is not None:
            return index
        if math.prod(shape) == 0:
            raise Unsupported(f"tensor {i} is empty")
        offset = self.offsets.get(i)
        if offset is not None:
            index = self._add(0, offset, tuple(shape))
        elif i in self.constants and not output:
            index = self.extra(np.asarray(self.constants[i], np.float32).reshape(shape))
        else:
            raise Unsupported(f"tensor {i} is neither in the arena nor a constant")
        self.index[i] = index
        return index

    def constant(self, i: int) -> np.ndarray | None:
        if i < 0:
            return None
        value = self.plan.constants.get(i)
        if value is None:
            raise Unsupported(f"operand {i} is not a constant")
        if value.dtype != np.float32:
            hybrid = " (dynamic-range weights: hybrid kernels)" if value.dtype == np.int8 else ""
            raise Unsupported(f"{value.dtype} constant {i}{hybrid} is not supported natively by this op")
        return value

    def scratch(self, floats: int) -> int:
        """The writable scratch tensor, `floats` per thread (shared by every node)."""
        self.scratch_floats = max(self.scratch_floats, floats)
        if self._scratch < 0:
            self._scratch = self._add(0, 0, (0,))  # record filled in by table()
        return self._scratch

    def zeros(self, floats: int) -> int:
        self.zero_floats = max(self.zero_floats, floats)
        if self._zeros < 0:
            self._zeros = self._add(0, 0, (0,))
        return self._zeros

    # -- nodes ------------------------------------------------------------------------------
    def lower(self, planned: PlannedNode) -> bool:
        """Append the node's record; False (tables unchanged, `reason` set) when it stays on the reference."""
        self._position = self._order.get(id(planned), -2)
        lowerer = lowerers().get(planned.opdef.name)
        self.reason = None
        if lowerer is None:
            self.reason = f"no native kernel for {planned.opdef.name}"
            return False
        if planned.dynamic:
            self.reason = "operand shapes known only at run time"
            return False
        mark = (len(self.tensors), len(self.buffers), self.scratch_floats, self.zero_floats, self._scratch,
                self._zeros)
        try:
            self.records.append(lowerer(self, planned.node))
            return True
        except Unsupported as why:
            self.reason = str(why) or "not supported natively"
            count, buffers, self.scratch_floats, self.zero_floats, self._scratch, self._zeros = mark
            del self.tensors[count:], self.buffers[buffers:], self.writable[buffers:]
            self.index = {i: row for i, row in self.index.items() if row < count}  # rows the node added
            return False

    def node(self, op: str, inputs: list[int], output: int, params: list) -> _Record:
        """A record over table indices `inputs` writing graph tensor `output`."""
        return _Record(op, inputs, self.tensor(output, output=True), record_params(params))

    def tables(self) -> tuple[np.ndarray, np.ndarray]:
        for index, floats, writable in ((self._scratch, self.scratch_floats * self.threads, True),
                                        (self._zeros, self.zero_floats, False)):
            if index >= 0:
                self.buffers.append(zeroed(self.heap, floats))
                self.writable.append(writable)
                record = [len(self.buffers) - 1, 0, floats * 4, 0, 1, floats]
                self.tensors[index] = record + [0] * (TENSOR_WORDS - len(record))
        nodes = [(CODE[rec.op], rec.inputs, rec.output, rec.params) for rec in self.records]
        return (_table(_engine.int64_rows(self.tensors, TENSOR_WORDS), TENSOR_WORDS),
                _table(_engine.node_rows(nodes), NODE_WORDS))


def record_params(params: list) -> list[int]:
    """A node's params as ints; Unsupported when there are too many or one does not fit the table's
    int64 (the engine's validation refuses what else it cannot run: NativeExecutor)."""
    values = list(map(int, params))
    if len(values) > NODE_PARAMS or not all(-2**63 <= v < 2**63 for v in values):
        raise Unsupported("too many params, or one beyond int64")
    return values


def _table(raw: bytearray, words: int) -> np.ndarray:
    """A table the extension built (int64_rows, node_rows) as [rows, words] int64."""
    return np.frombuffer(raw, np.int64).reshape(-1, words) if raw else np.zeros((0, words), np.int64)


# -- lowerers: Node -> _Record, or raise Unsupported -------------------------------------------
def _clamp(node, activation: int | None = None) -> list[int]:
    act = getattr(node.options, "fused_activation_function", Activation.NONE) if activation is None \
        else activation
    bits = _CLAMPS.get(act)
    if bits is None:
        if act not in Activation.__members__.values():
            raise Unsupported(f"unknown fused activation {act}")
        low, high = activation_range(act, np.float32)
        bits = _CLAMPS[act] = (f32_bits(low), f32_bits(high))
    return list(bits)


_CLAMPS: dict[int, tuple[int, int]] = {}  # fused activation -> float32 clamp bits


def _window(size: tuple, kernel: tuple, stride: tuple, dilation: tuple, out: tuple, padding) -> list[int]:
    """SAME padding's pads before (top, left), VALID's zeros."""
    if padding != Padding.SAME:
        return [0, 0]
    return [padding_before(size[a], kernel[a], stride[a], dilation[a], out[a]) for a in range(2)]


def _fused_pad(lw: Lowering, x_id: int, out_id: int) -> tuple[int, int, int] | None:
    """When x_id is the output of a zero PAD of height and width lowered just before this node, only
    read here, whose input stays intact while this node writes out_id: (PAD's input, pad top,
    pad left). The caller then reads PAD's input with those extra pads and calls _skip_pad."""
    entry = lw.pads.get(x_id)
    if entry is None or lw.plan.preserved or entry[3] != lw._position - 1:
        return None
    record, source, before, _ = entry
    graph = lw.plan.subgraph
    if lw.readers is None:
        lw.readers = Counter(i for planned in lw.plan.nodes for i in planned.node.op.inputs)
    if (lw.readers[x_id] != 1 or x_id in graph.outputs or source in graph.outputs
            or len(lw.plan.shapes[x_id]) != 4):
        return None
    offsets = lw.plan.arena_offsets
    if source in offsets and out_id in offsets:
        ends = {i: offsets[i] + tensor_nbytes(lw.plan.shapes[i], graph.tensors[i].type)
                for i in (source, out_id)}
        if offsets[source] < ends[out_id] and offsets[out_id] < ends[source]:
            return None
    return source, before[1], before[2]


def fuse_pad_input(lw: Lowering, x_id: int, out_id: int, pads: list[int]) -> tuple[int, list[int], bool]:
    """(input, pads, fused): a zero PAD of height / width just before the convolution is read
    through, its padding added to the convolution's (_fused_pad)."""
    fused = _fused_pad(lw, x_id, out_id)
    if fused is None:
        return x_id, pads, False
    return fused[0], [pads[0] + fused[1], pads[1] + fused[2]], True


def _skip_pad(lw: Lowering, x_id: int) -> None:
    """The fused PAD's record becomes a copy of its output onto itself (which the engine skips)."""
    record = lw.pads[x_id][0]
    copy = "COPY" if lw.plan.subgraph.tensors[x_id].type == TensorType.FLOAT32 else "BYTECOPY"
    record.op, record.inputs, record.params = copy, [record.output], []
    lw.fused_pads.add(x_id)


def offer_pad(lw: Lowering, node, pairs: np.ndarray, record: _Record) -> None:
    """Let the next convolution do a PAD of height and width only (_fused_pad)."""
    if len(pairs) == 4 and not pairs[[0, 3]].any() and (pairs >= 0).all():
        lw.pads[node.op.outputs[0]] = (record, node.op.inputs[0], [int(v) for v in pairs[:, 0]], lw._position)




def route(lowerers: dict[str, Callable], special: dict[str, Callable], applies: Callable) -> None:
    """Send the nodes of each op in `special` for which applies(lw, node) holds to that op's special
    lowerer, the others to the lowerer already in the table (in place; the routes installed last
    are tried first). A special lowerer's failure leaves the node on the reference, which reports
    the problem if there is one."""
    for name, lower in special.items():
        current = lowerers.get(name)
        if isinstance(current, _Router):
            current.routes.insert(0, (applies, lower))
        else:
            lowerers[name] = _Router([(applies, lower)], current)


class _Router:
    """One op's special lowerers with the predicates that pick them, then its plain lowerer."""

    __slots__ = ("routes", "fallback")

    def __init__(self, routes: list[tuple[Callable, Callable]], fallback: Callable | None) -> None:
        self.routes, self.fallback = routes, fallback

    def __call__(self, lw: Lowering, node) -> _Record:
        for applies, lower in self.routes:
            if applies(lw, node):
                try:
                    return lower(lw, node)
                except (EdgeliteError, ValueError, TypeError, IndexError, KeyError) as error:
                    raise Unsupported(f"{node.op.name}: {error}") from error
        if self.fallback is None:
            raise Unsupported(f"{node.op.name} of this type")
        return self.fallback(lw, node)


@functools.cache
def lowerers() -> dict[str, Callable[[Lowering, object], _Record]]:
    """Every node lowerer: the float32 ones, then int8, hybrid and sparse-weight nodes routed to theirs
    (imported here, on first use: they build on this module)."""
    from edgelite.runtime import (
        native_f32,
        native_hybrid,
        native_int8,
        native_matmul,
        native_movement,
        native_sparse,
    )

    table = {**native_f32.LOWERERS, **native_movement.LOWERERS, **native_matmul.LOWERERS}
    native_int8.install(table)
    native_hybrid.install(table)
    native_sparse.install(table)
    return table


def thread_count(num_threads: int | None) -> int:
    """The pool size for an Interpreter's num_threads: None, -1 and 0 mean one thread (LiteRT's
    default: its XNNPACK delegate makes no thread pool unless asked for more than one)."""
    return 1 if num_threads is None or num_threads < 1 else min(int(num_threads), MAX_THREADS)


class NativeExecutor(ReferenceExecutor):
    """A ReferenceExecutor whose supported nodes run as native segments (see the module doc)."""

    _binding = False  # ReferenceExecutor.__init__'s _bind calls wait until the native nodes are known

    def __init__(self, plan: Plan, runtime: object = None, num_threads: int | None = None) -> None:
        super().__init__(plan, runtime)
        self.num_threads = num_threads
        self.threads = thread_count(num_threads)
        refused: dict[int, str] = {}  # plan node -> why the engine's validation refused its lowering
        while True:
            lowering, native = self._lowered(refused)
            self.tables: tuple[np.ndarray, np.ndarray] | None = lowering.tables() if any(native) else None
            try:
                self.program = None if self.tables is None else \
                    _engine.Program(*self.tables, lowering.buffers, lowering.writable, self.threads)
                break
            except _engine.NodeRefused as error:  # past what its kernels take: the reference kernels run it
                refused[[k for k, is_native in enumerate(native) if is_native][error.node]] = str(error)
        self._binding = True
        for planned, is_native in zip(plan.nodes, native, strict=True):
            if not is_native and not planned.dynamic:  # the reference kernels' operands
                self._bind(planned.node)
        self.native = native  # per plan node: runs in C
        self._keep = lowering.buffers  # the Program holds views too; kept for inspection
        self.fused_pads = lowering.fused_pads
        self.segments: list[tuple[bool, int, int]] = []  # (native, first, end) over plan.nodes
        native_index = 0
        for i, is_native in enumerate(native):
            if self.segments and self.segments[-1][0] == is_native:
                self.segments[-1] = (is_native, self.segments[-1][1], i + 1)
            else:
                self.segments.append((is_native, i, i + 1))
        self._whole_program = len(self.segments) == 1 and self.segments[0][0]
        self._native_start = []
        for is_native in native:
            self._native_start.append(native_index)
            native_index += is_native

    def _lowered(self, refused: dict[int, str]) -> tuple[Lowering, list[bool]]:
        """Every node lowered, but those in `refused` (left to the reference kernels with its reason)."""
        lowering = Lowering(self)
        native, self._reasons = [], []
        for k, planned in enumerate(self.plan.nodes):
            is_native = k not in refused and lowering.lower(planned)
            native.append(is_native)
            self._reasons.append(refused[k] if k in refused else lowering.reason)
        return lowering, native

    def _bind(self, node) -> None:
        if self._binding:  # a native node's kernel reads the arena through the program, not node.inputs
            super()._bind(node)

    def partition(self) -> list[Segment]:
        """The native segments and the reference runs between them, each node with why it stays on
        the reference kernels (as TFLite reports a delegate's partitions)."""
        nodes = self.plan.nodes
        return [Segment(is_native, first, end, tuple(Placement(i, nodes[i].node.op.name or "CUSTOM",
                                                               self._reasons[i]) for i in range(first, end)))
                for is_native, first, end in self.segments]

    def invoke(self, profile: list[int] | None = None) -> None:
        if self._whole_program and profile is None:
            self.program.run()  # every node native: one call
            return
        nodes = self.plan.nodes
        for is_native, first, end in self.segments:
            if not is_native:
                for planned in nodes[first:end]:
                    self._run_node(planned, profile)
                continue
            start = self._native_start[first]
            if profile is None:
                self.program.run(start, start + end - first)
                continue
            for k in range(start, start + end - first):
                begin = perf_counter_ns()
                self.program.run(k, k + 1)
                profile.append(perf_counter_ns() - begin)


def make_executor(plan: Plan, runtime: object = None, executor: str | None = None,
                  num_threads: int | None = None) -> ReferenceExecutor:
    """The executor an Interpreter uses: native unless asked otherwise (argument, then the
    EDGELITE_EXECUTOR environment variable) or unavailable (warned once)."""
    if not native_chosen(executor):
        return ReferenceExecutor(plan, runtime)
    return NativeExecutor(plan, runtime, num_threads)


def native_chosen(executor: str | None = None) -> bool:
    """Whether the native engine runs (argument, then EDGELITE_EXECUTOR, else native when built)."""
    choice = executor or os.environ.get("EDGELITE_EXECUTOR") or "native"
    if choice not in ("native", "reference"):
        raise ValueError(f"unknown executor {choice!r}; use 'native' or 'reference'")
    return choice == "native" and available()
