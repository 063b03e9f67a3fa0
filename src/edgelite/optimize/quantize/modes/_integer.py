"""Full-integer quantization, shared by the int8 and int16x8 modes.

Nodes of subgraph 0 are rewritten in execution order. A quantizable node reads its activations
quantized (inserting QUANTIZE where a producer is float), gets int8 weights and integer biases,
and writes integer outputs in place; a node that stays float reads float (inserting DEQUANTIZE).
Graph inputs and outputs keep their tensor indices and take the requested I/O type.
"""

from __future__ import annotations

import numpy as np

from edgelite.model.ir import Operator, Quantization, TensorType
from edgelite.ops.registry import options_class
from edgelite.optimize.quantize._graph import add_constant, is_constant
from edgelite.optimize.quantize._params import (
    activation_params,
    quantize_bias,
    quantize_constant,
    requantized,
    weight_scales,
    widen_scales_for_bias,
)
from edgelite.optimize.quantize.modes._context import Context
from edgelite.optimize.quantize.modes._rules import CLAMP_ACTIVATIONS, INT16, RULES, Rule
from edgelite.optimize.quantize.modes._views import Views
from edgelite.optimize.quantize.modes._weights import WeightCache

_TYPES = {np.dtype(np.int8): TensorType.INT8, np.dtype(np.uint8): TensorType.UINT8,
          np.dtype(np.int16): TensorType.INT16, np.dtype(np.float32): TensorType.FLOAT32}


