"""Weight-decoding ops against LiteRT: DEQUANTIZE (float16, and affine int8/uint8/int16 per tensor
and per channel) and DENSIFY (TFLite's sparse format), plus edgelite's sparse-format encoder
(ops/_sparsity.py) against TFLite's own FormatConverter and as a round trip."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from edgelite.errors import EdgeliteError, ModelError
from edgelite.model.ir import (
    DimensionMetadata,
    Model,
    Operator,
    Quantization,
    Sparsity,
    Subgraph,
    Tensor,
    TensorType,
)
from edgelite.ops import dequantize
from edgelite.ops._sparsity import DENSE, SPARSE_CSR, decode, encode
from tests.ops.harness import Input, assert_same, check_op, const, run_edgelite, run_litert

EXACT = {"rtol": 0, "atol": 0}


@st.composite
def shapes(draw, min_rank: int = 1, max_rank: int = 4) -> tuple[int, ...]:
    rank = draw(st.integers(min_rank, max_rank))
    return tuple(draw(st.lists(st.integers(1, 5), min_size=rank, max_size=rank)))


def integers(seed: int, shape: tuple[int, ...], dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.random.default_rng(seed).integers(info.min, info.max, shape, endpoint=True, dtype=dtype)


def dequantize_operand(x: np.ndarray, quantization: Quantization | None, constant: bool):
    return const(x, quantization) if constant else Input(x, quantization)


# --- DEQUANTIZE -------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(dtype=st.sampled_from([np.int8, np.uint8, np.int16]), shape=shapes(min_rank=0),
       seed=st.integers(0, 2**32 - 1), scale=st.floats(2**-16, 50, width=32),
       zero_point=st.integers(-128, 255), constant=st.booleans())
def test_dequantize_per_tensor(dtype, shape, seed, scale, zero_point, constant):
    info = np.iinfo(dtype)
    # LiteRT 2.3 takes symmetric int16 only (newer TFLite any zero point: see the test below).
    zero_point = 0 if dtype == np.int16 else int(np.clip(zero_point, info.min, info.max))
    x = integers(seed, shape, dtype)
    check_op("DEQUANTIZE", [dequantize_operand(x, Quantization.of(scale, zero_point), constant)],
             output_dtypes=[np.float32], **EXACT)


@settings(max_examples=25, deadline=None)
@given(dtype=st.sampled_from([np.int8, np.uint8]), shape=shapes(), data=st.data(),
       seed=st.integers(0, 2**32 - 1), constant=st.booleans())
def test_dequantize_per_channel(dtype, shape, data, seed, constant):
    axis = data.draw(st.integers(0, len(shape) - 1), label="axis")
    if shape[axis] == 1:  # one scale is per-tensor quantization; make the axis a real channel axis
        shape = shape[:axis] + (3,) + shape[axis + 1:]
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    scales = rng.uniform(1e-4, 2, shape[axis]).astype(np.float32)
    zero_points = rng.integers(info.min, info.max, shape[axis], endpoint=True)
    quantization = Quantization.of(scales, zero_points, axis)
    x = integers(seed, shape, dtype)
    check_op("DEQUANTIZE", [dequantize_operand(x, quantization, constant)],
             output_dtypes=[np.float32], **EXACT)


@settings(max_examples=10, deadline=None)
@given(shape=shapes(min_rank=0), seed=st.integers(0, 2**32 - 1), constant=st.booleans())
def test_dequantize_float16(shape, seed, constant):
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float16) * 100
    x.reshape(-1)[:3] = np.array([np.inf, -np.inf, np.nan])[: x.size]
    check_op("DEQUANTIZE", [const(x) if constant else x], output_dtypes=[np.float32], **EXACT)


ALL_HALVES = np.arange(2**16, dtype=np.uint16).view(np.float16)  # every float16 bit pattern


def native_levels() -> list[str]:
    from edgelite.runtime import native

    return native.supported_isas() if native.available() else []


@pytest.fixture
def isa_restored():
    from edgelite.runtime import native

    before = native.isa()
    yield native
    native.set_isa(before)


@pytest.mark.skipif(not native_levels(), reason="the native extension is not built")
@pytest.mark.parametrize("level", ["scalar", "best"])
@pytest.mark.parametrize("start", [0, 1, 5])  # vector body, scalar tail, unaligned source
def test_native_float16_widening_is_numpys_on_every_bit_pattern(level, start, isa_restored):
    isa_restored.set_isa(native_levels()[-1] if level == "best" else level)
    x = ALL_HALVES[start:]
    out = np.full(x.shape, -1, np.float32)
    dequantize._widen_native(x, out)
    np.testing.assert_array_equal(out.view(np.uint32), x.astype(np.float32).view(np.uint32))


@pytest.mark.skipif(not native_levels(), reason="the native extension is not built")
def test_native_float16_widening_rejects_mismatched_buffers():
    with pytest.raises(ValueError, match="float16 source needs"):  # wrong length
        dequantize._widen_native(ALL_HALVES[:8], np.empty(7, np.float32))
    with pytest.raises(ValueError, match="float16 source needs"):  # odd source address
        dequantize._widen_native(ALL_HALVES[:8].view(np.uint8)[1:15], np.empty(7, np.float32))
    read_only = np.zeros(8, np.float32)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        dequantize._widen_native(ALL_HALVES[:8], read_only)


@pytest.mark.parametrize("native_path", [True, False], ids=["native", "numpy_fallback"])
def test_widen_float16_into_one_block_equals_astype(native_path, monkeypatch):
    if native_path and not native_levels():
        pytest.skip("the native extension is not built")
    if not native_path:
        monkeypatch.setattr(dequantize, "_widen_into_native", None)
    rng = np.random.default_rng(0)
    sources = [ALL_HALVES, ALL_HALVES[:0], ALL_HALVES[rng.permutation(2**16)[:77]].reshape(7, 11),
               ALL_HALVES[5:6].reshape(())]
    offsets = [3, 2**16 + 3, 2**16 + 20, 2**16 + 100]
    block = np.full(2**16 + 101, -7, np.float32)
    dequantize.widen_float16_into(sources, block, offsets)
    expected = np.full_like(block, -7)
    for x, offset in zip(sources, offsets, strict=True):
        expected[offset:offset + x.size] = x.reshape(-1).astype(np.float32)
    np.testing.assert_array_equal(block.view(np.uint32), expected.view(np.uint32))


@pytest.mark.skipif(not native_levels(), reason="the native extension is not built")
def test_native_widening_into_a_block_rejects_what_does_not_fit():
    block = np.zeros(10, np.float32)
    with pytest.raises(ValueError, match="does not fit"):
        dequantize._widen_into_native([ALL_HALVES[:8]], block, [3])
    with pytest.raises(ValueError, match="does not fit"):
        dequantize._widen_into_native([ALL_HALVES[:2]], block, [-1])
    with pytest.raises(ValueError, match="one offset per source"):
        dequantize._widen_into_native([ALL_HALVES[:2]], block, [])
    assert not block.any()


@pytest.mark.skipif(shutil.which("aarch64-linux-gnu-gcc") is None or shutil.which("qemu-aarch64") is None,
                    reason="needs the aarch64 cross compiler and qemu-user (see native/README.md, Arm tests)")
@pytest.mark.parametrize("level", [0, 1], ids=["scalar", "neon"])
def test_arm_float16_widening_is_numpys_on_every_bit_pattern(level, tmp_path):
    native = Path(__file__).parents[2] / "src" / "edgelite" / "native"
    binary = tmp_path / "arm_widen"
    subprocess.run(["aarch64-linux-gnu-gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-static",
                    f"-I{native / 'include'}", str(Path(__file__).with_name("arm_widen.c")),
                    str(native / "convert.c"), "-o", str(binary)], check=True)
    printed = subprocess.run(["qemu-aarch64", str(binary), str(level)], check=True, capture_output=True,
                             text=True).stdout.split()
    got = np.array([int(word, 16) for word in printed], dtype=np.uint32)
    np.testing.assert_array_equal(got, ALL_HALVES.astype(np.float32).view(np.uint32))


@pytest.mark.parametrize("native_path", [True, False], ids=["native", "numpy_fallback"])
@pytest.mark.parametrize("shape", [(2**16,), (256, 256), (4, 4, 4, 1024)])
def test_widen_float16_equals_astype_with_or_without_the_extension(native_path, shape, monkeypatch):
    if native_path and not native_levels():
        pytest.skip("the native extension is not built")
    if not native_path:
        monkeypatch.setattr(dequantize, "_widen_native", None)
    x = ALL_HALVES.reshape(shape)
    for source in (x, x[..., ::-1]):  # contiguous and strided
        out = np.empty(shape, np.float32)
        dequantize.widen_float16(source, out)
        np.testing.assert_array_equal(out.view(np.uint32), source.astype(np.float32).view(np.uint32))


@pytest.mark.parametrize(("dtype", "scale", "zero_point", "axis"), [
    (np.int16, [0.01], [1234], 0),  # asymmetric int16
    (np.uint16, [0.5], [32768], 0),
    (np.int16, [0.1, 0.002, 3.0], [0, 5, -7], 1),  # int16 per channel
])
def test_dequantize_beyond_litert_2_3(dtype, scale, zero_point, axis):
    """Cases newer TFLite accepts (or that follow from the formula) but LiteRT 2.3 rejects:
    checked against scale * (q - zero_point) computed exactly, rounded once to float32."""
    x = integers(0, (2, 3, 4), dtype)
    (ours,) = run_edgelite(single_dequantize(x, Quantization.of(scale, zero_point, axis)).to_bytes(), [])
    shape = [1, 1, 1]
    shape[axis] = len(scale)
    exact = np.float32(scale).reshape(shape).astype(np.float64) * (x - np.reshape(zero_point, shape))
    np.testing.assert_array_equal(ours, exact.astype(np.float32))


def single_dequantize(x: np.ndarray, quantization: Quantization | None,
                      out_type: TensorType = TensorType.FLOAT32) -> Model:
    model = Model(subgraphs=[Subgraph(name="main")])
    graph = model.subgraphs[0]
    graph.tensors = [Tensor("q", x.shape, TensorType.from_numpy(x.dtype), model.add_buffer(x), quantization),
                     Tensor("out", x.shape, out_type)]
    graph.operators = [Operator("DEQUANTIZE", (0,), (1,))]
    graph.inputs, graph.outputs = (), (1,)
    return model


@pytest.mark.parametrize(("quantization", "out_type"), [
    (None, TensorType.FLOAT32),  # no scale: TFLite would output zeros
    (Quantization.of([0.1, 0.2], [0, 0], 1), TensorType.FLOAT32),  # 2 scales, dimension of 4
    (Quantization.of([0.1, 0.2, 0.3], [0, 0, 0], 5), TensorType.FLOAT32),  # no such dimension
    (Quantization(np.array([0.1, 0.2, 0.3], np.float32), np.array([1], np.int64), 0),
     TensorType.FLOAT32),  # one zero point for three scales
    (Quantization.of(0.5, 0), TensorType.INT32),
])
def test_dequantize_rejects_bad_models(quantization, out_type):
    x = integers(1, (3, 4), np.int8)
    with pytest.raises(ModelError):
        run_edgelite(single_dequantize(x, quantization, out_type).to_bytes(), [])


# --- sparse format and DENSIFY ----------------------------------------------------------------

@st.composite
def sparse_layouts(draw, max_rank: int = 4, permute_blocks: bool = True) -> dict:
    """A dense tensor and the sparse layout to store it with: traversal order, formats, blocks.

    The block dimensions' traversal is an involution: TFLite reads block k's size from level
    traversal_order[rank + k], which is that block's level only then (see _sparsity.decode).
    """
    rank = draw(st.integers(1, max_rank))
    block_map = sorted(draw(st.sets(st.integers(0, rank - 1), max_size=rank)))
    block_size = [draw(st.integers(1, 3)) for _ in block_map]
    shape = [draw(st.integers(1, 4)) for _ in range(rank)]
    for d, size in zip(block_map, block_size, strict=True):
        shape[d] *= size
    outer = list(draw(st.permutations(range(rank))))
    inner = list(range(len(block_map)))
    if permute_blocks:
        inner = list(draw(st.permutations(inner).filter(lambda p: all(p[p[k]] == k for k in p))))
    formats = draw(st.lists(st.sampled_from([DENSE, SPARSE_CSR]), min_size=rank, max_size=rank))
    density = draw(st.sampled_from([0.0, 0.15, 0.5, 1.0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dense = rng.standard_normal(shape) * 4 * (rng.random(shape) < density)
    return {"dense": dense, "traversal_order": outer + [rank + k for k in inner],
            "formats": formats, "block_size": block_size, "block_map": block_map}


def typed(layout: dict, dtype) -> np.ndarray:
    return np.clip(layout["dense"], -128, 127).astype(dtype)


def encode_layout(dense: np.ndarray, layout: dict):
    return encode(dense, layout["traversal_order"], layout["formats"], layout["block_size"],
                  layout["block_map"])


@settings(max_examples=40, deadline=None)
@given(layout=sparse_layouts())
def test_encode_matches_tflite_format_converter(layout):
    converter = pytest.importorskip("ai_edge_litert.format_converter_wrapper_pybind11")
    kinds = {DENSE: converter.TfLiteDimensionType.TF_LITE_DIM_DENSE,
             SPARSE_CSR: converter.TfLiteDimensionType.TF_LITE_DIM_SPARSE_CSR}
    dense = typed(layout, np.float32)
    theirs = converter.FormatConverterFp32(
        list(dense.shape), layout["traversal_order"], [kinds[f] for f in layout["formats"]],
        layout["block_size"], layout["block_map"])
    theirs.DenseToSparse(np.ascontiguousarray(dense))
    values, sparsity = encode_layout(dense, layout)
    np.testing.assert_array_equal(values, np.array(theirs.GetData(), dtype=np.float32))
    metadata = theirs.GetDimMetadata()
    assert list(sparsity.traversal_order) == layout["traversal_order"]
    assert list(sparsity.block_map) == layout["block_map"]
    for level, dim in enumerate(sparsity.dim_metadata):
        if dim.format == DENSE:
            assert metadata[2 * level] == [dim.dense_size]
        else:
            assert metadata[2 * level] == dim.array_segments.tolist()
            assert metadata[2 * level + 1] == dim.array_indices.tolist()


@settings(max_examples=40, deadline=None)
@given(layout=sparse_layouts(), dtype=st.sampled_from([np.float32, np.float16, np.int8]))
def test_encode_decode_round_trip(layout, dtype):
    dense = typed(layout, dtype)
    values, sparsity = encode_layout(dense, layout)
    assert values.dtype == dense.dtype
    assert values.size <= dense.size or not any(layout["formats"])
    np.testing.assert_array_equal(decode(values, dense.shape, sparsity), dense)


def densify_model(values: np.ndarray, shape: tuple[int, ...], sparsity: Sparsity,
                  add_input: bool = False) -> Model:
    """DENSIFY of one sparse constant, optionally followed by ADD with a graph input."""
    model = Model(subgraphs=[Subgraph(name="main")])
    graph = model.subgraphs[0]
    tensor_type = TensorType.from_numpy(values.dtype)
    graph.tensors = [Tensor("sparse", tuple(shape), tensor_type, model.add_buffer(values), None, sparsity),
                     Tensor("dense", tuple(shape), tensor_type)]
    graph.operators = [Operator("DENSIFY", (0,), (1,))]
    graph.inputs, graph.outputs = (), (1,)
    if add_input:
        graph.tensors += [Tensor("x", tuple(shape), tensor_type), Tensor("sum", tuple(shape), tensor_type)]
        graph.operators.append(Operator("ADD", (1, 2), (3,)))
        graph.inputs, graph.outputs = (2,), (3,)
    return model


def run_both(model: Model, feeds: list[np.ndarray]) -> list[np.ndarray]:
    data = model.to_bytes()
    ours = run_edgelite(data, feeds)
    assert_same(ours, run_litert(data, feeds), **EXACT)
    return ours


@settings(max_examples=40, deadline=None)
@given(layout=sparse_layouts(permute_blocks=False), dtype=st.sampled_from([np.float32, np.float16, np.int8]))
def test_densify_matches_litert(layout, dtype):
    dense = typed(layout, dtype)
    values, sparsity = encode_layout(dense, layout)
    assume(values.size > 0)  # an empty buffer is no constant: LiteRT and edgelite both refuse
    (ours,) = run_both(densify_model(values, dense.shape, sparsity), [])
    np.testing.assert_array_equal(ours, dense)


def test_densify_feeds_another_op():
    dense = np.zeros((4, 8), np.float32)
    dense[[0, 0, 2, 3], [1, 6, 2, 7]] = [1.5, -2, 3, 4]
    values, sparsity = encode(dense, formats=[DENSE, SPARSE_CSR], block_size=[2], block_map=[1])
    x = np.arange(32, dtype=np.float32).reshape(4, 8)
    model = densify_model(values, dense.shape, sparsity, add_input=True)
    model.subgraphs[0].operators[1].options = None
    (ours,) = run_both(model, [x])
    np.testing.assert_array_equal(ours, dense + x)


def test_densify_permuted_block_traversal():
    dense = np.arange(1, 13, dtype=np.float32).reshape(3, 4)
    dense[1, 2] = 0
    values, sparsity = encode(dense, [0, 1, 3, 2], [DENSE, SPARSE_CSR], [3, 2], [0, 1])
    (ours,) = run_both(densify_model(values, dense.shape, sparsity), [])
    np.testing.assert_array_equal(ours, dense)


def csr(segments, indices, dtype=np.int32) -> DimensionMetadata:
    return DimensionMetadata(SPARSE_CSR, 0, np.asarray(segments, dtype), np.asarray(indices, dtype))


@pytest.mark.parametrize(("shape", "sparsity", "values"), [
    # Hand-written metadata the encoder would not produce: stored zeros, empty rows, unsorted
    # indices, index vectors of every width.
    ((3, 5), Sparsity((0, 1), (), [DimensionMetadata(DENSE, 3), csr([0, 2, 2, 5], [4, 0, 3, 1, 0])]),
     np.array([1, 0, 3, 4, 5], np.float32)),
    ((3, 5), Sparsity((1, 0), (), [csr([0, 2], [4, 1], np.uint8), csr([0, 1, 3], [2, 0, 1], np.uint16)]),
     np.array([7, 0, -3], np.float32)),
    ((4, 4), Sparsity((0, 1, 2), (1,), [DimensionMetadata(DENSE, 4),
                                         csr([0, 1, 1, 2, 2], [1, 0], np.uint8),
                                         DimensionMetadata(DENSE, 2)]),
     np.array([1, 2, 3, 4], np.int8)),
    ((2, 3), Sparsity((0, 1), (), [csr([0, 2], [1, 0]), csr([0, 1, 3], [2, 0, 2])]),
     np.array([5, 6, -1], np.float16)),
])
def test_densify_hand_written_metadata(shape, sparsity, values):
    run_both(densify_model(values, shape, sparsity), [])


def sparse_2x4() -> tuple[np.ndarray, Sparsity]:
    return encode(np.array([[0, 1, 0, 2], [3, 0, 0, 0]], np.float32))


@pytest.mark.parametrize("damage", ["short_values", "index_out_of_range", "bad_traversal",
                                    "metadata_count", "not_sparse", "graph_input"])
def test_densify_rejects_bad_models(damage):
    values, sparsity = sparse_2x4()
    shape = (2, 4)
    if damage == "short_values":
        values = values[:2]
    elif damage == "index_out_of_range":
        sparsity.dim_metadata[1].array_indices = np.array([1, 3, 9], np.uint8)
    elif damage == "bad_traversal":
        sparsity.traversal_order = (0, 0)
    elif damage == "metadata_count":
        sparsity.dim_metadata = sparsity.dim_metadata[:1]
    model = densify_model(values, shape, sparsity)
    graph = model.subgraphs[0]
    if damage == "not_sparse":
        graph.tensors[0].sparsity = None
        graph.tensors[0].shape = (values.size,)
    elif damage == "graph_input":
        graph.tensors[0].buffer = 0
        graph.inputs = (0,)
    feeds = [np.zeros(shape, np.float32)] if damage == "graph_input" else []
    with pytest.raises(EdgeliteError):  # from the reader or from DENSIFY's check
        run_edgelite(model.to_bytes(), feeds)


def test_decode_tolerates_what_tflite_tolerates():
    """Rows past the end of array_segments are empty and spare values are ignored (Populate)."""
    sparsity = Sparsity((0, 1), (), [DimensionMetadata(DENSE, 3), csr([0, 2], [2, 0, 1])])
    dense = decode(np.array([5, 6, 7, 8], np.float32), (3, 4), sparsity)
    expected = np.zeros((3, 4), np.float32)
    expected[0, [2, 0]] = [5, 6]
    np.testing.assert_array_equal(dense, expected)


@pytest.mark.parametrize(("values", "sparsity"), [
    (np.ones(1, np.float32), Sparsity((0, 1), (), [DimensionMetadata(DENSE, 2), csr([0, 1, 2], [0, 1])])),
    (np.ones(2, np.float32), Sparsity((0, 1), (), [DimensionMetadata(DENSE, 2), csr([0, 1, 2], [0, 4])])),
    (np.ones(2, np.float32), Sparsity((1, 1), (), [DimensionMetadata(DENSE, 2), csr([0, 1, 2], [0, 1])])),
    (np.ones(2, np.float32), Sparsity((0, 1), (), [DimensionMetadata(DENSE, 2)])),
    (np.ones(2, np.float32), Sparsity((0, 1), (), [DimensionMetadata(DENSE, 2), csr([-3, 1, 2], [0, 1])])),
    (np.ones(2, np.float32), Sparsity((0, 1), (), [DimensionMetadata(DENSE, 99), csr([0, 1], [0])])),
    (np.ones(2, np.float32), Sparsity((0, 1), (), [DimensionMetadata(DENSE, 2), DimensionMetadata(7, 4)])),
], ids=["short_values", "index_out_of_range", "bad_traversal", "metadata_count", "negative_segment",
        "dense_size_too_big", "unknown_format"])
def test_decode_rejects_malformed_metadata(values, sparsity):
    """What TFLite would read or write out of bounds is a ModelError (the reader catches most
    of it in files; decode also guards models built in memory)."""
    with pytest.raises(ModelError):
        decode(values, (2, 4), sparsity)
