"""Quantized elementwise binary ops against LiteRT, bit-exact: ADD, SUB (general rescaling and
int16's power-of-two path), MUL (incl. int16 -> int8), SQUARED_DIFFERENCE, the comparisons,
MAXIMUM/MINIMUM and SELECT_V2 (raw values, any quantization), PRELU with a quantized alpha and
CONCATENATION (uint8 requantized, int16 raw) -- with broadcasting, constants, fused activations,
hypothesis-drawn scales and zero points, and the models LiteRT rejects rejected at prepare."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import edgelite
from edgelite.errors import ModelError, UnsupportedOpError
from edgelite.model.ir import Quantization
from edgelite.ops._common import Activation
from edgelite.ops.concatenation import ConcatenationOptions
from tests.ops.harness import Input, check_op, const, graph_feeds, run_edgelite, single_op_model
from tests.ops.test_binary import broadcast_shapes, options

EXACT = {"rtol": 0, "atol": 0}
BOOL = [np.bool_]
COMPARISONS = ("EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL")
seeds = st.integers(0, 2**32 - 1)
scales = st.floats(1e-3, 1.0)
ratios = st.floats(-3.0, 3.0)  # output scale = a typical scale of the result * 2**ratio


def integers(rng: np.random.Generator, shape: tuple[int, ...], dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)


def zero_point(draw, dtype) -> int:
    """A zero point for dtype: any for 8-bit types, 0 for int16 (TFLite's int16 is symmetric)."""
    if np.dtype(dtype) == np.int16:
        return 0
    info = np.iinfo(dtype)
    return draw(st.integers(int(info.min), int(info.max)))


def operand(value: np.ndarray, scale: float, zp: int, constant: bool = False):
    quantization = Quantization.of(scale, zp)
    return const(value, quantization) if constant else Input(value, quantization)


def version(op: str, dtype, shapes=(), options_=None, mul_rescale: float = 0.0) -> int:
    """The op version TFLite's converter writes (tflite/tools/versioning/op_version.cc)."""
    int16, int8 = np.dtype(dtype) == np.int16, np.dtype(dtype) == np.int8
    wide_broadcast = len({tuple(s) for s in shapes}) > 1 and max(len(s) for s in shapes) > 4
    if op == "ADD":
        return 3 if int16 and not options_.pot_scale_int16 else 2 if int8 else 1
    if op == "SUB":
        return 5 if int16 and not options_.pot_scale_int16 else 3 if wide_broadcast else \
            2 if int8 else 1
    if op == "MUL":
        return 4 if int16 else 3 if mul_rescale >= 1 else 2 if int8 else 1
    if op in ("MAXIMUM", "MINIMUM"):
        return 4 if int16 else 3 if wide_broadcast else 2 if int8 else 1
    if op == "EQUAL":
        return 4 if int16 else 2 if int8 else 1
    if op in ("LESS", "GREATER_EQUAL"):
        return 3 if int16 else 2 if int8 else 1
    if op == "CONCATENATION":
        return 3 if int16 else 2 if int8 else 1
    return 2 if int8 or int16 else 1


# --- ADD, SUB ----------------------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(op=st.sampled_from(["ADD", "SUB"]), dtype=st.sampled_from([np.int8, np.uint8, np.int16]),
       shapes=broadcast_shapes(), scale_x=scales, scale_y=scales, ratio=ratios,
       activation=st.sampled_from(list(Activation)), y_const=st.booleans(), seed=seeds,
       data=st.data())
def test_add_sub(op, dtype, shapes, scale_x, scale_y, ratio, activation, y_const, seed, data):
    """General rescaling (int16: pot_scale_int16=False, as TFLite's converter writes it)."""
    rng = np.random.default_rng(seed)
    opts = options(op, activation)
    if np.dtype(dtype) == np.int16:
        opts.pot_scale_int16 = False
    zps = [zero_point(data.draw, dtype) for _ in range(3)]
    x = operand(integers(rng, shapes[0], dtype), scale_x, zps[0])
    y = operand(integers(rng, shapes[1], dtype), scale_y, zps[1], y_const)
    out_scale = max(scale_x, scale_y) * 2.0**ratio
    check_op(op, [x, y], opts, output_quant=[Quantization.of(out_scale, zps[2])],
             version=version(op, dtype, shapes, opts), **EXACT)


