"""Arena memory planner: give every non-constant tensor an offset in one shared buffer.

Each buffer has a size and a lifetime, the inclusive range of execution steps [first, last] in
which it must hold its value (step i runs the i-th operator of the execution order; any integers
work, e.g. -1 for "before the first op"). Two buffers alive at a common step must not overlap in
memory; any others may share bytes. `tensor_lifetimes` derives these ranges from a subgraph.

The layout is greedy, as in TFLite Micro's GreedyMemoryPlanner and TFLite's arena planner:
buffers are placed one at a time, largest first (ties: earlier first use). For each one we look
at the already-placed buffers whose lifetimes overlap it, walk the gaps between them in offset
order and take the smallest gap that fits (best fit); if none fits, the buffer goes right after
the highest of them. Optimal placement is NP-hard; as the greedy order sometimes matters, a few
orders are tried and the smallest arena is kept. `lower_bound` (the most bytes alive at one step)
is what no planner can beat. native/planner.c runs the same algorithm (same offsets) when the
extension is built; this module's Python is the fallback and decides out-of-range inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from edgelite.errors import ModelError
from edgelite.model.ir import Model, Subgraph, Tensor

try:
    from edgelite.native._engine import plan_arena as _native_plan_arena
except ImportError:  # extension not built: the Python planner below
    _native_plan_arena = None


@dataclass
class Allocation:
    """A buffer request: `size` bytes alive from step `first` to step `last`, both inclusive."""

    size: int
    first: int
    last: int


@dataclass
class ArenaPlan:
    """The planner's answer: one offset per allocation, the arena's size and the lower bound."""

    offsets: list[int]
    arena_size: int
    lower_bound: int


def _align(size: int, alignment: int) -> int:
    """`size` rounded up to a multiple of `alignment`."""
    return -(-size // alignment) * alignment


def lower_bound(allocations: Sequence[Allocation], alignment: int = 64) -> int:
    """The most aligned bytes alive at any one step: the smallest arena any planner could use."""
    events = sorted((step, delta) for a in allocations if a.size > 0
                    for step, delta in ((a.first, _align(a.size, alignment)),
                                        (a.last + 1, -_align(a.size, alignment))))
    alive = best = 0
    for _, delta in events:  # at equal steps frees (negative) sort before allocations
        alive += delta
        best = max(best, alive)
    return best


def _overlaps(allocations: Sequence[Allocation], sizes: list[int]) -> list[list[int]]:
    """For each allocation, the non-empty allocations whose lifetimes overlap its own (one sweep
    in order of first use, shared by every placement order)."""
    by_first = sorted((i for i in range(len(allocations)) if sizes[i]), key=lambda i: allocations[i].first)
    overlaps: list[list[int]] = [[] for _ in allocations]
    for position, i in enumerate(by_first):
        last = allocations[i].last
        for j in by_first[position + 1:]:
            if allocations[j].first > last:
                break
            overlaps[i].append(j)
            overlaps[j].append(i)
    return overlaps


def _place(sizes: list[int], order: list[int], overlaps: list[list[int]]) -> list[int]:
    """Offsets from placing allocations in `order`, each in the best-fitting gap of its overlaps."""
    offsets = [0] * len(sizes)
    placed = [False] * len(sizes)
    for index in order:
        size = sizes[index]
        if size == 0:
            continue
        overlapping = sorted((offsets[j], offsets[j] + sizes[j]) for j in overlaps[index] if placed[j])
        best_offset, best_gap, gap_start = None, None, 0
        for start, end in overlapping:
            gap = start - gap_start
            if gap >= size and (best_gap is None or gap < best_gap):
                best_offset, best_gap = gap_start, gap
            gap_start = max(gap_start, end)
        offsets[index] = gap_start if best_offset is None else best_offset
        placed[index] = True
    return offsets


def _orders(allocations: Sequence[Allocation], sizes: list[int]) -> list[list[int]]:
    """Placement orders to try: by size (the reference), by size x lifetime, by first use."""
    indices = range(len(allocations))
    lifetime = [a.last - a.first + 1 for a in allocations]
    return [sorted(indices, key=lambda i: (-sizes[i], allocations[i].first, i)),
            sorted(indices, key=lambda i: (-sizes[i] * lifetime[i], allocations[i].first, i)),
            sorted(indices, key=lambda i: (allocations[i].first, -sizes[i], i))]


def plan_arena(allocations: Sequence[Allocation], alignment: int = 64) -> ArenaPlan:
    """Offsets for `allocations` (sizes rounded up to `alignment`) in as small an arena as found."""
    return plan_spans([a.size for a in allocations], [a.first for a in allocations],
                      [a.last for a in allocations], alignment)


def plan_spans(sizes: list[int], firsts: list[int], lasts: list[int], alignment: int = 64) -> ArenaPlan:
    """plan_arena of allocations given as three parallel lists (size, first step, last step)."""
    if _native_plan_arena is not None and alignment > 0:
        try:
            offsets, arena_size, bound = _native_plan_arena(sizes, firsts, lasts, alignment)
            return ArenaPlan(offsets, arena_size, bound)
        except (ValueError, TypeError):
            pass  # invalid, or beyond the C planner's range: the Python planner decides and explains
    return _plan_python([Allocation(*a) for a in zip(sizes, firsts, lasts, strict=True)], alignment)


def _plan_python(allocations: Sequence[Allocation], alignment: int) -> ArenaPlan:
    if alignment <= 0:
        raise ValueError(f"alignment must be positive, got {alignment}")
    for index, a in enumerate(allocations):
        if a.size < 0 or a.first > a.last:
            raise ValueError(f"allocation {index} is invalid: {a} (need size >= 0, first <= last)")
    sizes = [_align(a.size, alignment) for a in allocations]
    best: tuple[int, list[int]] | None = None
    overlaps = _overlaps(allocations, sizes)
    for order in _orders(allocations, sizes):
        offsets = _place(sizes, order, overlaps)
        arena = max((o + s for o, s in zip(offsets, sizes, strict=True)), default=0)
        if best is None or arena < best[0]:
            best = (arena, offsets)
    arena_size, offsets = best if best else (0, [])
    return ArenaPlan(offsets, arena_size, lower_bound(allocations, alignment))


def _constant_test(constant: Model | Callable[[Tensor], bool] | None) -> Callable[[Tensor], bool]:
    """A predicate telling constant tensors, from a Model (buffer has data) or a given one."""
    if constant is None:
        return lambda tensor: False
    if isinstance(constant, Model):
        return lambda tensor: constant.constant(tensor) is not None
    return constant


def tensor_lifetimes(subgraph: Subgraph, order: Sequence[int] | None = None,
                     constant: Model | Callable[[Tensor], bool] | None = None,
                     ) -> dict[int, tuple[int, int]]:
    """(first, last) step of each non-constant tensor that the subgraph uses, by tensor index.

    Steps number the operators in `order` (default: as listed). Graph inputs, outputs and
    variables span every step, 0 to the last, so they never share memory; an op's
    intermediates and never-read outputs live just at their op's step. `constant` is the Model
    (constant = its buffer holds data) or a predicate; constants (never variables) get no entry.
    """
    is_constant = _constant_test(constant)
    in_arena = [t.is_variable or not is_constant(t) for t in subgraph.tensors]
    first, last = lifetime_steps(subgraph, in_arena, order)
    return {i: (step, last[i]) for i, step in first.items()}


def lifetime_steps(subgraph: Subgraph, in_arena: list[bool], order: Sequence[int] | None = None,
                   variables: Sequence[int] | None = None) -> tuple[dict[int, int], dict[int, int]]:
    """tensor_lifetimes as two dicts, first and last step, given which tensors are in the arena
    (and, if known, the indices of the variables)."""
    operators = subgraph.operators
    order = range(len(operators)) if order is None else list(order)
    end = max(len(order) - 1, 0)
    pinned = {i for i in (*subgraph.inputs, *subgraph.outputs) if i >= 0 and in_arena[i]}
    if variables is None:
        pinned.update(i for i, t in enumerate(subgraph.tensors) if t.is_variable)
    else:
        pinned.update(variables)
    first, last = dict.fromkeys(pinned, 0), dict.fromkeys(pinned, end)
    tracked = in_arena.copy()  # in the arena and not pinned
    for i in pinned:
        tracked[i] = False
    for step, op_index in enumerate(order):  # a tracked tensor is in `first` once an op wrote it
        op = operators[op_index]
        if op.intermediates:  # (alive at their step, never written): start over, tracking writes
            first, last = dict.fromkeys(pinned, 0), dict.fromkeys(pinned, end)
            return _steps_with_intermediates(subgraph, order, tracked, first, last)
        for tensor in op.inputs:
            if tensor >= 0 and tracked[tensor]:
                if tensor not in first:
                    raise _read_before_write(subgraph, order, step, tensor)
                last[tensor] = step
        for tensor in op.outputs:
            if tensor >= 0 and tracked[tensor]:
                first.setdefault(tensor, step)
                last[tensor] = step
    return first, last


def _steps_with_intermediates(subgraph: Subgraph, order: Sequence[int], tracked: list[bool],
                              first: dict[int, int], last: dict[int, int]) -> tuple[dict, dict]:
    """lifetime_steps where ops have intermediates (alive at their step, but never written)."""
    written: set[int] = set()
    for step, op_index in enumerate(order):
        op = subgraph.operators[op_index]
        for tensor in op.inputs:
            if tensor >= 0 and tracked[tensor]:
                if tensor not in written:
                    raise _read_before_write(subgraph, order, step, tensor)
                last[tensor] = step
        for tensors in (op.outputs, op.intermediates):
            for tensor in tensors:
                if tensor >= 0 and tracked[tensor]:
                    first.setdefault(tensor, step)
                    last[tensor] = step
        written.update(op.outputs)
    return first, last


def _read_before_write(subgraph: Subgraph, order: Sequence[int], step: int, tensor: int) -> ModelError:
    """The error for a tensor read at `step` that no earlier operator writes."""
    op = subgraph.operators[order[step]]
    writer = next((s for s, i in enumerate(order) if tensor in subgraph.operators[i].outputs), None)
    when = "never written" if writer is None else f"only written at step {writer}"
    return ModelError(f"tensor {tensor} ({subgraph.tensors[tensor].name!r}) is read by op "
                      f"{order[step]} ({op.name}) at step {step} but {when}: the graph or the "
                      "execution order is invalid")
