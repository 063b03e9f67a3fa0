"""Data-movement ops on int8, uint8 and int16 against LiteRT, bit for bit.

Movement ops copy raw integers, so they are exact whenever every operand shares one
quantization. For a differently quantized output edgelite refuses the model
(UnsupportedOpError) instead of reinterpreting the integers; LiteRT refuses it too for
EXPAND_DIMS, PACK, UNPACK, PADV2 (fill value), MIRROR_PAD, SPACE_TO_BATCH_ND and
BATCH_TO_SPACE_ND, and silently copies the raw integers for the others (see
test_mismatched_quantization)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgelite.errors import EdgeliteError, UnsupportedOpError
from edgelite.model.ir import Quantization
from edgelite.ops.depth_to_space import DepthToSpaceOptions
from edgelite.ops.gather import GatherOptions
from edgelite.ops.mirror_pad import MirrorPadMode, MirrorPadOptions
from edgelite.ops.pack import PackOptions
from edgelite.ops.reshape import ReshapeOptions
from edgelite.ops.resize_nearest_neighbor import ResizeNearestNeighborOptions
from edgelite.ops.space_to_depth import SpaceToDepthOptions
from edgelite.ops.split import SplitOptions
from edgelite.ops.split_v import SplitVOptions
from edgelite.ops.squeeze import SqueezeOptions
from edgelite.ops.strided_slice import StridedSliceOptions
from edgelite.ops.unpack import UnpackOptions
from tests.ops.harness import Input, check_op, const, graph_feeds, run_edgelite, run_litert, single_op_model

FAST = settings(max_examples=15, deadline=None)
DTYPES = [np.int8, np.uint8, np.int16]
QUANT = {np.int8: Quantization.of(0.05, -7), np.uint8: Quantization.of(0.02, 131),
         np.int16: Quantization.of(0.001, 0)}
OTHER = {np.int8: Quantization.of(0.1, 3), np.uint8: Quantization.of(0.04, 120),
         np.int16: Quantization.of(0.002, 0)}
shapes = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple)

# TFLite's op versions for int8 / int16 inputs (tools/versioning/op_version.cc); others are 1.
VERSIONS = {"TRANSPOSE": (2, 5), "GATHER": (2, 4), "GATHER_ND": (1, 3), "SPLIT": (2, 4),
            "SPLIT_V": (2, 1), "PACK": (2, 3), "UNPACK": (2, 4), "DEPTH_TO_SPACE": (2, 1),
            "SPACE_TO_DEPTH": (2, 1), "TILE": (3, 1), "BROADCAST_TO": (3, 3), "PAD": (2, 3),
            "PADV2": (2, 3), "MIRROR_PAD": (2, 3), "REVERSE_V2": (3, 1), "STRIDED_SLICE": (2, 1),
            "SPACE_TO_BATCH_ND": (2, 4), "BATCH_TO_SPACE_ND": (2, 4),
            "RESIZE_NEAREST_NEIGHBOR": (2, 4)}
MINIMUM_VERSION = {"BROADCAST_TO": 2}


def version(op: str, dtype) -> int:
    int8, int16 = VERSIONS.get(op, (1, 1))
    chosen = {np.int8: int8, np.int16: int16}.get(dtype, 1)
    return max(chosen, MINIMUM_VERSION.get(op, 1))


def integers(rng: np.random.Generator, shape: tuple, dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, endpoint=True, dtype=dtype)


def i32(values) -> object:
    return const(np.array(values, np.int32))


# A case: (operands, options, number of outputs) built from a data-drawing function, the input
# operand maker and the input shape.
Case = tuple[list, object, int]


def _reshape(draw, x, shape) -> Case:
    return [x(shape), i32([-1])], ReshapeOptions((-1,)), 1


def _transpose(draw, x, shape) -> Case:
    return [x(shape), i32(draw(st.permutations(range(len(shape)))))], None, 1


def _squeeze(draw, x, shape) -> Case:
    shape = tuple(1 if draw(st.booleans()) else d for d in shape)
    ones = [i for i, d in enumerate(shape) if d == 1]
    return [x(shape)], SqueezeOptions(tuple(draw(st.sampled_from([(), tuple(ones)])))), 1


def _expand_dims(draw, x, shape) -> Case:
    return [x(shape), i32(draw(st.integers(-len(shape) - 1, len(shape))))], None, 1


def _strided_slice(draw, x, shape) -> Case:
    begin = [draw(st.integers(-d, d - 1)) for d in shape]
    strides = [draw(st.sampled_from([-2, -1, 1, 2])) for _ in shape]
    end = [draw(st.integers(-d - 1, d)) for d in shape]
    mask = draw(st.integers(0, (1 << len(shape)) - 1))
    return [x(shape), i32(begin), i32(end), i32(strides)], StridedSliceOptions(end_mask=mask), 1


def _slice(draw, x, shape) -> Case:
    begin = [draw(st.integers(0, d - 1)) for d in shape]
    size = [draw(st.integers(1, d - b)) for d, b in zip(shape, begin, strict=True)]
    return [x(shape), i32(begin), i32(size)], None, 1


def _gather(draw, x, shape) -> Case:
    axis = draw(st.integers(0, len(shape) - 1))
    indices = draw(st.lists(st.integers(0, shape[axis] - 1), min_size=1, max_size=4))
    return [x(shape), i32(indices)], GatherOptions(axis, 0), 1


def _gather_nd(draw, x, shape) -> Case:
    depth = draw(st.integers(1, len(shape)))
    rows = draw(st.integers(1, 3))
    indices = [[draw(st.integers(0, shape[j] - 1)) for j in range(depth)] for _ in range(rows)]
    return [x(shape), i32(indices)], None, 1


def _split(draw, x, shape) -> Case:
    axis = draw(st.integers(0, len(shape) - 1))
    count = draw(st.sampled_from([c for c in range(1, shape[axis] + 1) if shape[axis] % c == 0]))
    return [i32(axis), x(shape)], SplitOptions(count), count


def _split_v(draw, x, shape) -> Case:
    axis = draw(st.integers(0, len(shape) - 1))
    first = draw(st.integers(0, shape[axis]))
    return [x(shape), i32([first, -1]), i32(axis)], SplitVOptions(2), 2


def _pack(draw, x, shape) -> Case:
    count = draw(st.integers(1, 3))
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    return [x(shape) for _ in range(count)], PackOptions(count, axis), 1


def _unpack(draw, x, shape) -> Case:
    axis = draw(st.integers(0, len(shape) - 1))
    return [x(shape)], UnpackOptions(shape[axis], axis), shape[axis]


def _depth_to_space(draw, x, shape) -> Case:
    block = draw(st.integers(1, 3))
    dims = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3)), 2 * block * block)
    return [x(dims)], DepthToSpaceOptions(block), 1


def _space_to_depth(draw, x, shape) -> Case:
    block = draw(st.integers(1, 3))
    dims = (draw(st.integers(1, 2)), block * draw(st.integers(1, 2)), block * draw(st.integers(1, 2)), 2)
    return [x(dims)], SpaceToDepthOptions(block), 1


def _tile(draw, x, shape) -> Case:
    return [x(shape), i32([draw(st.integers(1, 3)) for _ in shape])], None, 1


def _broadcast_to(draw, x, shape) -> Case:
    target = [draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 2)))]
    target += [draw(st.sampled_from([1, 3])) if d == 1 else d for d in shape]
    return [x(shape), i32(target)], None, 1


def _paddings(draw, shape) -> object:
    return i32([[draw(st.integers(0, 2)), draw(st.integers(0, 2))] for _ in shape])


def _pad(draw, x, shape) -> Case:
    return [x(shape), _paddings(draw, shape)], None, 1


def _padv2(draw, x, shape) -> Case:
    return [x(shape), _paddings(draw, shape), "fill"], None, 1


def _mirror_pad(draw, x, shape) -> Case:
    mode = draw(st.sampled_from(list(MirrorPadMode)))
    limit = (lambda d: d - 1) if mode == MirrorPadMode.REFLECT else (lambda d: d)  # noqa: E731
    pads = [[draw(st.integers(0, min(limit(d), 2))), draw(st.integers(0, min(limit(d), 2)))] for d in shape]
    return [x(shape), i32(pads)], MirrorPadOptions(mode), 1


def _reverse_v2(draw, x, shape) -> Case:
    return [x(shape), i32([draw(st.integers(-len(shape), len(shape) - 1))])], None, 1


def _space_to_batch_nd(draw, x, shape) -> Case:
    block = [draw(st.integers(1, 2)), draw(st.integers(1, 2))]
    pads = [[0, (-draw(st.integers(1, 3))) % b] for b in block]
    spatial = [b * draw(st.integers(1, 2)) - after for b, (_, after) in zip(block, pads, strict=True)]
    dims = (draw(st.integers(1, 2)), *spatial, draw(st.integers(1, 2)))
    return [x(dims), i32(block), i32(pads)], None, 1


def _batch_to_space_nd(draw, x, shape) -> Case:
    block = [draw(st.integers(1, 2)), draw(st.integers(1, 2))]
    batch = block[0] * block[1] * draw(st.integers(1, 2))
    dims = (batch, draw(st.integers(1, 3)), draw(st.integers(1, 3)), 2)
    return [x(dims), i32(block), i32([[0, 0], [0, block[1] - 1]])], None, 1


def _resize_nearest_neighbor(draw, x, shape) -> Case:
    dims = (1, draw(st.integers(1, 4)), draw(st.integers(1, 4)), 2)
    modes = draw(st.sampled_from([(False, False), (True, False), (False, True)]))
    size = [draw(st.integers(1, 9)), draw(st.integers(1, 9))]
    return [x(dims), i32(size)], ResizeNearestNeighborOptions(*modes), 1


CASES: dict[str, Callable] = {
    "RESHAPE": _reshape, "TRANSPOSE": _transpose, "SQUEEZE": _squeeze, "EXPAND_DIMS": _expand_dims,
    "STRIDED_SLICE": _strided_slice, "SLICE": _slice, "GATHER": _gather, "GATHER_ND": _gather_nd,
    "SPLIT": _split, "SPLIT_V": _split_v, "PACK": _pack, "UNPACK": _unpack,
    "DEPTH_TO_SPACE": _depth_to_space, "SPACE_TO_DEPTH": _space_to_depth, "TILE": _tile,
    "BROADCAST_TO": _broadcast_to, "PAD": _pad, "PADV2": _padv2, "MIRROR_PAD": _mirror_pad,
    "REVERSE_V2": _reverse_v2, "SPACE_TO_BATCH_ND": _space_to_batch_nd,
    "BATCH_TO_SPACE_ND": _batch_to_space_nd, "RESIZE_NEAREST_NEIGHBOR": _resize_nearest_neighbor,
}
NO_INT16 = {"DEPTH_TO_SPACE", "SPACE_TO_DEPTH"}  # LiteRT has no int16 kernel (edgelite refuses too)


def build(op: str, dtype, draw, seed: int, quant: Quantization, out_quant: Quantization) -> tuple[list, dict]:
    """Operands and single_op_model keyword arguments for one drawn case of `op`."""
    rng = np.random.default_rng(seed)

    def x(shape):
        return Input(integers(rng, shape, dtype), quant)

    operands, options, outputs = CASES[op](draw, x, draw(shapes))
    operands = [const(integers(rng, (), dtype), quant) if o == "fill" else o for o in operands]
    kwargs = {"num_outputs": outputs, "output_dtypes": [dtype] * outputs,
              "output_quant": [out_quant] * outputs, "version": version(op, dtype)}
    return operands, {"options": options, **kwargs}


@pytest.mark.parametrize("op", sorted(CASES))
@FAST
@given(dtype=st.sampled_from(DTYPES), data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_movement_quantized(op, dtype, data, seed):
    if dtype == np.int16 and op in NO_INT16:
        return
    operands, kwargs = build(op, dtype, data.draw, seed, QUANT[dtype], QUANT[dtype])
    options = kwargs.pop("options")
    if any(0 in s for s in _output_shapes(op, operands, options, kwargs)):
        return  # LiteRT's Python API cannot return empty outputs
    check_op(op, operands, options, rtol=0, atol=0, **kwargs)


def _output_shapes(op, operands, options, kwargs) -> list:
    model = single_op_model(op, operands, options, **kwargs)
    graph = model.subgraphs[0]
    return [graph.tensors[i].shape for i in graph.outputs]


@pytest.mark.parametrize("op", sorted(NO_INT16))
def test_int16_depth_space_rejected_like_litert(op):
    x = Input(np.zeros((1, 2, 2, 4), np.int16), QUANT[np.int16])
    options = DepthToSpaceOptions(2) if op == "DEPTH_TO_SPACE" else SpaceToDepthOptions(2)
    model = single_op_model(op, [x], options, output_quant=[QUANT[np.int16]])
    with pytest.raises(RuntimeError):
        run_litert(model.to_bytes(), graph_feeds([x]))
    with pytest.raises(UnsupportedOpError, match="INT16"):
        run_edgelite(model.to_bytes(), graph_feeds([x]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_pad_fills_with_output_zero_point(dtype):
    """PAD's padding is the quantized 0 (the zero point), e.g. 131 for this uint8 tensor."""
    x = Input(integers(np.random.default_rng(0), (2, 3), dtype), QUANT[dtype])
    (out,) = check_op("PAD", [x, i32([[1, 1], [0, 2]])], output_quant=[QUANT[dtype]],
                      version=version("PAD", dtype), rtol=0, atol=0)
    assert out[0, 0] == QUANT[dtype].zero_point[0]


