"""native/slab.c and _slab.c: the lowering's buffers in slabs. Views keep a slab alive (nothing is
unmapped or reused while one lives), pieces are 64-byte aligned and zeroed where asked even on
reused memory, the cache of released slabs stays within its byte bound, large slabs are 2 MiB
aligned, and every packer gives the same bytes in a slab (reused, dirty memory included) as in a
bytearray of its own; an interpreter over reused slabs gives the same outputs bit for bit."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgelite.runtime import native

pytestmark = pytest.mark.skipif(native._engine is None, reason="the native extension is not built")
engine = native._engine
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MODELS = Path(__file__).parents[2].parent / "shared" / "models"
HUGE = 2 << 20


@pytest.fixture
def cache_limit():
    """Restores the process-wide cache bound after a test that changes it."""
    limit = engine.slab_cache()[0]
    yield limit
    engine.slab_cache(limit)


def dirty_cache(nbytes: int, count: int = 2, fill: int = 0xAB) -> None:
    """Leaves `count` released slabs of nbytes' class, every byte `fill`, in the cache."""
    slabs = [engine.slab(nbytes, False) for _ in range(count)]
    for slab in slabs:
        np.frombuffer(slab, np.uint8)[:] = fill
    del slabs


def piece(slab, offset: int, nbytes: int) -> np.ndarray:
    return np.frombuffer(slab, np.uint8, nbytes, offset)


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 300_000), st.booleans()), min_size=1, max_size=12),
       st.integers(0, 1 << 20))
def test_heap_pieces_are_aligned_disjoint_and_zeroed_where_asked(requests, estimate):
    dirty_cache(max(estimate, 1))
    heap = engine.heap(estimate)
    spans = []
    for nbytes, zeroed in requests:
        slab, offset = heap.take(nbytes, zeroed)
        view = piece(slab, offset, nbytes + 64)
        assert view.ctypes.data % 64 == 0 and offset + nbytes + 64 <= slab.nbytes
        assert not view[nbytes:].any()  # the 64 bytes after a piece are zero, as after a bytearray's
        if zeroed:
            assert not view.any()
        view[:nbytes] = 0x5A  # a later piece must not see or overwrite these
        spans.append((view.ctypes.data, nbytes, view))
    for _, nbytes, view in spans:
        assert (view[:nbytes] == 0x5A).all()
    ordered = sorted((start, start + nbytes + 64) for start, nbytes, _ in spans)
    assert all(end <= following for (_, end), (following, _) in zip(ordered, ordered[1:], strict=False))


def test_a_view_keeps_its_slab_mapped_and_out_of_the_cache(cache_limit):
    engine.slab_cache(64 << 20)
    heap = engine.heap(1 << 20)
    slab, offset = heap.take(4096)
    values = np.frombuffer(slab, np.float32, 1024, offset)
    values[:] = np.arange(1024, dtype=np.float32)
    address, end = slab.address, slab.address + slab.nbytes
    del slab, heap  # only the numpy view holds the slab now
    others = [engine.slab(1 << 20, True) for _ in range(4)]  # same class: reuse would take it
    for other in others:
        assert other.address >= end or other.address + other.nbytes <= address
        np.frombuffer(other, np.uint8)[:] = 0xFF
    assert (values == np.arange(1024, dtype=np.float32)).all()
    del others, values
    assert engine.slab(1 << 20, False).reused  # released at last: its region is back in the cache


def test_the_cache_stays_within_its_bound(cache_limit):
    engine.slab_cache(0)
    engine.slab_cache(5 << 20)
    slabs = [engine.slab(HUGE, False) for _ in range(4)]
    del slabs
    limit, held, regions = engine.slab_cache()
    assert limit == 5 << 20 and held <= limit and regions == 2 and held == 2 * HUGE
    assert engine.slab_cache(0) == (0, 0, 0)  # a lower bound trims at once


def test_a_zero_bound_keeps_nothing(cache_limit):
    engine.slab_cache(0)
    first = engine.slab(HUGE, False)
    del first
    assert engine.slab_cache() == (0, 0, 0)
    assert not engine.slab(HUGE, False).reused


def test_a_released_slab_is_reused_dirty_and_slab_zeroes_it(cache_limit):
    engine.slab_cache(64 << 20)
    first = engine.slab(3 << 20, False)
    address = first.address
    np.frombuffer(first, np.uint8)[:] = 7
    del first
    again = engine.slab(3 << 20)
    assert again.reused and again.address == address
    assert not np.frombuffer(again, np.uint8, 3 << 20).any()