@settings(max_examples=25, deadline=None)
@given(op=st.sampled_from(["ADD", "SUB"]), shapes=broadcast_shapes(), out_log2=st.integers(-14, 0),
       finer=st.integers(0, 6), shifted=st.sampled_from([0, 1]),
       activation=st.sampled_from(list(Activation)), seed=seeds)
def test_add_sub_int16_power_of_two(op, shapes, out_log2, finer, shifted, activation, seed):
    """int16 with power-of-two scales (pot_scale_int16, the default): LSTM's saturating path,
    one input on the output's scale and the other (`shifted`) 2**finer times finer."""
    if op == "ADD":  # TFLite's power-of-two ADD cannot broadcast (it aborts); edgelite rejects it
        shapes = [shapes[0], shapes[0]]
    rng = np.random.default_rng(seed)
    logs = [out_log2, out_log2]
    logs[shifted] -= finer
    x, y = (operand(integers(rng, s, np.int16), 2.0**log, 0)
            for s, log in zip(shapes, logs, strict=True))
    check_op(op, [x, y], options(op, activation), output_quant=[Quantization.of(2.0**out_log2)],
             version=1, **EXACT)


# --- MUL, SQUARED_DIFFERENCE -------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(dtype=st.sampled_from([np.int8, np.uint8, np.int16]), shapes=broadcast_shapes(),
       scale_x=scales, scale_y=scales, ratio=st.floats(-2.0, 8.0),
       activation=st.sampled_from(list(Activation)), y_const=st.booleans(), seed=seeds,
       data=st.data())
def test_mul(dtype, shapes, scale_x, scale_y, ratio, activation, y_const, seed, data):
    rng = np.random.default_rng(seed)
    zps = [zero_point(data.draw, dtype) for _ in range(3)]
    x = operand(integers(rng, shapes[0], dtype), scale_x, zps[0])
    y = operand(integers(rng, shapes[1], dtype), scale_y, zps[1], y_const)
    # ratio up to 8: the product of two full-range values needs ~2**7..2**14 times the scales
    out_scale = scale_x * scale_y * 2.0**ratio
    rescale = np.float32(np.float32(scale_x) * np.float32(scale_y)) / np.float32(out_scale)
    check_op("MUL", [x, y], options("MUL", activation),
             output_quant=[Quantization.of(out_scale, zps[2])],
             version=version("MUL", dtype, mul_rescale=float(rescale)), **EXACT)


@settings(max_examples=15, deadline=None)
@given(out_dtype=st.sampled_from([np.int8, np.uint8]), shapes=broadcast_shapes(), seed=seeds,
       activation=st.sampled_from(list(Activation)), data=st.data())
def test_mul_int16_to_8bit(out_dtype, shapes, seed, activation, data):
    """int16 x int16 -> int8/uint8 (TFLite's LSTM helper): Q0.15 product, the scales unused."""
    shapes = [shapes[0], shapes[0]]  # TFLite's kernel has no broadcasting variant
    rng = np.random.default_rng(seed)
    x, y = (operand(integers(rng, s, np.int16), 2.0**-15, 0) for s in shapes)
    out = Quantization.of(2.0**-7, zero_point(data.draw, out_dtype))
    check_op("MUL", [x, y], options("MUL", activation), output_quant=[out],
             output_dtypes=[out_dtype], version=4, **EXACT)


@settings(max_examples=25, deadline=None)
@given(shapes=broadcast_shapes(), scale_x=scales, scale_y=scales, ratio=st.floats(-1.0, 9.0),
       y_const=st.booleans(), seed=seeds, data=st.data())
def test_squared_difference(shapes, scale_x, scale_y, ratio, y_const, seed, data):
    rng = np.random.default_rng(seed)
    zps = [zero_point(data.draw, np.int8) for _ in range(3)]
    x = operand(integers(rng, shapes[0], np.int8), scale_x, zps[0])
    y = operand(integers(rng, shapes[1], np.int8), scale_y, zps[1], y_const)
    out_scale = max(scale_x, scale_y) ** 2 * 2.0**ratio
    check_op("SQUARED_DIFFERENCE", [x, y], options("SQUARED_DIFFERENCE"),
             output_quant=[Quantization.of(out_scale, zps[2])], version=2, **EXACT)