# Where LiteRT refuses a differently quantized output (its Prepare checks scale and zero point).
LITERT_REJECTS = {"EXPAND_DIMS", "PACK", "UNPACK", "PADV2", "MIRROR_PAD", "SPACE_TO_BATCH_ND",
                  "BATCH_TO_SPACE_ND"}


@pytest.mark.parametrize("op", sorted(CASES))
@settings(max_examples=1, deadline=None)
@given(data=st.data())
def test_mismatched_quantization(op, data):
    """edgelite refuses a requantizing data movement for every op; LiteRT refuses it for the
    ops in LITERT_REJECTS and copies the raw integers (a wrong real value) for the rest."""
    dtype = np.int8
    operands, kwargs = build(op, dtype, data.draw, 1, QUANT[dtype], OTHER[dtype])
    if op == "PADV2":  # the fill value is what LiteRT checks against the output
        operands[2] = const(np.array(5, np.int8), OTHER[dtype])
        kwargs["output_quant"] = [QUANT[dtype]]
    options = kwargs.pop("options")
    model = single_op_model(op, operands, options, **kwargs).to_bytes()
    with pytest.raises(EdgeliteError, match="quantized differently"):
        run_edgelite(model, graph_feeds(operands))
    if op in LITERT_REJECTS:
        with pytest.raises(RuntimeError):
            run_litert(model, graph_feeds(operands))
    else:
        run_litert(model, graph_feeds(operands))