@pytest.mark.parametrize("nbytes", [HUGE // 4, HUGE, 5 << 20])
def test_large_slabs_are_whole_2_mib_aligned_hugepage_ranges(nbytes, cache_limit):
    engine.slab_cache(0)
    slab = engine.slab(nbytes, False)
    assert slab.huge and slab.address % HUGE == 0 and slab.nbytes % HUGE == 0 and slab.nbytes >= nbytes


def test_small_slabs_are_whole_pages():
    slab = engine.slab(5000, False)
    assert not slab.huge and slab.nbytes == 8192 and slab.address % 4096 == 0


@pytest.mark.parametrize("call, message", [
    (lambda: engine.slab(0), "expected 1 to 2\\*\\*40"),
    (lambda: engine.slab(1 << 41), "expected 1 to 2\\*\\*40"),
    (lambda: engine.heap(-1), "estimate of -1 bytes"),
    (lambda: engine.heap(0).take(-3), "-3 bytes"),
    (lambda: engine.slab_cache(-2), "limit -2"),
])
def test_bad_sizes_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_packer_refuses_a_heap_of_another_type():
    with pytest.raises(TypeError, match="expected an _engine.Heap or None, got bytearray"):
        engine.pack_gemm(np.zeros((4, 6), np.float32), None, 1, 4, 6, bytearray(8))


def packed_bytes(result: tuple) -> bytes:
    raw, offset, nbytes = result[:3]
    view = np.frombuffer(raw, np.uint8)
    assert view[offset:].ctypes.data % 64 == 0
    return view[offset:offset + nbytes].tobytes()


@SETTINGS
@given(st.integers(1, 40), st.integers(1, 300), st.integers(1, 3), st.booleans(), st.booleans(),
       st.integers(0, 2**32 - 1))
def test_packers_give_the_same_bytes_in_reused_slabs(n, k, groups, with_bias, quads, seed):
    rng = np.random.default_rng(seed)
    w32 = rng.standard_normal((groups * n, k)).astype(np.float32)
    b32 = rng.standard_normal(groups * n).astype(np.float32) if with_bias else None
    w8 = rng.integers(-128, 128, (n, k), dtype=np.int8)
    b8 = rng.integers(-1000, 1000, n, dtype=np.int32) if with_bias else None
    scales = np.full(n, 0.01, np.float32)
    calls = [
        lambda *heap: engine.pack_gemm(w32, b32, groups, n, k, *heap),
        lambda *heap: engine.pack_qgemm(w8, n, k, 0, b8, scales, 0.5, 0.25, False, 3, quads, *heap),
        lambda *heap: engine.pack_qdwconv(w8, n, k, b8 if n == k else None, np.full(k, 0.01, np.float32), 0.5,
                                          0.25, -5, quads, *heap),
        lambda *heap: engine.pack_hgemm(w8, n, k, scales, b32[:n] if b32 is not None else None, *heap),
    ]
    want = [packed_bytes(call()) for call in calls]
    dirty_cache(64 << 10, count=4)
    heap = engine.heap(64 << 10)
    got = [packed_bytes(call(heap)) for call in calls]
    assert got == want
    raw, offset = engine.aligned_copy(w8, heap)
    assert np.frombuffer(raw, np.uint8)[offset:offset + w8.nbytes].tobytes() == w8.tobytes()


def outputs(interpreter_class, path: Path, seed: int) -> list[np.ndarray]:
    interpreter = interpreter_class(model_path=str(path))
    interpreter.allocate_tensors()
    rng = np.random.default_rng(seed)
    for detail in interpreter.get_input_details():
        dtype, shape = detail["dtype"], detail["shape"]
        value = rng.integers(-100, 100, shape).astype(dtype) if np.issubdtype(dtype, np.integer) else \
            rng.uniform(-1, 1, shape).astype(dtype)
        interpreter.set_tensor(detail["index"], value)
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]).copy() for d in interpreter.get_output_details()]


@pytest.mark.parametrize("name", ["mnv2_035_96_float32", "hand_landmark_lite", "mnv2_035_96_int8",
                                  "digits_cnn_dynamic_int8"])
def test_an_interpreter_over_reused_dirty_slabs_gives_the_same_outputs(name, cache_limit):
    from edgelite.runtime.interpreter import Interpreter

    path = MODELS / f"{name}.tflite"
    if not path.exists():
        pytest.skip(f"{path} is not there (see /work/shared/models/SOURCES.md)")
    engine.slab_cache(0)
    fresh = outputs(Interpreter, path, 1)  # every slab freshly mapped
    engine.slab_cache(256 << 20)
    for _ in range(2):  # garbage in every class the model's slabs could take
        for nbytes in [4096 * i for i in range(1, 128)] + [HUGE * i for i in range(1, 8)]:
            dirty_cache(nbytes, count=1, fill=0xC3)
    reused = outputs(Interpreter, path, 1)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(fresh, reused, strict=True))


@pytest.mark.parametrize("hugepages", ["0", "1"])
def test_the_bound_and_the_hugepage_advice_come_from_the_environment(hugepages):
    code = ("from edgelite.native import _engine as e\n"
            "s = e.slab(1 << 20); print(s.huge); del s\n"
            "print(*e.slab_cache())")
    source = str(Path(native.__file__).parents[2])
    env = {**os.environ, "EDGELITE_SLAB_CACHE": "3000000", "EDGELITE_SLAB_HUGEPAGES": hugepages,
           "PYTHONPATH": source}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == [str(hugepages == "1"), "3000000", str(HUGE), "1"]


def test_a_dropped_interpreter_returns_its_slabs_at_once(cache_limit):
    """No reference cycle keeps the native executor: its slabs are back in the cache without gc."""
    from edgelite.runtime.interpreter import Interpreter

    path = MODELS / "mnv2_035_96_float32.tflite"
    if not path.exists():
        pytest.skip(f"{path} is not there (see /work/shared/models/SOURCES.md)")
    engine.slab_cache(0)
    engine.slab_cache(256 << 20)
    gc.disable()
    try:
        interpreter = Interpreter(model_path=str(path))
        interpreter.allocate_tensors()
        interpreter.invoke()
        executor = weakref.ref(interpreter._executor)
        del interpreter
        assert executor() is None
        assert engine.slab_cache()[1] > 0
    finally:
        gc.enable()
