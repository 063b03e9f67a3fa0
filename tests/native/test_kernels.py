"""Every native kernel against edgelite's numpy reference, at every dispatch level this CPU has.

Each case is a one-op model run twice: on the reference executor and on the native executor
(asserting the node really was lowered to C). float32 results agree within 1e-5 relative; the
absolute floor is 1e-5 x the largest |output| (at least 1e-6) because the native gemm and
depthwise kernels accumulate in another order (and with FMA) than numpy's BLAS, so outputs that
cancel to near zero carry rounding of the size of the terms, not of the result.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.ops.harness import const, graph_feeds, single_op_model

from edgelite.ops._common import Activation, Padding
from edgelite.ops._pool import Pool2DOptions
from edgelite.ops.add import AddOptions
from edgelite.ops.concatenation import ConcatenationOptions
from edgelite.ops.conv_2d import Conv2DOptions
from edgelite.ops.depthwise_conv_2d import DepthwiseConv2DOptions
from edgelite.ops.fully_connected import FullyConnectedOptions
from edgelite.ops.mul import MulOptions
from edgelite.ops.softmax import SoftmaxOptions
from edgelite.ops.sub import SubOptions
from edgelite.runtime import native
from edgelite.runtime.interpreter import Interpreter

pytestmark = pytest.mark.skipif(native._engine is None, reason="the native extension is not built "
                                "(no C compiler at install time); the reference executor runs instead")
ACTIVATIONS = st.sampled_from([Activation.NONE, Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1])
SETTINGS = settings(max_examples=15, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
# (the `isa` fixture only caps the process-wide dispatch level: safe to share across examples)


def run(model_bytes: bytes, feeds: list[np.ndarray], executor: str,
        threads: int | None = None) -> tuple[list[np.ndarray], object]:
    """The model's outputs on one executor, and that executor."""
    interpreter = Interpreter(model_content=model_bytes, experimental_executor=executor, num_threads=threads)
    interpreter.allocate_tensors()
    for detail, value in zip(interpreter.get_input_details(), feeds, strict=True):
        interpreter.set_tensor(detail["index"], value)
    interpreter.invoke()
    outputs = [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]
    return outputs, interpreter._executor


def check_native(opcode: str, operands: list, options=None, rtol: float = 1e-5, terms: int = 1) -> None:
    """Native vs reference; `terms`: products summed per output (the dot-product length).

    Summation order differs (FMA tiles vs BLAS), so a sum of `terms` products of values up to 2
    in magnitude may differ by about terms * eps32 * 4 where it cancels to a small result.
    """
    model_bytes = single_op_model(opcode, operands, options).to_bytes()
    feeds = graph_feeds(operands)
    want, _ = run(model_bytes, feeds, "reference")
    got, executor = run(model_bytes, feeds, "native")
    assert all(executor.native), f"{opcode} was not lowered to the native engine"
    cancellation = terms * float(np.finfo(np.float32).eps) * 4
    for a, b in zip(got, want, strict=True):
        atol = max(1e-6, rtol * float(np.max(np.abs(b), initial=0.0)), cancellation)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def values(seed: int, shape) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-2, 2, shape).astype(np.float32)


@st.composite
def window(draw, max_kernel: int = 5):
    kh, kw = draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.sampled_from([Padding.SAME, Padding.VALID]))
    h, w = draw(st.integers(kh, kh + 9)), draw(st.integers(kw, kw + 9))
    return kh, kw, sh, sw, padding, h, w


@SETTINGS
@given(window(), st.integers(1, 2), st.integers(1, 3), st.integers(1, 20), st.integers(1, 40), ACTIVATIONS,
       st.booleans(), st.integers(0, 2**16))
def test_conv_2d(isa, geometry, batch, dilation, in_c, out_c, activation, with_bias, seed):
    kh, kw, sh, sw, padding, h, w = geometry
    h, w = h + (kh - 1) * (dilation - 1), w + (kw - 1) * (dilation - 1)
    operands = [values(seed, (batch, h, w, in_c)), const(values(seed + 1, (out_c, kh, kw, in_c))),
                const(values(seed + 2, (out_c,))) if with_bias else None]
    check_native("CONV_2D", operands, Conv2DOptions(padding, sw, sh, activation, dilation, dilation),
                 terms=kh * kw * in_c)


