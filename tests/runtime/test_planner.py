"""Tests for the arena memory planner: random lifetimes, hand-checked layouts, real models."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgelite.errors import ModelError
from edgelite.model.ir import Model, Operator, Subgraph, Tensor, TensorType
from edgelite.runtime.planner import Allocation, ArenaPlan, lower_bound, plan_arena, tensor_lifetimes

MODELS = Path(__file__).parents[2].parent / "shared" / "models"


def _aligned(size: int, alignment: int) -> int:
    return -(-size // alignment) * alignment


def _brute_lower_bound(allocations: list[Allocation], alignment: int) -> int:
    steps = {step for a in allocations for step in range(a.first, a.last + 1)}
    return max((sum(_aligned(a.size, alignment) for a in allocations if a.first <= s <= a.last)
                for s in steps), default=0)


def _check_plan(allocations: list[Allocation], plan: ArenaPlan, alignment: int) -> None:
    """Every property a valid plan has, whatever the heuristic."""
    assert len(plan.offsets) == len(allocations)
    sizes = [_aligned(a.size, alignment) for a in allocations]
    for offset, size in zip(plan.offsets, sizes, strict=True):
        assert offset % alignment == 0
        assert 0 <= offset and offset + size <= plan.arena_size
        if size == 0:
            assert offset == 0
    for i, a in enumerate(allocations):
        for j in range(i):
            b = allocations[j]
            if sizes[i] and sizes[j] and a.first <= b.last and b.first <= a.last:
                disjoint = (plan.offsets[i] + sizes[i] <= plan.offsets[j]
                            or plan.offsets[j] + sizes[j] <= plan.offsets[i])
                assert disjoint, f"allocations {j} and {i} share memory while both alive"
    assert plan.lower_bound == _brute_lower_bound(allocations, alignment)
    assert plan.arena_size >= plan.lower_bound


@st.composite
def _allocations(draw: st.DrawFn) -> list[Allocation]:
    count = draw(st.integers(0, 24))
    result = []
    for _ in range(count):
        first = draw(st.integers(-1, 15))
        result.append(Allocation(draw(st.integers(0, 5000)), first, first + draw(st.integers(0, 6))))
    return result


@settings(max_examples=300, deadline=None)
@given(_allocations(), st.sampled_from([1, 4, 16, 64]))
def test_random_plans_are_valid(allocations: list[Allocation], alignment: int) -> None:
    _check_plan(allocations, plan_arena(allocations, alignment), alignment)


@pytest.mark.parametrize(("sizes", "offsets"), [
    ([100, 300, 200, 400, 50], [300, 0, 400, 0, 400]),
    ([640, 1280, 384, 896, 128, 1024, 256], [1280, 0, 1280, 0, 1024, 0, 1024]),
])
def test_chain_reuses_memory(sizes: list[int], offsets: list[int]) -> None:
    """Buffer i lives over steps i..i+1, so only neighbours meet: the arena is the largest pair."""
    allocations = [Allocation(size, step, step + 1) for step, size in enumerate(sizes)]
    plan = plan_arena(allocations, alignment=1)
    _check_plan(allocations, plan, 1)
    largest_pair = max(a + b for a, b in zip(sizes, sizes[1:], strict=False))
    assert plan == ArenaPlan(offsets, largest_pair, largest_pair)


def test_empty() -> None:
    assert plan_arena([]) == ArenaPlan([], 0, 0)
    assert lower_bound([]) == 0


def test_sizes_are_aligned_and_zero_sizes_sit_at_zero() -> None:
    plan = plan_arena([Allocation(1, 0, 0), Allocation(0, 0, 0), Allocation(65, 0, 0)])
    assert plan == ArenaPlan([128, 0, 0], 192, 192)


def test_disjoint_lifetimes_share_offset_zero() -> None:
    plan = plan_arena([Allocation(100, 0, 1), Allocation(200, 1, 2), Allocation(100, 2, 3)], 1)
    assert plan == ArenaPlan([200, 0, 200], 300, 300)


def test_best_fit_takes_the_smallest_gap() -> None:
    """The last buffer fits a 1000-byte and an 800-byte hole; best fit takes the 800-byte one."""
    allocations = [Allocation(1000, 0, 0), Allocation(900, 0, 1), Allocation(800, 0, 0),
                   Allocation(700, 0, 1), Allocation(600, 1, 1)]
    plan = plan_arena(allocations, alignment=1)
    assert plan == ArenaPlan([0, 1000, 1900, 2700, 1900], 3400, 3400)


def test_invalid_allocations_are_rejected() -> None:
    with pytest.raises(ValueError, match="first <= last"):
        plan_arena([Allocation(10, 3, 2)])
    with pytest.raises(ValueError, match="size >= 0"):
        plan_arena([Allocation(-1, 0, 0)])
    with pytest.raises(ValueError, match="alignment"):
        plan_arena([], alignment=0)


def _chain_graph() -> tuple[Model, Subgraph]:
    """input 0 -> op0 -> 1 -> op1(+ weight 6) -> 2 -> op2 -> 3 -> op3 -> 4 -> op4 -> output 5."""
    model = Model()
    weight = model.add_buffer(np.ones(4, np.float32))
    sizes = [64, 160, 320, 96, 224, 32]
    tensors = [Tensor(f"t{i}", (n,), TensorType.INT8) for i, n in enumerate(sizes)]
    tensors.append(Tensor("weight", (4,), TensorType.FLOAT32, buffer=weight))
    operators = [Operator("ADD", (0,), (1,)), Operator("ADD", (1, 6), (2,)),
                 *(Operator("ADD", (i,), (i + 1,)) for i in range(2, 5))]
    subgraph = Subgraph(tensors, (0,), (5,), operators)
    model.subgraphs.append(subgraph)
    return model, subgraph


def test_chain_graph_lifetimes_and_arena() -> None:
    model, subgraph = _chain_graph()
    lifetimes = tensor_lifetimes(subgraph, constant=model)
    assert lifetimes == {0: (0, 4), 5: (0, 4), 1: (0, 1), 2: (1, 2), 3: (2, 3), 4: (3, 4)}
    assert tensor_lifetimes(subgraph, constant=lambda t: t.buffer != 0) == lifetimes
    allocations = [Allocation(math.prod(subgraph.tensors[i].shape), *span)
                   for i, span in lifetimes.items()]
    plan = plan_arena(allocations, alignment=1)
    _check_plan(allocations, plan, 1)
    assert plan.arena_size == 64 + 32 + max(160 + 320, 320 + 96, 96 + 224)


def test_lifetimes_of_special_tensors() -> None:
    """Variables span the graph; dead outputs and op intermediates live one step; unused: none."""
    tensors = [Tensor(f"t{i}", (4,)) for i in range(8)]
    tensors[6].is_variable = True
    tensors[6].buffer = 1  # a variable's initial value does not make it a constant
    operators = [Operator("SPLIT", (0, -1), (1, 2)),  # 2 is never read
                 Operator("LSTM", (1, 6), (3,), intermediates=(4,)),
                 Operator("ADD", (3, 1), (5,))]
    subgraph = Subgraph(tensors, (0,), (5,), operators)
    lifetimes = tensor_lifetimes(subgraph, constant=lambda t: t.buffer != 0)
    assert lifetimes == {0: (0, 2), 5: (0, 2), 6: (0, 2), 1: (0, 2), 2: (0, 0), 3: (1, 2), 4: (1, 1)}
    assert 7 not in lifetimes


def test_execution_order_and_invalid_graphs() -> None:
    tensors = [Tensor(f"t{i}", (4,)) for i in range(4)]
    operators = [Operator("ADD", (0,), (1,)), Operator("ADD", (0,), (2,)), Operator("ADD", (1, 2), (3,))]
    subgraph = Subgraph(tensors, (0,), (3,), operators)
    assert tensor_lifetimes(subgraph, order=[1, 0, 2]) == {0: (0, 2), 3: (0, 2), 1: (1, 2), 2: (0, 2)}
    with pytest.raises(ModelError, match=r"tensor 1 .* only written at step 1"):
        tensor_lifetimes(subgraph, order=[2, 0, 1])
    subgraph.operators[0] = Operator("ADD", (0,), (0,))
    with pytest.raises(ModelError, match="tensor 1 .* never written"):
        tensor_lifetimes(subgraph)


def test_empty_graph_keeps_its_inputs() -> None:
    subgraph = Subgraph([Tensor("x", (2,))], (0,), (0,), [])
    assert tensor_lifetimes(subgraph) == {0: (0, 0)}


@st.composite
def _random_graphs(draw: st.DrawFn) -> Subgraph:
    """A random valid DAG: every op reads earlier tensors (or -1) and writes new ones."""
    inputs = draw(st.integers(1, 3))
    tensors = list(range(inputs))
    operators = []
    for _ in range(draw(st.integers(0, 12))):
        reads = draw(st.lists(st.sampled_from([*tensors, -1]), min_size=1, max_size=3))
        writes = tuple(range(len(tensors), len(tensors) + draw(st.integers(1, 2))))
        tensors.extend(writes)
        operators.append(Operator("ADD", tuple(reads), writes))
    outputs = tuple(draw(st.lists(st.sampled_from(tensors), min_size=1, max_size=2, unique=True)))
    return Subgraph([Tensor(f"t{i}", (i + 1,)) for i in tensors], tuple(range(inputs)), outputs, operators)


@settings(max_examples=200, deadline=None)
@given(_random_graphs())
def test_random_graph_lifetimes_cover_every_use(subgraph: Subgraph) -> None:
    lifetimes = tensor_lifetimes(subgraph)
    last = max(len(subgraph.operators) - 1, 0)
    for tensor in (*subgraph.inputs, *subgraph.outputs):
        assert lifetimes[tensor] == (0, last)
    for step, op in enumerate(subgraph.operators):
        for tensor in (*op.inputs, *op.outputs):
            if tensor >= 0:
                first, end = lifetimes[tensor]
                assert first <= step <= end
        for tensor in op.outputs:
            assert lifetimes[tensor][0] in (0, step)
    allocations = [Allocation(subgraph.tensors[i].shape[0] * 4, *span) for i, span in lifetimes.items()]
    _check_plan(allocations, plan_arena(allocations), 64)


def _model_paths() -> list[Path]:
    return sorted(MODELS.glob("*.tflite")) if MODELS.is_dir() else []


@pytest.mark.skipif(not _model_paths(), reason=f"no models in {MODELS}")
@pytest.mark.parametrize("path", _model_paths(), ids=lambda p: p.stem)
def test_real_models_are_planned_within_ten_percent(path: Path) -> None:
    try:
        from edgelite.model.reader import load
    except ImportError as error:
        pytest.skip(f"edgelite.model.reader is not available yet: {error}")
    model = load(str(path))
    subgraph = model.subgraphs[0]
    lifetimes = tensor_lifetimes(subgraph, constant=model)
    allocations = [Allocation(math.prod(subgraph.tensors[i].shape) * subgraph.tensors[i].type.itemsize,
                              *span) for i, span in lifetimes.items()]
    plan = plan_arena(allocations)
    _check_plan(allocations, plan, 64)
    print(f"{path.stem}: arena {plan.arena_size} lower bound {plan.lower_bound}")
    assert plan.arena_size <= 1.10 * plan.lower_bound