class IntegerQuantizer:
    def __init__(self, ctx: Context, dtype: type, label: str) -> None:
        self.ctx, self.base = ctx, (np.dtype(dtype), label)
        self._precision(*self.base)
        self.model = ctx.model
        self.graph = ctx.model.subgraphs[0]
        self.floats = {i for i, t in enumerate(self.graph.tensors)
                       if t.type == TensorType.FLOAT32 and not is_constant(self.model, t)}
        self.produced: dict[int, tuple[TensorType, Quantization]] = {}
        self.emitted: list[Operator] = []
        self.views = Views(ctx, self.graph, self.emitted)
        self.weights = WeightCache(self.model, self.graph)
        self.output_types = {t: _TYPES[np.dtype(ctx.output_type or np.float32)]
                             for t in self.graph.outputs if t in self.floats}

    def _precision(self, dtype: np.dtype, label: str) -> None:
        """Quantize the next nodes with `dtype` activations (int8 mode: int16x8 for ctx.int16 nodes)."""
        self.dtype, self.label, self.type = dtype, label, _TYPES[dtype]
        self.kind = INT16 if dtype == np.int16 else "int8"

    def _precision_of(self, index: int) -> None:
        self._precision(*((np.dtype(np.int16), "int16x8") if index in self.ctx.int16 else self.base))

    # -- parameters -------------------------------------------------------------------------
    def natural(self, tensor: int) -> Quantization:
        """The tensor's own parameters: what its quantized producer wrote (when of this node's
        type), else from calibration."""
        if self.produced.get(tensor, (None,))[0] == self.type:
            return self.produced[tensor][1]
        levels = 2 ** (8 * self.dtype.itemsize)
        low, high = self.ctx.calibration.range(tensor, levels, symmetric=self.kind == INT16)
        return activation_params(low, high, self.dtype)

    def _constant_params(self, values: np.ndarray) -> Quantization:
        return activation_params(float(values.min(initial=0.0)), float(values.max(initial=0.0)),
                                 self.dtype)

    # -- decisions --------------------------------------------------------------------------
    def reason_to_keep_float(self, index: int, op: Operator) -> str | None:
        skipped = self.ctx.skipped(0, index, op, self.graph)
        if skipped is not None:
            return f"skipped by user ({skipped!r})"
        rule = RULES.get(op.name)
        if op.opcode == "CUSTOM" or rule is None or self.kind not in rule.types:
            return f"no {self.label} kernel in TFLite for {op.name}"
        tensors = self.graph.tensors
        for position in self._activations(op, rule):
            t = tensors[op.inputs[position]]
            if t.type != TensorType.FLOAT32:
                return f"input {t.name!r} is {t.type.name}; only float32 tensors are quantized"
            if op.inputs[position] in self.floats and self.ctx.calibration.range(op.inputs[position]) is None:
                return f"no calibration range for input {t.name!r} (not computed on the calibration data)"
        own_range = self.kind not in rule.fixed and (not rule.same_scale or rule.scale_from_output)
        for position in self._outputs(op, rule):
            t = tensors[op.outputs[position]]
            if t.type != TensorType.FLOAT32:
                return f"output {t.name!r} is {t.type.name}; only float32 tensors are quantized"
            if own_range and self.ctx.calibration.range(op.outputs[position]) is None:
                return f"no calibration range for output {t.name!r} (not computed on the calibration data)"
        for position in (*rule.weights, rule.bias):
            if position is None or position >= len(op.inputs) or op.inputs[position] < 0:
                continue
            t = tensors[op.inputs[position]]
            if t.type != TensorType.FLOAT32 or not is_constant(self.model, t) or t.sparsity is not None:
                return f"{t.name!r} (input {position}) is not a dense float32 constant"
        activation = getattr(op.options, "fused_activation_function", 0)
        if activation not in CLAMP_ACTIVATIONS:
            return f"fused activation {int(activation)} has no integer kernel in TFLite"
        return rule.check(op, self.graph) if rule.check else None

    @staticmethod
    def _activations(op: Operator, rule: Rule) -> list[int]:
        positions = range(len(op.inputs)) if rule.activations is None else rule.activations
        return [p for p in positions if p < len(op.inputs) and op.inputs[p] >= 0]

    @staticmethod
    def _outputs(op: Operator, rule: Rule) -> list[int]:
        positions = range(len(op.outputs)) if rule.outputs is None else rule.outputs
        return [p for p in positions if p < len(op.outputs) and op.outputs[p] >= 0]

    # -- rewriting --------------------------------------------------------------------------
    def run(self) -> None:
        operators = list(self.graph.operators)
        reasons = []
        for index, op in enumerate(operators):
            self._precision_of(index)
            reasons.append(self.reason_to_keep_float(index, op))
        self._precision(*self.base)
        self._graph_inputs()
        written = {t for op in operators for t in op.outputs} | set(self.graph.inputs)
        for t in self.floats - written:  # variables: float tensors no node writes
            self.views.hold(t, t, TensorType.FLOAT32, None)
        for index, (op, reason) in enumerate(zip(operators, reasons, strict=True)):
            self._precision_of(index)
            if reason:
                self.ctx.keep_float(0, index, op, self.graph, reason)
                self._float_node(op)
            else:
                self._integer_node(op, RULES[op.name])
                self.ctx.decide(0, index, op, self.graph, True, self.label, self._note(op))
        self.graph.operators = self.emitted
        for position, graph in enumerate(self.model.subgraphs[1:], start=1):
            for index, op in enumerate(graph.operators):
                self.ctx.keep_float(position, index, op, graph, "only subgraph 0 is quantized")

    def _graph_inputs(self) -> None:
        for t in self.graph.inputs:
            if t not in self.floats:
                continue
            type_ = _TYPES[np.dtype(self.ctx.input_type or np.float32)]
            quant = None
            if type_ != TensorType.FLOAT32:
                quant = self.natural(t)
                if type_ == TensorType.UINT8:
                    quant = requantized(quant, np.uint8, np.int8)
            tensor = self.graph.tensors[t]
            tensor.type, tensor.quantization = type_, quant
            self.views.hold(t, t, type_, quant)

    def _float_node(self, op: Operator) -> None:
        op.inputs = tuple(self.views.get(t, TensorType.FLOAT32, None) if t in self.floats else t
                          for t in op.inputs)
        pending = []
        op.outputs = tuple(self._write(t, TensorType.FLOAT32, None, pending) if t in self.floats else t
                           for t in op.outputs)
        self.emitted.append(op)
        self._finish(pending)

    def _integer_node(self, op: Operator, rule: Rule) -> None:
        inputs, outputs = list(op.inputs), list(op.outputs)
        activations = self._activations(op, rule)
        dynamic = [p for p in activations if inputs[p] in self.floats]
        shared = None
        if rule.same_scale:
            shared = self.natural(outputs[0] if rule.scale_from_output or not dynamic else inputs[dynamic[0]])
        for p in activations:
            t = inputs[p]
            if t in self.floats:
                inputs[p] = self.views.get(t, self.type, shared or self.natural(t))
            else:
                inputs[p] = self._quantized_constant(t, shared)
        if rule.weights:
            self._weights_and_bias(inputs, rule, self.graph.tensors[inputs[activations[0]]].quantization)
        pending = []
        for p in self._outputs(op, rule):
            quant = Quantization.of(*rule.fixed[self.kind]) if self.kind in rule.fixed else \
                shared or self.natural(outputs[p])
            self.produced[outputs[p]] = (self.type, quant)
            outputs[p] = self._write(outputs[p], self.type, quant, pending)
        op.inputs, op.outputs = tuple(inputs), tuple(outputs)
        if self.kind == INT16 and op.name in ("ADD", "SUB"):
            op.options = op.options or options_class(op.name)()
            op.options.pot_scale_int16 = False  # general int16 scales (the schema default is power-of-2)
        self.emitted.append(op)
        self._finish(pending)

    def _quantized_constant(self, t: int, shared: Quantization | None) -> int:
        tensor = self.graph.tensors[t]
        values = self.model.constant(tensor)
        quant = shared or self._constant_params(values)
        return add_constant(self.model, self.graph, tensor.name, quantize_constant(values, quant, self.dtype),
                            self.type, quant)

    def _weights_and_bias(self, inputs: list[int], rule: Rule, input_quant: Quantization) -> None:
        input_scale = float(input_quant.scale[0])
        bias_index = inputs[rule.bias] if rule.bias is not None and rule.bias < len(inputs) else -1
        bias_tensor = self.graph.tensors[bias_index] if bias_index >= 0 else None
        bias = None if bias_tensor is None else self.model.constant(bias_tensor)
        bias_dtype = np.int64 if self.kind == INT16 and rule.int64_bias_with_int16 else np.int32
        for slot, axis in rule.weights.items():
            axis = axis if self.ctx.per_channel else None
            values = self.model.constant(self.graph.tensors[inputs[slot]])
            scales = widen_scales_for_bias(weight_scales(values, axis), bias, input_scale, bias_dtype)
            inputs[slot] = self.weights.int8(inputs[slot], axis, scales)
            if bias is not None:
                data, quant = quantize_bias(bias, input_scale, scales, bias_dtype)
                bias_type = TensorType.INT64 if bias_dtype == np.int64 else TensorType.INT32
                inputs[rule.bias] = add_constant(self.model, self.graph, bias_tensor.name, data,
                                                 bias_type, quant)

    def _write(self, t: int, type_: TensorType, quant: Quantization | None, pending: list) -> int:
        """Where a node writes tensor t: in place, unless t is a graph output of another type."""
        wanted = self.output_types.get(t, type_)
        if wanted == type_:
            tensor = self.graph.tensors[t]
            tensor.type, tensor.quantization = type_, quant
            self.views.hold(t, t, type_, quant)
            return t
        index = self.views.new(t, type_, quant)
        pending.append((t, wanted, quant))
        return index

    def _finish(self, pending: list) -> None:
        """Convert redirected graph outputs into their own tensors, right after their producer."""
        for t, wanted, quant in pending:
            target = None
            if wanted != TensorType.FLOAT32:
                current = (self.dtype, self.label)
                self._precision(*self.base)  # integer model outputs have the mode's parameters
                target = quant if quant is not None and current[0] == self.dtype else self.natural(t)
                self._precision(*current)
                if wanted == TensorType.UINT8:
                    target = requantized(target, np.uint8, np.int8)
            self.views.convert(t, t, wanted, target)

    def _note(self, op: Operator) -> str:
        parts = []
        for i in op.inputs:
            quant = self.graph.tensors[i].quantization if i >= 0 else None
            if quant is not None and quant.scale.size > 1:
                parts.append(f"per-channel weights ({quant.scale.size} scales, axis "
                             f"{quant.quantized_dimension})")
                break
        rule = RULES[op.name]
        if self.kind in rule.fixed:
            scale, zero = rule.fixed[self.kind]
            parts.append(f"output fixed by the kernel: scale 1/{round(1 / scale)}, zero point {zero}")
        elif rule.same_scale:
            parts.append("output keeps the input's scale")
        return "; ".join(parts)