@SETTINGS
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.integers(20, 60), st.integers(1, 8),
       st.integers(1, 80), st.sampled_from([Padding.SAME, Padding.VALID]), st.integers(0, 2**16))
def test_conv_wide_rows(isa, kernel, stride, dilation, width, in_c, out_c, padding, seed):
    """Long runs of interior windows (the conv kernels, in MR-row chunks with a tail of any size,
    over up to 5 panels) between the border pixels (im2col and the gemm kernels), with strides and
    dilation."""
    h = kernel + (kernel - 1) * (dilation - 1) + seed % 4
    operands = [values(seed, (1, h, width, in_c)), const(values(seed + 1, (out_c, kernel, kernel, in_c))),
                const(values(seed + 2, (out_c,)))]
    options = Conv2DOptions(padding, stride, stride, Activation.RELU, dilation, dilation)
    check_native("CONV_2D", operands, options, terms=kernel * kernel * in_c)


@pytest.mark.parametrize("width", [25, 27, 29])
@pytest.mark.parametrize("out_c", [33, 70])
def test_conv_row_tails(isa, width, out_c):
    """Interior runs of 13, 14 and 15 pixels (12-row tiles plus a 1-, 2- or 3-row tail) over several
    panels: a 1x1 stride-2 convolution, whose every window is interior."""
    operands = [values(width, (1, 3, width, 5)), const(values(out_c, (out_c, 1, 1, 5))),
                const(values(1, (out_c,)))]
    check_native("CONV_2D", operands, Conv2DOptions(Padding.VALID, 2, 2, Activation.RELU6), terms=5)


@SETTINGS
@given(st.integers(1, 30), st.integers(1, 50), st.integers(1, 40), ACTIVATIONS, st.integers(0, 2**16))
def test_conv_1x1_is_a_gemm(isa, pixels, in_c, out_c, activation, seed):
    operands = [values(seed, (1, pixels, 1, in_c)), const(values(seed + 1, (out_c, 1, 1, in_c))),
                const(values(seed + 2, (out_c,)))]
    check_native("CONV_2D", operands, Conv2DOptions(Padding.SAME, 1, 1, activation), terms=in_c)


@SETTINGS
@given(window(), st.integers(1, 2), st.integers(1, 2), st.integers(1, 21), ACTIVATIONS, st.booleans(),
       st.integers(0, 2**16))
def test_depthwise_conv_2d(isa, geometry, batch, dilation, channels, activation, with_bias, seed):
    kh, kw, sh, sw, padding, h, w = geometry
    h, w = h + (kh - 1) * (dilation - 1), w + (kw - 1) * (dilation - 1)
    operands = [values(seed, (batch, h, w, channels)), const(values(seed + 1, (1, kh, kw, channels))),
                const(values(seed + 2, (channels,))) if with_bias else None]
    check_native("DEPTHWISE_CONV_2D", operands,
                 DepthwiseConv2DOptions(padding, sw, sh, 1, activation, dilation, dilation))


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("channels", [8, 13, 32])
def test_depthwise_3x3(isa, stride, channels):
    operands = [values(stride, (1, 11, 9, channels)), const(values(3, (1, 3, 3, channels))),
                const(values(4, (channels,)))]
    check_native("DEPTHWISE_CONV_2D", operands,
                 DepthwiseConv2DOptions(Padding.SAME, stride, stride, 1, Activation.RELU6))


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("channels", [5, 16, 40])
def test_depthwise_5x5(isa, stride, dilation, channels):
    """The 5x5 specialisation (dwconv25) with strides, dilation and a channel tail."""
    operands = [values(stride, (1, 14, 13, channels)), const(values(3, (1, 5, 5, channels))),
                const(values(4, (channels,)))]
    options = DepthwiseConv2DOptions(Padding.SAME, stride, stride, 1, Activation.RELU6, dilation, dilation)
    check_native("DEPTHWISE_CONV_2D", operands, options)


@SETTINGS
@given(st.integers(1, 9), st.integers(1, 70), st.integers(1, 40), ACTIVATIONS, st.booleans(),
       st.integers(0, 2**16))
def test_fully_connected(isa, batch, in_size, units, activation, with_bias, seed):
    operands = [values(seed, (batch, in_size)), const(values(seed + 1, (units, in_size))),
                const(values(seed + 2, (units,))) if with_bias else None]
    check_native("FULLY_CONNECTED", operands, FullyConnectedOptions(activation), terms=in_size)


