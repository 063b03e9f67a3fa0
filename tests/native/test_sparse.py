"""The native engine's sparse ops (SPMM, QSPMM; kernels/spmm) against edgelite's reference sparse
kernels, at every dispatch level this CPU has: int8 EQUAL, float32 within rounding. Hypothesis
draws shapes crossing the kernels' blocks (rows around the 8-row spmv / 16-pixel spmm switch,
channels around 8), sparsities and layouts; results are bitwise the same for 1 and 3 threads, and
corrupted sparse tables are rejected by the C side's validation (ValueError), never run."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.ops.harness import Input, const
from tests.ops.sparse_models import LAYOUTS, sparse_model, sparse_weights
from tests.ops.test_sparse import PATTERN_OF, close, fc_operands, feed, q

from edgelite.ops._common import Activation, Padding
from edgelite.ops.batch_matmul import BatchMatMulOptions
from edgelite.ops.conv_2d import Conv2DOptions
from edgelite.ops.fully_connected import FullyConnectedOptions
from edgelite.runtime import native
from edgelite.runtime.interpreter import Interpreter

pytestmark = pytest.mark.skipif(native._engine is None, reason="the native extension is not built "
                                "(no C compiler at install time); the reference executor runs instead")
SETTINGS = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ACTIVATIONS = st.sampled_from([Activation.NONE, Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1])


def run(content: bytes, feeds: list[np.ndarray], executor: str, threads: int | None = None):
    interpreter = Interpreter(model_content=content, experimental_executor=executor, num_threads=threads)
    interpreter.allocate_tensors()
    for detail, value in zip(interpreter.get_input_details(), feeds, strict=True):
        interpreter.set_tensor(detail["index"], value)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"]), interpreter._executor


def check(content: bytes, feeds: list[np.ndarray], terms: int, op: str) -> None:
    """Native (1 and 3 threads) vs reference; the node must have been lowered to `op`."""
    want, _ = run(content, feeds, "reference")
    got, executor = run(content, feeds, "native")
    assert all(executor.native), "the sparse node was not lowered to the native engine"
    assert executor.program is not None
    assert op in {record.op for record in _records(executor)}
    close(got, want, terms)
    threaded, _ = run(content, feeds, "native", threads=3)
    np.testing.assert_array_equal(threaded, got)


def _records(executor):
    lowering = native.Lowering(executor)
    for planned in executor.plan.nodes:
        lowering.lower(planned)
    return lowering.records


@st.composite
def sparse_case(draw, units_max: int = 40):
    layout = draw(st.sampled_from(LAYOUTS))
    pattern = PATTERN_OF[layout]
    block = 1 if pattern == "unstructured" else int(pattern[len("block(1,"):-1])
    units = draw(st.integers(1, units_max))
    depth = block * draw(st.integers(1, 5 if block == 16 else 40 // block + 1))
    int8 = draw(st.booleans())
    sparsity = draw(st.sampled_from([0.0, 0.5, 0.75, 0.9, 1.0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    w = sparse_weights(rng, (units, depth), sparsity, pattern, np.int8 if int8 else np.float32)
    w.flat[0] = w.flat[0] or 1  # an all-zero constant cannot be stored
    return layout, int8, w, rng


@SETTINGS
@given(sparse_case(), st.integers(1, 40), ACTIVATIONS, st.booleans(), st.booleans())
def test_fully_connected(isa, case, batch, activation, with_bias, direct):
    layout, int8, w, rng = case
    x = feed(rng, (batch, w.shape[1]), int8)
    operands, kwargs = fc_operands(int8, x, w, rng, with_bias)
    content = sparse_model("FULLY_CONNECTED", operands, FullyConnectedOptions(activation), 1, layout, direct,
                           **kwargs).to_bytes()
    check(content, [x], w.shape[1], "QSPMM" if int8 else "SPMM")


@SETTINGS
@given(sparse_case(units_max=30), st.integers(1, 2), st.integers(1, 9), st.integers(1, 9), st.integers(1, 3),
       ACTIVATIONS)
def test_pointwise_conv(isa, case, batch, h, w_, stride, activation):
    layout, int8, w, rng = case
    out_c, in_c = w.shape
    x = feed(rng, (batch, h, w_, in_c), int8)
    operands, kwargs = fc_operands(int8, x, w.reshape(out_c, 1, 1, in_c), rng, True)
    options = Conv2DOptions(Padding.SAME if stride % 2 else Padding.VALID, stride, stride, activation)
    content = sparse_model("CONV_2D", operands, options, 1, layout, False, **kwargs).to_bytes()
    check(content, [x], in_c, "QSPMM" if int8 else "SPMM")


@SETTINGS
@given(st.sampled_from(LAYOUTS), st.booleans(), st.integers(1, 3), st.integers(1, 20), st.integers(1, 5),
       st.integers(1, 24), st.integers(0, 2**32 - 1))
def test_batch_matmul_float(isa, layout, adj_y, batch, rows, depth_blocks, cols, seed):
    rng = np.random.default_rng(seed)
    block = 1 if layout.startswith("csr") else int(layout[len("block(1,"):-1])
    last = block * (depth_blocks if adj_y else max(1, cols // block))
    shape = (cols, last) if adj_y else (depth_blocks * 4, last)
    rhs = sparse_weights(rng, shape, 0.75, PATTERN_OF[layout])
    rhs.flat[0] = rhs.flat[0] or 1
    lhs = rng.standard_normal((batch, rows, shape[1] if adj_y else shape[0])).astype(np.float32)
    content = sparse_model("BATCH_MATMUL", [lhs, const(rhs)], BatchMatMulOptions(adj_y=adj_y), 1, layout,
                           False).to_bytes()
    check(content, [lhs], lhs.shape[-1], "SPMM")


# -- the C side's validation of the sparse tables -----------------------------------------------------------
P = 3 + native.MAX_INPUTS  # first param word of a node row


def _lowered(int8: bool, layout: str = "block(1,4)"):
    rng = np.random.default_rng(5)
    w = sparse_weights(rng, (24, 32), 0.5, PATTERN_OF[layout], np.int8 if int8 else np.float32)
    x = feed(rng, (20, 32), int8)
    operands, kwargs = fc_operands(int8, x, w, rng, True)
    model = sparse_model("FULLY_CONNECTED", operands, FullyConnectedOptions(), 1, layout, **kwargs)
    interpreter = Interpreter(model_content=model.to_bytes(), experimental_executor="reference")
    interpreter.allocate_tensors()
    lowering = native.Lowering(interpreter._executor)
    for planned in interpreter.plan.nodes:
        assert lowering.lower(planned)
    tensors, nodes = lowering.tables()
    return tensors, nodes, lowering


def _index(tensors, nodes, lowering) -> np.ndarray:
    """The node's int32 sparse index (row pointers, then block starts), as a writable copy in place."""
    buffer = int(tensors[nodes[0, 4], 0])
    lowering.buffers[buffer] = np.array(lowering.buffers[buffer])
    return lowering.buffers[buffer].view(np.int32)


