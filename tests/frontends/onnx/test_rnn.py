"""LSTM, GRU and RNN nodes over their attribute variants, unrolled into builtin ops.

onnxruntime rejects layout=1 (batch-major), so those cases are checked against the same node
with layout=0 between Transposes, run in onnxruntime.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

from edgelite.errors import ConversionError
from edgelite.frontends.onnx.importer import convert

from .common import (
    ATOL,
    RTOL,
    check_onnx,
    edgelite_interpreter,
    litert_interpreter,
    make_model,
    opcodes,
    run_onnxruntime,
    run_tflite,
)

GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
STATES = {"LSTM": 2, "GRU": 1, "RNN": 1}
SEQ, BATCH, INPUT, HIDDEN = 4, 2, 3, 5


def rnn_model(op: str, *, direction: str = "forward", layout: int = 0, bias: bool = True,
              initial: str = "none", outputs: tuple[bool, ...] = (True, True, True), peepholes: bool = False,
              seq_lens: bool = False, batch: int | str = BATCH, seed: int = 0,
              dims: tuple[int, int, int] = (SEQ, INPUT, HIDDEN), **attrs):
    """One op node with constant weights; initial: none | const | zero | input (graph inputs)."""
    rng = np.random.default_rng(seed)
    seq, size, hidden = dims
    dirs = 2 if direction == "bidirectional" else 1
    rows = GATES[op] * hidden
    inits = {"W": rng.uniform(-0.6, 0.6, (dirs, rows, size)).astype(np.float32),
             "R": rng.uniform(-0.6, 0.6, (dirs, rows, hidden)).astype(np.float32)}
    names = ["x", "W", "R", "", "", "", "", ""]
    if bias:
        inits["B"] = rng.uniform(-0.5, 0.5, (dirs, 2 * rows)).astype(np.float32)
        names[3] = "B"
    if seq_lens:
        inits["lens"] = np.full(BATCH, seq, np.int32)
        names[4] = "lens"
    x_shape = [seq, batch, size] if layout == 0 else [batch, seq, size]
    state_shape = [dirs, batch, hidden] if layout == 0 else [batch, dirs, hidden]
    inputs = [("x", x_shape, TensorProto.FLOAT)]
    for k in range(STATES[op]):
        name = f"state{k}"
        if initial == "input":
            inputs.append((name, state_shape, TensorProto.FLOAT))
        elif initial in ("const", "zero"):
            concrete = [BATCH if d == batch and isinstance(d, str) else d for d in state_shape]
            value = rng.standard_normal(concrete) if initial == "const" else np.zeros(concrete)
            inits[name] = value.astype(np.float32)
        if initial != "none":
            names[5 + k] = name
    if peepholes:
        inits["P"] = rng.uniform(-0.5, 0.5, (dirs, 3 * hidden)).astype(np.float32)
        names[7] = "P"
    while names[-1] == "":
        names.pop()
    out_names = [f"y{k}" if keep else "" for k, keep in enumerate(outputs[:1 + STATES[op]])]
    if layout:
        attrs["layout"] = 1
    node = helper.make_node(op, names, out_names, hidden_size=hidden, direction=direction, **attrs)
    return make_model([node], inputs, [n for n in out_names if n], inits)


def feeds_for(model, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    shapes = {i.name: [d.dim_value or BATCH for d in i.type.tensor_type.shape.dim] for i in model.graph.input}
    return {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize("initial", ["none", "input", "const", "zero"])
def test_directions_and_initial_states(op, direction, initial):
    model = rnn_model(op, direction=direction, initial=initial, seed=len(direction))
    check_onnx(model, feeds_for(model))


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("variant", [dict(bias=False), dict(seq_lens=True), dict(clip=0.7),
                                     dict(outputs=(False, True, True)), dict(outputs=(True, False, False)),
                                     dict(outputs=(True, False, True)), dict(batch="N")])
def test_variants(op, variant):
    model = rnn_model(op, direction="bidirectional", initial="input", **variant)
    feeds = feeds_for(model)
    converted = check_onnx(model, feeds)
    if variant.get("batch") == "N":  # a dynamic batch: resize and run again
        x = np.random.default_rng(3).standard_normal((SEQ, 3, INPUT)).astype(np.float32)
        feeds = {"x": x, **{k: v[:, :1].repeat(3, axis=1) for k, v in feeds.items() if k != "x"}}
        want = run_onnxruntime(model, feeds)
        for make in (edgelite_interpreter, litert_interpreter):
            for got, expected in zip(run_tflite(make(converted.to_bytes()), feeds), want, strict=True):
                np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("linear_before_reset", [0, 1])
@pytest.mark.parametrize("initial", ["none", "input"])
@pytest.mark.parametrize("direction", ["forward", "bidirectional"])
def test_gru_linear_before_reset(linear_before_reset, initial, direction):
    model = rnn_model("GRU", direction=direction, initial=initial, linear_before_reset=linear_before_reset)
    check_onnx(model, feeds_for(model))


@pytest.mark.parametrize("initial", ["none", "input"])
@pytest.mark.parametrize("attrs", [dict(peepholes=True), dict(input_forget=1),
                                   dict(activations=["Relu", "Tanh", "Relu"] * 2),
                                   dict(activations=["Sigmoid", "Relu", "Sigmoid"] * 2, clip=1.5)])
def test_lstm_peepholes_input_forget_activations(initial, attrs):
    model = rnn_model("LSTM", direction="bidirectional", initial=initial, **attrs)
    check_onnx(model, feeds_for(model))


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("direction", ["forward", "bidirectional"])
def test_batch_major_layout(op, direction):
    """layout=1 against layout=0 between Transposes (onnxruntime has no batch-major RNNs)."""
    model = rnn_model(op, direction=direction, layout=1, initial="input")
    reference = rnn_model(op, direction=direction, initial="input")
    feeds = feeds_for(model)
    wrapped = {"x": feeds["x"].transpose(1, 0, 2), **{k: v.transpose(1, 0, 2) for k, v in feeds.items()
                                                      if k != "x"}}
    expected = run_onnxruntime(reference, wrapped)
    expected = [expected[0].transpose(2, 0, 1, 3)] + [e.transpose(1, 0, 2) for e in expected[1:]]
    data = convert(model).to_bytes()
    for make in (edgelite_interpreter, litert_interpreter):
        for got, want in zip(run_tflite(make(data), feeds), expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)


@settings(max_examples=12, deadline=None)
@given(op=st.sampled_from(["LSTM", "GRU"]),
       direction=st.sampled_from(["forward", "reverse", "bidirectional"]),
       dims=st.tuples(st.integers(1, 6), st.integers(1, 5), st.integers(1, 7)),
       initial=st.sampled_from(["none", "input"]), batch=st.integers(1, 3))
def test_sizes_hypothesis(op, direction, dims, initial, batch):
    model = rnn_model(op, direction=direction, dims=dims, initial=initial, batch=batch)
    check_onnx(model, feeds_for(model))


def test_unrolled_into_builtin_ops():
    model = rnn_model("LSTM", direction="bidirectional")
    ops = set(opcodes(convert(model)))
    assert ops <= {"FULLY_CONNECTED", "UNPACK", "SPLIT", "ADD", "MUL", "SUB", "LOGISTIC", "TANH",
                   "PACK", "RESHAPE"}, ops


@pytest.mark.parametrize("op, variant, reason", [
    ("LSTM", dict(activations=["HardSigmoid", "Tanh", "Tanh"]), "activations"),
    ("GRU", dict(activations=["Sigmoid", "Tanh"], activation_alpha=[1.0]), "activation_alpha"),
    ("RNN", dict(batch="N", layout=1, seq_lens=False), None),
])
def test_unsupported(op, variant, reason):
    if reason is None:  # a dynamic sequence length cannot be unrolled
        model = rnn_model(op, **variant)
        model.graph.input[0].type.tensor_type.shape.dim[1].dim_param = "T"
        reason = "dynamic sequence length"
    else:
        model = rnn_model(op, **variant)
    with pytest.raises(ConversionError, match=reason):
        convert(model)


def test_partial_sequence_lens_is_unsupported():
    model = rnn_model("GRU", seq_lens=True)
    model.graph.initializer[-1].CopyFrom(helper.make_tensor("lens", TensorProto.INT32, [BATCH], [SEQ, 2]))
    with pytest.raises(ConversionError, match="sequence_lens"):
        convert(model)