@st.composite
def row_shapes(draw) -> list[tuple[int, ...]]:
    """Shapes with long rows, so that LiteRT's vector loops (8 or 16 lanes) and their scalar
    tails both run: equal shapes, a row or a column broadcast, a scalar."""
    rows, cols = draw(st.integers(1, 3)), draw(st.integers(1, 40))
    other = draw(st.sampled_from([(rows, cols), (1, cols), (cols,), (rows, 1), (), (1, 1)]))
    return [(rows, cols), other][:: draw(st.sampled_from([1, -1]))]


@settings(max_examples=40, deadline=None)
@given(op=st.sampled_from(["ADD", "MUL"]), dtype=st.sampled_from([np.int8, np.uint8, np.int16]),
       shapes=row_shapes(), scale_x=scales, scale_y=scales, ratio=st.floats(-12.0, 3.0),
       activation=st.sampled_from(list(Activation)), seed=seeds, data=st.data())
def test_add_mul_vector_rows(op, dtype, shapes, scale_x, scale_y, ratio, activation, seed, data):
    """Long rows and small output scales: LiteRT's vector loops narrow 8-bit results to int16
    (wrapping or saturating) before adding the offset, which the scalar tails do not."""
    rng = np.random.default_rng(seed)
    opts = options(op, activation)
    if op == "ADD" and np.dtype(dtype) == np.int16:
        opts.pot_scale_int16 = False
    zps = [zero_point(data.draw, dtype) for _ in range(3)]
    x = operand(integers(rng, shapes[0], dtype), scale_x, zps[0])
    y = operand(integers(rng, shapes[1], dtype), scale_y, zps[1])
    typical = max(scale_x, scale_y) if op == "ADD" else scale_x * scale_y * 2**7
    out_scale = typical * 2.0**ratio
    rescale = float(np.float32(np.float32(scale_x) * np.float32(scale_y)) / np.float32(out_scale))
    check_op(op, [x, y], opts, output_quant=[Quantization.of(out_scale, zps[2])],
             version=version(op, dtype, shapes, opts, mul_rescale=rescale), **EXACT)


# Elements where LiteRT's vector loops round differently from TFLite's scalar formula (ADD:
# one combined shift, or a truncating shift; MUL: int16 narrowing), found by search.
VECTOR_CASES = [  # op, dtype, (scale, zero point) of x, y, output, x value, y value, broadcast
    ("ADD", np.int8, (0.2600212097167969, -8), (0.2653520107269287, 3), (1.4998828172683716, 0),
     31, -55, False),
    ("ADD", np.int16, (0.00015668623382225633, 0), (0.9924404621124268, 0),
     (9.901241302490234, 0), -21228, 9985, False),
    ("ADD", np.int16, (0.0019016851438209414, 0), (0.1583135575056076, 0),
     (21.653310775756836, 0), 1308, 463, False),
    ("ADD", np.int8, (0.005297322757542133, -92), (0.005907935556024313, -81),
     (0.13353875279426575, 0), -6, -79, True),
    ("ADD", np.uint8, (0.05925275757908821, 96), (0.06498556584119797, 165),
     (0.23290415108203888, 128), 102, 233, True),
    ("MUL", np.uint8, (0.6499696892454553, 60), (0.04119690385847719, 16),
     (0.007167845608299954, 30), 234, 114, False),
    ("MUL", np.int8, (0.001532857966415853, -110), (0.0046671277844388525, -30),
     (3.973228178683229e-06, -4), 116, -117, False),
]


@pytest.mark.parametrize("op, dtype, quant_x, quant_y, quant_out, x_value, y_value, broadcast",
                         VECTOR_CASES)