def _shift_last_block(index: np.ndarray) -> None:
    index[-1] = index[-1] - 1 if index[-1] else 1


def _swap_row_pointers(t, n, lw):
    index = _index(t, n, lw)
    index[3], index[4] = index[4] + 1, index[3]


CORRUPTIONS = {
    "block column past K": lambda t, n, lw: _index(t, n, lw).__setitem__(-1, 10**6),
    "negative block column": lambda t, n, lw: _index(t, n, lw).__setitem__(-1, -4),
    "misaligned block": lambda t, n, lw: _shift_last_block(_index(t, n, lw)),
    "decreasing row pointers": _swap_row_pointers,
    "row pointers not ending at the block count": lambda t, n, lw: _index(t, n, lw).__setitem__(24, 1),
    "block size": lambda t, n, lw: n.__setitem__((0, P + 3), 8),
    "block count": lambda t, n, lw: n.__setitem__((0, P + 4), n[0, P + 4] + 1),
    "K": lambda t, n, lw: n.__setitem__((0, P + 1), 64),
    "mode": lambda t, n, lw: n.__setitem__((0, P + 0), 7),
}


@pytest.mark.parametrize("int8", [False, True])
@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_validator_rejects_corrupted_sparse_tables(corruption, int8):
    tensors, nodes, lowering = _lowered(int8)
    assert nodes[0, 0] == native.CODE["QSPMM" if int8 else "SPMM"]
    native._engine.Program(tensors, nodes, lowering.buffers, lowering.writable)  # the intact tables pass
    CORRUPTIONS[corruption](tensors, nodes, lowering)
    with pytest.raises(ValueError, match="native"):
        native._engine.Program(tensors, nodes, lowering.buffers, lowering.writable)


def test_int8_shift_out_of_range_is_rejected():
    tensors, nodes, lowering = _lowered(True)
    buffer = int(tensors[nodes[0, 5], 0])  # channel params: bias, multiplier, shift, 0
    lowering.buffers[buffer] = np.array(lowering.buffers[buffer])
    lowering.buffers[buffer].view(np.int32)[2] = 40
    with pytest.raises(ValueError, match="shift"):
        native._engine.Program(tensors, nodes, lowering.buffers, lowering.writable)


def test_int8_weights_with_a_zero_point_stay_on_the_reference():
    """Asymmetric int8 weights: the skipped zeros would not be zero; the reference densifies them."""
    rng = np.random.default_rng(3)
    w = sparse_weights(rng, (8, 16), 0.5, "block(1,4)", np.int8)
    x = feed(rng, (3, 16), True)
    operands = [Input(x, q(0.05, 1)), const(w, q(0.01, 5)), None]
    content = sparse_model("FULLY_CONNECTED", operands, FullyConnectedOptions(), 1, "block(1,4)",
                           output_quant=[q(0.5)], output_dtypes=[np.int8]).to_bytes()
    want, _ = run(content, [x], "reference")
    got, executor = run(content, [x], "native")
    assert not any(executor.native)
    np.testing.assert_array_equal(got, want)