@SETTINGS
@given(st.integers(1, 3), st.integers(1, 70), st.integers(60, 200), ACTIVATIONS, st.integers(0, 2**16))
def test_fully_connected_wide(isa, batch, in_size, units, activation, seed):
    """Many output panels for 1 to 3 rows (the AVX-512 gemm takes 4 or 2 panels at once for 1 or 2
    rows), with a partial last panel."""
    operands = [values(seed, (batch, in_size)), const(values(seed + 1, (units, in_size))),
                const(values(seed + 2, (units,)))]
    check_native("FULLY_CONNECTED", operands, FullyConnectedOptions(activation), terms=in_size)


@st.composite
def broadcast_pair(draw):
    rank = draw(st.integers(1, 5))
    out = [draw(st.integers(1, 6)) for _ in range(rank)]
    a = [d if draw(st.booleans()) else 1 for d in out]
    b = [d if draw(st.booleans()) else 1 for d in out][draw(st.integers(0, rank)):]
    return tuple(a), tuple(b)


@SETTINGS
@given(st.sampled_from([("ADD", AddOptions), ("SUB", SubOptions), ("MUL", MulOptions)]), broadcast_pair(),
       ACTIVATIONS, st.booleans(), st.integers(0, 2**16))
def test_binary_broadcast(isa, op, shapes, activation, b_const, seed):
    name, options = op
    b = values(seed + 1, shapes[1])
    check_native(name, [values(seed, shapes[0]), const(b) if b_const else b], options(activation))


SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5, -3.0, 3.0, 6.5, -1.5, 1e-30, 88.0, -100.0],
                   np.float32)


@pytest.mark.parametrize("opcode", ["RELU", "RELU6", "RELU_N1_TO_1", "HARD_SWISH", "LOGISTIC"])
@pytest.mark.parametrize("size", [1, 7, 8, 29])
def test_unary(isa, opcode, size):
    x = np.concatenate([SPECIAL, values(size, (size,)) * 5]).reshape(1, -1)
    model_bytes = single_op_model(opcode, [x]).to_bytes()
    want, _ = run(model_bytes, [x], "reference")
    got, executor = run(model_bytes, [x], "native")
    assert all(executor.native)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6, atol=0)  # NaN, infinities and -0.0 included
    numbers = ~np.isnan(want[0])
    np.testing.assert_array_equal(np.signbit(got[0][numbers]), np.signbit(want[0][numbers]))


@SETTINGS
@given(window(max_kernel=4), st.sampled_from(["MAX_POOL_2D", "AVERAGE_POOL_2D"]), st.integers(1, 19),
       ACTIVATIONS, st.integers(0, 2**16))
def test_pool(isa, geometry, opcode, channels, activation, seed):
    kh, kw, sh, sw, padding, h, w = geometry
    options = Pool2DOptions(padding, sw, sh, kw, kh, activation)
    check_native(opcode, [values(seed, (2, h, w, channels))], options)


@pytest.mark.parametrize("keep_dims", [False, True])
def test_mean_over_height_width(isa, keep_dims):
    from edgelite.ops._reduce import ReducerOptions
    axes = const(np.array([1, 2], np.int32))
    check_native("MEAN", [values(0, (2, 5, 7, 19)), axes], ReducerOptions(keep_dims))


@SETTINGS
@given(st.lists(st.integers(1, 5), min_size=1, max_size=4), st.data())
def test_pad(isa, shape, data):
    pads = np.array([[data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))] for _ in shape], np.int32)
    check_native("PAD", [values(1, tuple(shape)), const(pads)])