@pytest.mark.parametrize("length", [16, 15, 17])
def test_vector_loop_rounding(op, dtype, quant_x, quant_y, quant_out, x_value, y_value,
                              broadcast, length):
    """Each case in a row of 16 (all vector lanes), 15 and 17 (a scalar tail), broadcast both
    ways where the case is a scalar-broadcast row."""
    opts = options(op)
    if op == "ADD" and np.dtype(dtype) == np.int16:
        opts.pot_scale_int16 = False
    x = operand(np.full(length, x_value, dtype), *quant_x)
    y = operand(np.full(1 if broadcast else length, y_value, dtype), *quant_y)
    for pair in ([x, y], [y, x]) if broadcast else ([x, y],):
        check_op(op, pair, opts, output_quant=[Quantization.of(*quant_out)],
                 version=version(op, dtype, [(length,)], opts, mul_rescale=2.0), **EXACT)


# --- Comparisons, MAXIMUM/MINIMUM, SELECT_V2 ---------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(op=st.sampled_from(COMPARISONS), dtype=st.sampled_from([np.int8, np.uint8, np.int16]),
       shapes=broadcast_shapes(), scale_x=st.floats(1e-3, 0.3),
       ratio=st.sampled_from([(1, 1), (1, 2), (2, 1), (3, 4), (3, 2), (1, 3)]),
       y_const=st.booleans(), seed=seeds, data=st.data())
def test_comparisons(op, dtype, shapes, scale_x, ratio, y_const, seed, data):
    """8-bit (and quantized int16 EQUAL/NOT_EQUAL) inputs compare on one scale. y's scale is
    x's times p/q and the values k * q * scale_y = k * p * scale_x with small k, so that equal
    real values are common (and whether TFLite's rescaled integers tie is tested)."""
    p, q = ratio
    scale_y = scale_x * p / q
    rng = np.random.default_rng(seed)
    zps = [zero_point(data.draw, dtype) for _ in range(2)]
    x_value = zps[0] + rng.integers(-4, 4, shapes[0], endpoint=True) * p
    y_value = zps[1] + rng.integers(-4, 4, shapes[1], endpoint=True) * q
    info = np.iinfo(dtype)
    x = operand(np.clip(x_value, info.min, info.max).astype(dtype), scale_x, zps[0])
    y = operand(np.clip(y_value, info.min, info.max).astype(dtype), scale_y, zps[1], y_const)
    check_op(op, [x, y], options(op), output_dtypes=BOOL, version=version(op, dtype), **EXACT)


@settings(max_examples=20, deadline=None)
@given(op=st.sampled_from(["MAXIMUM", "MINIMUM"]), dtype=st.sampled_from([np.int8, np.uint8, np.int16]),
       shapes=broadcast_shapes(), quant=st.lists(st.tuples(scales, st.integers(-100, 100)),
                                                 min_size=3, max_size=3),
       y_const=st.booleans(), seed=seeds)
def test_maximum_minimum_quantized(op, dtype, shapes, quant, y_const, seed):
    """LiteRT picks raw values whatever the quantizations (it does not requantize)."""
    rng = np.random.default_rng(seed)
    unsigned = np.dtype(dtype) == np.uint8
    quant = [(s, abs(z) if unsigned else 0 if np.dtype(dtype) == np.int16 else z) for s, z in quant]
    x = operand(integers(rng, shapes[0], dtype), *quant[0])
    y = operand(integers(rng, shapes[1], dtype), *quant[1], y_const)
    check_op(op, [x, y], options(op), output_quant=[Quantization.of(*quant[2])],
             version=version(op, dtype, shapes), **EXACT)


@settings(max_examples=15, deadline=None)
@given(dtype=st.sampled_from([np.int8, np.uint8, np.int16]), shapes=broadcast_shapes(count=3),
       quant=st.lists(st.tuples(scales, st.integers(0, 100)), min_size=3, max_size=3), seed=seeds)
def test_select_v2_quantized(dtype, shapes, quant, seed):
    """SELECT_V2 copies raw values whatever the quantizations, as LiteRT does."""
    rng = np.random.default_rng(seed)
    quant = [(s, 0 if np.dtype(dtype) == np.int16 else z) for s, z in quant]
    condition = rng.random(shapes[0]) < 0.5
    x, y = (operand(integers(rng, s, dtype), *q) for s, q in zip(shapes[1:], quant[:2], strict=True))
    check_op("SELECT_V2", [condition, x, y], options("SELECT_V2"), output_dtypes=[dtype],
             output_quant=[Quantization.of(*quant[2])], **EXACT)


