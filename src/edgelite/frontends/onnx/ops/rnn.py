"""LSTM, GRU and RNN, unrolled over the (static) sequence length into plain builtin ops.

Per direction, one FULLY_CONNECTED projects the whole input sequence (W, with the biases that
do not depend on the hidden state) and UNPACK cuts it into time steps; each step adds the
recurrent FULLY_CONNECTED of the previous hidden state, SPLITs the gates and applies LOGISTIC/
TANH/MUL/ADD/SUB. PACK + RESHAPE assemble Y; Y_h/Y_c are the last states. A zero (or absent)
initial state skips the first step's recurrent terms. Every op here runs on every TFLite runtime
(TFLite's fused UNIDIRECTIONAL_SEQUENCE_LSTM would be smaller but is not emitted here).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import onnx

from edgelite.frontends.onnx.context import Context, Unsupported, Value

_ACTIVATIONS = {"Sigmoid": "LOGISTIC", "Tanh": "TANH", "Relu": "RELU"}  # parameterless builtins
_DEFAULTS = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"], "RNN": ["Tanh"]}
_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}


@dataclass
class _Rnn:
    """What every recurrent node shares: operands per direction, layout, activations, clip."""

    node: onnx.NodeProto
    ctx: Context
    x: Value
    w: np.ndarray  # [directions, gates*H, I]
    r: np.ndarray  # [directions, gates*H, H]
    wb: np.ndarray  # [directions, gates*H]
    rb: np.ndarray  # [directions, gates*H]
    hidden: int
    layout: int
    activations: list[list[str]]  # per direction, as builtin opcodes
    clip: float | None

    @property
    def directions(self) -> int:
        return self.w.shape[0]

    @property
    def seq_axis(self) -> int:
        return 1 if self.layout else 0

    def emit(self, opcode: str, inputs: Sequence[Value | None], options=None, outputs=1) -> list[Value]:
        """ctx.emit; every value here is float32 (SPLIT's input 0 is its int32 axis)."""
        count = outputs if isinstance(outputs, int) else len(outputs)
        return self.ctx.emit(opcode, inputs, options, outputs=outputs, dtypes=[np.float32] * count)

    def op(self, opcode: str, *inputs: Value | None, options=None) -> Value:
        return self.emit(opcode, inputs, options)[0]

    def const(self, array, hint: str) -> Value:
        return self.ctx.constant(np.asarray(array, np.float32), f"{self.node.output[0] or 'rnn'}/{hint}")

    def int32(self, values, hint: str) -> Value:
        return self.ctx.constant(np.asarray(values, np.int32), f"{self.node.output[0] or 'rnn'}/{hint}")

    def fc(self, x: Value, weights: np.ndarray, bias: np.ndarray | None, hint: str,
           keep: bool = False) -> Value:
        b = None if bias is None or not bias.any() else self.const(bias, f"{hint}_bias")
        return self.op("FULLY_CONNECTED", x, self.const(np.ascontiguousarray(weights), hint), b,
                       options={"keep_num_dims": keep})

    def split(self, x: Value, sizes: Sequence[int]) -> list[Value]:
        if len(set(sizes)) == 1:
            return self.emit("SPLIT", [self.int32(1, "axis"), x], {"num_splits": len(sizes)}, len(sizes))
        return self.emit("SPLIT_V", [x, self.int32(sizes, "sizes"), self.int32(1, "axis")],
                         {"num_splits": len(sizes)}, len(sizes))

    def activate(self, x: Value, direction: int, slot: int) -> Value:
        """Activation `slot` of a direction, after clipping its input when the node says so."""
        if self.clip is not None:
            x = self.op("MAXIMUM", x, self.const(-self.clip, "clip_low"))
            x = self.op("MINIMUM", x, self.const(self.clip, "clip_high"))
        return self.op(self.activations[direction][slot], x)

    def steps(self, direction: int, bias: np.ndarray) -> list[Value]:
        """x·W^T + bias for every time step, in time order: [batch, gates*H] each."""
        projected = self.fc(self.x, self.w[direction], bias, f"w{direction}", keep=True)
        count = self.x.shape[self.seq_axis]
        return self.emit("UNPACK", [projected], {"num": count, "axis": self.seq_axis}, count)

    def initial(self, index: int) -> list[Value | None]:
        """An initial-state input per direction as [batch, H]; None for a zero or absent state."""
        value = self.ctx.input(self.node, index)
        if value is None or (value.is_const and not value.const.any()):
            return [None] * self.directions
        axis = 1 if self.layout else 0
        if value.is_const:
            return [self.const(np.take(value.const, d, axis=axis), f"init{index}_{d}")
                    for d in range(self.directions)]
        return self.emit("UNPACK", [value], {"num": self.directions, "axis": axis}, self.directions)

    def run(self, cell: Callable[[int, Value, tuple], tuple], biases: Sequence[np.ndarray],
            states: Sequence[Sequence[Value | None]]) -> list[list[tuple]]:
        """Unroll `cell(direction, x_t, state) -> state` (state[0] is H); per direction, the
        states in time order (a reverse direction runs from the last step to the first)."""
        results = []
        for d in range(self.directions):
            xs = self.steps(d, biases[d])
            order = range(len(xs) - 1, -1, -1) if self._reverse(d) else range(len(xs))
            state, out = tuple(s[d] for s in states), [None] * len(xs)
            for t in order:
                state = out[t] = cell(d, xs[t], state)
            results.append(out)
        return results

    def _reverse(self, direction: int) -> bool:
        mode = self.ctx.attr(self.node, "direction", "forward")
        return mode == "reverse" or (mode == "bidirectional" and direction == 1)

    def outputs(self, results: list[list[tuple]]) -> None:
        """Bind Y [seq, dirs, batch, H] (layout 1: [batch, seq, dirs, H]) and the last states."""
        seq, dirs, axis = len(results[0]), self.directions, self.seq_axis
        batch = -1 if self.x.signature is not None and self.x.signature[1 - axis] == -1 \
            else self.x.shape[1 - axis]
        names = list(self.node.output)
        if names and names[0]:
            hs = [results[d][t][0] for t in range(seq) for d in range(dirs)]
            stacked = self._stack(hs, axis)
            shape = [seq, dirs, batch, self.hidden] if not self.layout else [batch, seq, dirs, self.hidden]
            self.emit("RESHAPE", [stacked, self.int32(shape, "y_shape")], outputs=[names[0]])
        last = [results[d][0 if self._reverse(d) else seq - 1] for d in range(dirs)]
        for k, name in enumerate(names[1:]):
            if name:
                self._stack([state[k] for state in last], axis, outputs=[name])

    def _stack(self, values: list[Value], axis: int, outputs=1) -> Value:
        if len(values) == 1:
            return self.emit("EXPAND_DIMS", [values[0], self.int32(axis, "axis")], outputs=outputs)[0]
        return self.emit("PACK", values, {"values_count": len(values), "axis": axis}, outputs=outputs)[0]


def _parse(node: onnx.NodeProto, ctx: Context) -> _Rnn:
    kind = node.op_type
    x = ctx.input(node, 0)
    if x.dtype != np.float32:
        raise Unsupported(f"input of type {x.dtype} (float32 only)")
    layout = int(ctx.attr(node, "layout", 0))
    if x.rank != 3:
        raise Unsupported(f"input of rank {x.rank} (the spec says 3)")
    seq_axis = 1 if layout else 0
    if x.signature is not None and -1 in (x.signature[seq_axis], x.signature[2]):
        raise Unsupported("a dynamic sequence length or input size (the op is unrolled over time)")
    w, r = ctx.const_input(node, 1, "W"), ctx.const_input(node, 2, "R")
    directions, rows = w.shape[0], w.shape[1]
    mode = ctx.attr(node, "direction", "forward")
    if mode not in ("forward", "reverse", "bidirectional") or directions != 1 + (mode == "bidirectional"):
        raise Unsupported(f"direction={mode!r} with W for {directions} direction(s)")
    hidden = r.shape[2]
    bias = ctx.const_input(node, 3, "B")
    bias = np.zeros((directions, 2 * rows), np.float32) if bias is None else bias.astype(np.float32)
    _check_sequence_lens(node, ctx, x.shape[seq_axis])
    if rows != _GATES[kind] * hidden:
        raise Unsupported(f"W has {rows} rows, expected {_GATES[kind]} gates x hidden size {hidden}")
    names = ctx.attr(node, "activations", None) or _DEFAULTS[kind] * directions
    if ctx.attr(node, "activation_alpha", None) or ctx.attr(node, "activation_beta", None):
        raise Unsupported("activation_alpha/activation_beta (parameterized activations)")
    unknown = sorted({n for n in names if n not in _ACTIVATIONS})
    if unknown:
        raise Unsupported(f"activations {unknown} (Sigmoid, Tanh and Relu are converted)")
    per = len(_DEFAULTS[kind])
    activations = [[_ACTIVATIONS[n] for n in names[d * per:(d + 1) * per]] for d in range(directions)]
    clip = ctx.attr(node, "clip", None)
    return _Rnn(node, ctx, x, w.astype(np.float32), r.astype(np.float32), bias[:, :rows], bias[:, rows:],
                hidden, layout, activations, None if clip is None else float(clip))


def _check_sequence_lens(node: onnx.NodeProto, ctx: Context, seq: int) -> None:
    lens = ctx.const_input(node, 4, "sequence_lens")
    if lens is not None and np.any(lens != seq):
        raise Unsupported("sequence_lens shorter than the sequence (only absent or full lengths)")


def _lstm(node: onnx.NodeProto, ctx: Context) -> None:
    rnn = _parse(node, ctx)
    hidden = rnn.hidden
    peepholes = ctx.const_input(node, 7, "P")
    input_forget = bool(ctx.attr(node, "input_forget", 0))

    def peephole(pre: Value, c: Value | None, d: int, k: int) -> Value:
        if peepholes is None or c is None or not peepholes[d, k * hidden:(k + 1) * hidden].any():
            return pre
        weight = rnn.const(peepholes[d, k * hidden:(k + 1) * hidden], f"p{d}_{k}")
        return rnn.op("ADD", pre, rnn.op("MUL", c, weight))

    def cell(d: int, x_t: Value, state: tuple) -> tuple:
        h, c = state
        gates = x_t if h is None else rnn.op("ADD", x_t, rnn.fc(h, rnn.r[d], None, f"r{d}"))
        i_pre, o_pre, f_pre, c_pre = rnn.split(gates, [hidden] * 4)
        i = rnn.activate(peephole(i_pre, c, d, 0), d, 0)
        candidate = rnn.activate(c_pre, d, 1)
        if input_forget:
            f = rnn.op("SUB", rnn.const(1.0, "one"), i)
        else:
            f = rnn.activate(peephole(f_pre, c, d, 2), d, 0)
        new_c = rnn.op("MUL", i, candidate)
        if c is not None:
            new_c = rnn.op("ADD", rnn.op("MUL", f, c), new_c)
        o = rnn.activate(peephole(o_pre, new_c, d, 1), d, 0)
        return rnn.op("MUL", o, rnn.op(rnn.activations[d][2], new_c)), new_c

    biases = [rnn.wb[d] + rnn.rb[d] for d in range(rnn.directions)]
    rnn.outputs(rnn.run(cell, biases, [rnn.initial(5), rnn.initial(6)]))


def _gru(node: onnx.NodeProto, ctx: Context) -> None:
    rnn = _parse(node, ctx)
    hidden = rnn.hidden
    before_reset = bool(ctx.attr(node, "linear_before_reset", 0))

    def cell(d: int, x_t: Value, state: tuple) -> tuple:
        (h,) = state
        x_zr, x_h = rnn.split(x_t, [2 * hidden, hidden])
        recurrent_h = rnn.rb[d, 2 * hidden:] if before_reset else None  # Rbh inside the reset
        if h is None:
            zr_pre, h_rec = x_zr, (rnn.const(recurrent_h, f"rbh{d}") if recurrent_h is not None
                                    and recurrent_h.any() else None)
        elif before_reset:
            bias = np.concatenate([np.zeros(2 * hidden, np.float32), recurrent_h])
            r_zr, h_rec = rnn.split(rnn.fc(h, rnn.r[d], bias, f"r{d}"), [2 * hidden, hidden])
            zr_pre = rnn.op("ADD", x_zr, r_zr)
        else:
            zr_pre, h_rec = rnn.op("ADD", x_zr, rnn.fc(h, rnn.r[d, :2 * hidden], None, f"r{d}_zr")), None
        z, r = rnn.split(rnn.activate(zr_pre, d, 0), [hidden, hidden])
        h_pre = x_h
        if h_rec is not None:  # linear_before_reset: r * (H R_h^T + Rb_h)
            h_pre = rnn.op("ADD", x_h, rnn.op("MUL", r, h_rec))
        elif h is not None and not before_reset:  # (r * H) R_h^T
            h_pre = rnn.op("ADD", x_h, rnn.fc(rnn.op("MUL", r, h), rnn.r[d, 2 * hidden:], None, f"r{d}_h"))
        candidate = rnn.activate(h_pre, d, 1)
        if h is None:  # (1 - z) * candidate
            return (rnn.op("SUB", candidate, rnn.op("MUL", z, candidate)),)
        return (rnn.op("ADD", candidate, rnn.op("MUL", z, rnn.op("SUB", h, candidate))),)

    biases = []
    for d in range(rnn.directions):
        recurrent = rnn.rb[d].copy()
        if before_reset:
            recurrent[2 * hidden:] = 0.0
        biases.append(rnn.wb[d] + recurrent)
    rnn.outputs(rnn.run(cell, biases, [rnn.initial(5)]))


def _rnn(node: onnx.NodeProto, ctx: Context) -> None:
    rnn = _parse(node, ctx)

    def cell(d: int, x_t: Value, state: tuple) -> tuple:
        (h,) = state
        pre = x_t if h is None else rnn.op("ADD", x_t, rnn.fc(h, rnn.r[d], None, f"r{d}"))
        return (rnn.activate(pre, d, 0),)

    rnn.outputs(rnn.run(cell, [rnn.wb[d] + rnn.rb[d] for d in range(rnn.directions)], [rnn.initial(5)]))


CONVERTERS = {"LSTM": _lstm, "GRU": _gru, "RNN": _rnn}