@SETTINGS
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.integers(1, 4), st.data())
def test_concatenation(isa, shape, count, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    parts = []
    for k in range(count):
        part = list(shape)
        part[axis] = data.draw(st.integers(1, 3))
        parts.append(values(k, tuple(part)))
    check_native("CONCATENATION", parts, ConcatenationOptions(axis, Activation.NONE))


def test_reshape_copies(isa):
    check_native("RESHAPE", [values(0, (2, 3, 4)), const(np.array([4, 6], np.int32))])


@pytest.mark.parametrize("beta", [1.0, 0.5, 2.0])
@pytest.mark.parametrize("shape", [(1, 10), (3, 7), (2, 2, 33)])
def test_softmax(isa, beta, shape):
    check_native("SOFTMAX", [values(1, shape) * 4], SoftmaxOptions(beta))


def test_manifest_files_exist_and_follow_the_naming_rule():
    from pathlib import Path

    root = Path(native.__file__).parents[1] / "native" / "kernels"
    for family, dtype, kernel, isa, stem, _ in native._engine.ukernels():
        assert stem == f"{dtype}-{kernel}-{isa}"
        assert (root / family / f"{stem}.c").is_file(), f"{stem}.c is listed in {family}.inc but missing"
    listed = {stem for *_, stem, _ in native._engine.ukernels()}
    # every architecture's lines (the *-neon*.c kernels are listed but not compiled on x86)
    manifests = "".join(p.read_text() for p in root.glob("*/*.inc"))
    listed |= {"-".join(m) for m in re.findall(r"EL_UKERNEL\(\w+, (\w+), (\w+), (\w+), \d+\)", manifests)}
    on_disk = {p.stem for p in root.glob("*/*.c")}
    assert on_disk <= listed, f"kernel files missing from a manifest: {sorted(on_disk - listed)}"


def pad_then_conv_model(x: np.ndarray, pads: list[int], opcode: str, weights: np.ndarray, bias: np.ndarray,
                        options) -> bytes:
    """x -> PAD (height and width: top, bottom, left, right) -> CONV_2D or DEPTHWISE_CONV_2D -> y."""
    from edgelite.model.ir import Model, Operator, Subgraph, Tensor, TensorType
    from edgelite.ops._conv import forward_conv_size

    model = Model(subgraphs=[Subgraph(name="main")])
    graph = model.subgraphs[0]
    paddings = np.array([[0, 0], pads[:2], pads[2:], [0, 0]], np.int32)
    padded = (x.shape[0], x.shape[1] + pads[0] + pads[1], x.shape[2] + pads[2] + pads[3], x.shape[3])
    kh, kw = weights.shape[1:3]
    out_h = forward_conv_size(padded[1], kh, options.stride_h, options.padding)
    out_w = forward_conv_size(padded[2], kw, options.stride_w, options.padding)
    channels = weights.shape[0] if opcode == "CONV_2D" else weights.shape[3]
    graph.tensors += [Tensor("x", x.shape, TensorType.FLOAT32, 0),
                      Tensor("paddings", (4, 2), TensorType.INT32, model.add_buffer(paddings)),
                      Tensor("padded", padded, TensorType.FLOAT32, 0),
                      Tensor("w", weights.shape, TensorType.FLOAT32, model.add_buffer(weights)),
                      Tensor("b", bias.shape, TensorType.FLOAT32, model.add_buffer(bias)),
                      Tensor("y", (x.shape[0], out_h, out_w, channels), TensorType.FLOAT32, 0)]
    graph.operators += [Operator("PAD", (0, 1), (2,), None), Operator(opcode, (2, 3, 4), (5,), options)]
    graph.inputs, graph.outputs = (0,), (5,)
    return model.to_bytes()


@SETTINGS
@given(st.lists(st.integers(0, 2), min_size=4, max_size=4), st.sampled_from(["CONV_2D", "DEPTHWISE_CONV_2D"]),
       st.integers(1, 3), st.integers(1, 2), st.sampled_from([Padding.VALID, Padding.SAME]),
       st.integers(1, 20), st.integers(0, 2**16))
def test_padding_fused_into_the_next_convolution(isa, pads, opcode, kernel, stride, padding, channels, seed):
    """A zero PAD of height and width right before a convolution is done by the convolution (its
    PAD node runs as a no-op), with the reference's results."""
    x = values(seed, (1, 4 + seed % 5, 3 + seed % 7, channels))
    if opcode == "CONV_2D":
        weights, bias = values(seed + 1, (5, kernel, kernel, channels)), values(seed + 2, (5,))
        options = Conv2DOptions(padding, stride, stride)
    else:
        weights = values(seed + 1, (1, kernel, kernel, channels))
        options = DepthwiseConv2DOptions(padding, stride, stride, 1, Activation.RELU6)
        bias = values(seed + 2, (channels,))
    model_bytes = pad_then_conv_model(x, pads, opcode, weights, bias, options)
    want, _ = run(model_bytes, [x], "reference")
    got, executor = run(model_bytes, [x], "native")
    assert all(executor.native) and executor.fused_pads == {2}
    atol = max(1e-6, 1e-5 * float(np.max(np.abs(want[0]), initial=0.0)), kernel * kernel * channels * 5e-7)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=atol)