# --- PRELU, CONCATENATION ----------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(dtype=st.sampled_from([np.int8, np.uint8]), shapes=broadcast_shapes(), scale_x=scales,
       scale_alpha=st.floats(1e-4, 0.1), ratio=ratios, alpha_const=st.booleans(), seed=seeds,
       data=st.data())
def test_prelu(dtype, shapes, scale_x, scale_alpha, ratio, alpha_const, seed, data):
    x_shape = np.broadcast_shapes(*shapes)  # alpha must broadcast into x's shape
    rng = np.random.default_rng(seed)
    zps = [zero_point(data.draw, dtype) for _ in range(3)]
    x = operand(integers(rng, x_shape, dtype), scale_x, zps[0])
    alpha = operand(integers(rng, shapes[1], dtype), scale_alpha, zps[1], alpha_const)
    check_op("PRELU", [x, alpha], output_quant=[Quantization.of(scale_x * 2.0**ratio, zps[2])],
             **EXACT)


@settings(max_examples=25, deadline=None)
@given(dtype=st.sampled_from([np.int8, np.uint8, np.int16]), count=st.integers(1, 4),
       shape=st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple), data=st.data(),
       quant=st.lists(st.tuples(scales, st.integers(0, 255)), min_size=5, max_size=5), seed=seeds)
def test_concatenation_quantized(dtype, count, shape, data, quant, seed):
    """uint8 inputs are requantized into the output's scale; int16 (zero point 0) is copied raw
    whatever the scales; int8 must share one quantization (LiteRT rejects anything else)."""
    rng = np.random.default_rng(seed)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    if np.dtype(dtype) == np.int8:
        quant = [(quant[0][0], quant[0][1] - 128)] * 5
    elif np.dtype(dtype) == np.int16:
        quant = [(s, 0) for s, _ in quant]
    else:  # uint8: some inputs share the output's quantization (copied), the others requantized
        quant = [quant[-1] if data.draw(st.booleans()) else q for q in quant[:-1]] + [quant[-1]]
    inputs = []
    for i in range(count):
        dims = list(shape)
        dims[axis] = data.draw(st.integers(1, 3))
        inputs.append(operand(integers(rng, tuple(dims), dtype), *quant[i], constant=i > 0 and
                              data.draw(st.booleans())))
    check_op("CONCATENATION", inputs, ConcatenationOptions(axis),
             output_quant=[Quantization.of(*quant[-1])], version=version("CONCATENATION", dtype),
             **EXACT)


# --- Models LiteRT rejects (or where its kernel is undefined) are rejected at prepare ----------

def edgelite_rejects(op: str, inputs: list, error, match: str, opts=None, **model_kwargs) -> None:
    shape = np.broadcast_shapes(*[np.shape(v) for v in graph_feeds(inputs)])
    model = single_op_model(op, inputs, opts, output_shapes=[shape], **model_kwargs)
    with pytest.raises(error, match=match):
        run_edgelite(model.to_bytes(), graph_feeds(inputs))


I8, I16 = np.zeros(4, np.int8), np.zeros(4, np.int16)
Q = Quantization.of


@pytest.mark.parametrize("op, inputs, output_quant, error, match", [
    ("ADD", [Input(I8, Q(1.0)), Input(I8, Q(1.0))], Q(1e-7), UnsupportedOpError, "output multiplier"),
    ("SUB", [Input(I8, Q(1.0)), Input(I8, Q(1.0))], Q(1e-7), UnsupportedOpError, "output multiplier"),
    ("ADD", [Input(I16, Q(0.1, 3)), Input(I16, Q(0.1))], Q(0.1), UnsupportedOpError, "zero point 0"),
    ("MUL", [Input(I16, Q(0.1, 3)), Input(I16, Q(0.1))], Q(0.1), UnsupportedOpError, "zero point 0"),
    ("ADD", [Input(I16, Q(2**-8)), Input(I16, Q(2**-6))], Q(2**-10), UnsupportedOpError,
     "power-of-two"),
    ("ADD", [Input(np.zeros((2, 4), np.int16), Q(2**-8)), Input(I16, Q(2**-8))], Q(2**-8),
     UnsupportedOpError, "cannot broadcast"),
    ("MUL", [Input(np.zeros((2, 4), np.int16), Q(2**-15)), Input(I16, Q(2**-15))],
     (Q(2**-7), np.int8), UnsupportedOpError, "cannot broadcast"),
    ("LESS", [Input(I8, Q(1.0)), Input(I8, Q(0.5))], None, UnsupportedOpError, "multiplier"),
    ("EQUAL", [Input(I8, Q(0.5)), Input(I8, Q(2.0))], None, UnsupportedOpError, "multiplier"),
    ("SQUARED_DIFFERENCE", [Input(I8, Q(1.0)), Input(I8, Q(1.0))], Q(1e-5), UnsupportedOpError,
     "output multiplier"),
    ("SQUARED_DIFFERENCE", [Input(I16, Q(0.1)), Input(I16, Q(0.1))], Q(0.1), UnsupportedOpError,
     "INT16"),
    ("PRELU", [Input(I16, Q(0.1)), Input(I16, Q(0.1))], Q(0.1), UnsupportedOpError, "INT16"),
    ("ADD", [Input(I8, Q(0.1)), I8], Q(0.1), ModelError, "no quantization"),
    ("MUL", [Input(I8, Q(0.1)), Input(I8, Q([0.1, 0.2, 0.3, 0.4], 0, 0))], Q(0.1),
     UnsupportedOpError, "per channel"),
    ("CONCATENATION", [Input(I8, Q(0.1)), Input(I8, Q(0.2))], Q(0.1), UnsupportedOpError,
     "quantized differently"),
    ("CONCATENATION", [Input(I16, Q(0.1)), Input(I16, Q(0.2, 1))], Q(0.1), UnsupportedOpError,
     "zero point"),
])
def test_rejects(op, inputs, output_quant, error, match):
    """output_quant: the output's quantization, or (quantization, dtype) for another type."""
    kwargs = {"output_dtypes": BOOL} if op in COMPARISONS else {"output_quant": [output_quant]}
    if isinstance(output_quant, tuple):
        kwargs = {"output_quant": [output_quant[0]], "output_dtypes": [output_quant[1]]}
    opts = ConcatenationOptions(0) if op == "CONCATENATION" else options(op)
    if op == "CONCATENATION":
        shape = (sum(np.shape(v)[0] for v in graph_feeds(inputs)),)
        model = single_op_model(op, inputs, opts, output_shapes=[shape], **kwargs)
        with pytest.raises(error, match=match):
            run_edgelite(model.to_bytes(), graph_feeds(inputs))
        return
    edgelite_rejects(op, inputs, error, match, opts, **kwargs)


# --- The binary ops inside the TensorFlow converter's int8 models ------------------------------

MODELS = Path(__file__).parents[2].parent / "shared" / "models"


@pytest.mark.parametrize("name", ["mnv2_035_96_int8", "digits_cnn_int8"])
def test_converter_model_nodes(name):
    """Every ADD/MUL node of the converter's models, fed the tensors LiteRT computed for it
    while running the whole model, gives LiteRT's output integers."""
    path = MODELS / f"{name}.tflite"
    if not path.exists():
        pytest.skip(f"{path} is not available")
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    interpreter = litert.Interpreter(
        model_path=str(path), experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], np.random.default_rng(0).uniform(
        0, 1, detail["shape"]).astype(detail["dtype"]))
    interpreter.invoke()
    model = edgelite.load(str(path))
    graph = model.subgraphs[0]
    nodes = [op for op in graph.operators if op.name in ("ADD", "MUL", "SUB", "CONCATENATION")]
    assert nodes
    for op in nodes:
        inputs = []
        for i in op.inputs:
            value = model.constant(graph.tensors[i])
            inputs.append(Input(interpreter.get_tensor(i) if value is None else np.asarray(value),
                                graph.tensors[i].quantization))
        out = graph.tensors[op.outputs[0]]
        single = single_op_model(op.name, inputs, op.options, output_quant=[out.quantization],
                                 output_dtypes=[out.dtype], version=op.version)
        ours = run_edgelite(single.to_bytes(), graph_feeds(inputs))[0]
        np.testing.assert_array_equal(ours, interpreter.get_tensor(op.outputs[0]), err_msg=op.name)
