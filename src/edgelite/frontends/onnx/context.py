"""The converter contract: what an ONNX op converter sees (a Context) and hands back (Values).

A converter is `def convert(node: onnx.NodeProto, ctx: Context) -> None`. It reads its operands
with `ctx.input(node, i)` and attributes with `ctx.attr(node, name, default)`, emits edgelite
builtin ops with `ctx.emit(...)` (which binds the node's ONNX outputs by default), and raises
`Unsupported(reason)` for a variant TFLite cannot express. Layout: every Value bound to an ONNX
name is in ONNX layout (NCHW); a layout-sensitive op wraps itself in `ctx.nchw_to_nhwc` /
`ctx.nhwc_to_nchw` and the layout pass removes the transposes later. See README.md.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from edgelite.errors import ConversionError
from edgelite.frontends.onnx.shapes import probe_shapes
from edgelite.model.ir import Model, Operator, Subgraph, Tensor, TensorType
from edgelite.ops.registry import options_class

Shape = tuple[int, ...]
FOLD_LIMIT = 1 << 27  # elements: ops with all-constant inputs and outputs up to this are folded


class Unsupported(Exception):  # noqa: N818 - reads as `raise Unsupported("why")`
    """Raised by a converter for an op variant it cannot express; the importer collects these."""


@dataclass(eq=False)
class Value:
    """One tensor of the model under construction.

    index:     tensor index in the subgraph; None for a constant not yet added (emit adds it).
    shape:     concrete shape (dynamic dims are 1, as TFLite stores them); None if unknown.
    dtype:     numpy dtype of the elements.
    const:     the value when known at conversion time (initializers, Constant, folded ops).
    signature: shape with -1 for dynamic dims; None when the shape is fully static.
    """

    index: int | None
    shape: Shape | None
    dtype: np.dtype
    const: np.ndarray | None = None
    signature: Shape | None = None
    name: str = ""

    @property
    def rank(self) -> int:
        if self.shape is None:
            raise Unsupported(f"tensor {self.name!r} has an unknown rank")
        return len(self.shape)

    @property
    def is_const(self) -> bool:
        return self.const is not None

    @property
    def static(self) -> bool:
        """Whether every dimension is known at conversion time."""
        return self.shape is not None and (self.signature is None or -1 not in self.signature)


Converter = Callable[[onnx.NodeProto, "Context"], None]


def nchw_to_nhwc_perm(rank: int) -> list[int]:
    return [0, *range(2, rank), 1]


def nhwc_to_nchw_perm(rank: int) -> list[int]:
    return [0, rank - 1, *range(1, rank - 1)]


class Context:
    """The edgelite Model being built plus everything known about the ONNX graph."""

    def __init__(self, opset: int, value_info: dict[str, tuple[Shape | None, Shape | None, np.dtype | None]],
                 fold: bool = True) -> None:
        self.model = Model(subgraphs=[Subgraph(name="main")])
        self.graph: Subgraph = self.model.subgraphs[0]
        self.opset = opset
        self.values: dict[str, Value] = {}  # ONNX name -> Value
        self.value_info = value_info  # ONNX name -> (shape, signature, dtype) from shape inference
        self.fold = fold
        self.node: onnx.NodeProto | None = None  # the node being converted (for default outputs)
        self.subgraph_converter: Callable[[onnx.GraphProto], list[Value]] | None = None
        self._names: set[str] = set()
        self._counter = itertools.count()

    # -- reading the ONNX node --------------------------------------------------------------
    def input(self, node: onnx.NodeProto, i: int) -> Value | None:
        """The Value of input i, or None when the input is omitted (absent or empty name)."""
        if i >= len(node.input) or not node.input[i]:
            return None
        return self.value(node.input[i])

    def inputs(self, node: onnx.NodeProto) -> list[Value | None]:
        return [self.input(node, i) for i in range(len(node.input))]

    def value(self, name: str) -> Value:
        if name not in self.values:
            raise ConversionError(f"ONNX tensor {name!r} is used before it is produced")
        return self.values[name]

    def const_input(self, node: onnx.NodeProto, i: int, what: str = "") -> np.ndarray | None:
        """Input i's constant value; None when omitted; Unsupported when computed at runtime."""
        value = self.input(node, i)
        if value is None:
            return None
        if value.const is None:
            raise Unsupported(f"input {i} ({what or node.input[i]}) must be a constant")
        return value.const

    @staticmethod
    def attr(node: onnx.NodeProto, name: str, default: Any = None) -> Any:
        """An attribute's value: ints/floats/strings (str)/lists, TENSOR as numpy, GRAPH as GraphProto."""
        for attribute in node.attribute:
            if attribute.name == name:
                value = helper.get_attribute_value(attribute)
                if isinstance(value, bytes):
                    return value.decode()
                if isinstance(value, onnx.TensorProto):
                    return numpy_helper.to_array(value)
                if isinstance(value, list) and value and isinstance(value[0], bytes):
                    return [v.decode() for v in value]
                return value
        return default

    def info(self, name: str) -> tuple[Shape | None, Shape | None, np.dtype | None]:
        """(concrete shape, signature, dtype) that ONNX shape inference gave a tensor name."""
        return self.value_info.get(name, (None, None, None))

    # -- building the edgelite graph --------------------------------------------------------
    def bind(self, name: str, value: Value) -> None:
        """Make the ONNX tensor `name` refer to an existing Value (Identity, folded results...)."""
        if name:
            self.values[name] = value

    def constant(self, array: Any, name_hint: str = "const", dtype: Any = None) -> Value:
        """A constant Value; it becomes a tensor (with its buffer) only when an op consumes it."""
        python_number = not isinstance(array, (np.ndarray, np.generic))
        array = np.asarray(array, dtype=dtype)
        if python_number and dtype is None and array.dtype == np.float64:
            array = array.astype(np.float32)  # a Python float literal means float32 here
        return Value(None, tuple(array.shape), array.dtype, array, None, name_hint)

    def tensor_index(self, value: Value) -> int:
        """The tensor index of a Value, adding a pending constant to the model first."""
        if value.index is None:
            buffer = self.model.add_buffer(value.const) if value.const.size else 0
            value.index = self._add_tensor(value.name, value.shape, value.dtype, None, buffer)
        return value.index

    def new_value(self, name: str, shape: Shape | None, dtype: Any, signature: Shape | None = None) -> Value:
        """A fresh non-constant tensor (graph inputs, op outputs); the name is made unique."""
        dtype = np.dtype(dtype)
        index = self._add_tensor(name, shape, dtype, signature, 0)
        return Value(index, shape, dtype, None, signature, self.graph.tensors[index].name)

    def emit(self, opcode: str, inputs: Sequence[Value | None], options: Any = None, *,
             outputs: int | Sequence[str] | None = None, dtypes: Sequence[Any] | None = None,
             shapes: Sequence[Shape] | None = None, custom_code: str | None = None,
             custom_options: bytes | None = None) -> list[Value]:
        """Add one edgelite operator and return its output Values.

        outputs: None binds the current node's ONNX outputs; an int makes that many fresh tensors;
        a list of names binds those names. Shapes come from edgelite's shape function (else
        `shapes`, else ONNX inference); dtypes from `dtypes`, else ONNX inference, else input 0.
        options may be the op's options dataclass or a dict of its fields. Ops whose inputs are
        all constant are evaluated now (edgelite reference kernels) and emit nothing.
        """
        names = self._output_names(opcode, outputs)
        options = _options(opcode, options)
        probe = probe_shapes(opcode, options, inputs, len(names), custom_code)
        out_dtypes = [self._dtype(k, names, dtypes, inputs) for k in range(len(names))]
        out_shapes, signatures = [], []
        for k, name in enumerate(names):
            shape, signature = self._shape(opcode, k, name, probe, shapes, inputs, options, custom_code)
            out_shapes.append(shape)
            signatures.append(signature)
        folded = self._try_fold(opcode, options, inputs, out_shapes, out_dtypes, signatures, custom_code)
        if folded is not None:
            values = [self.constant(a, n) for a, n in zip(folded, names, strict=True)]
        else:
            values = [self.new_value(n or f"{opcode.lower()}_unused", s, d, g)
                      for n, s, d, g in zip(names, out_shapes, out_dtypes, signatures, strict=True)]
            op = Operator(opcode, tuple(-1 if v is None else self.tensor_index(v) for v in inputs),
                          tuple(v.index for v in values), options, custom_code=custom_code,
                          custom_options=custom_options)
            self.graph.operators.append(op)
        for name, value in zip(names, values, strict=True):
            if name and (outputs is None or not isinstance(outputs, int)):
                self.bind(name, value)
        return values

    def transpose(self, value: Value, perm: Sequence[int], outputs: int | Sequence[str] = 1) -> Value:
        """TRANSPOSE value by perm (int32 constant)."""
        perm_value = self.constant(np.asarray(perm, dtype=np.int32), f"{value.name}/perm")
        return self.emit("TRANSPOSE", [value, perm_value], outputs=outputs)[0]

    def nchw_to_nhwc(self, value: Value) -> Value:
        """Channels-first (N, C, *spatial) to channels-last (N, *spatial, C), any rank >= 3."""
        return self.transpose(value, nchw_to_nhwc_perm(value.rank))

    def nhwc_to_nchw(self, value: Value, outputs: int | Sequence[str] | None = None) -> Value:
        """Channels-last back to channels-first; outputs=None binds the current node's output 0."""
        names = [self.node.output[0]] if outputs is None and self.node is not None else (outputs or 1)
        return self.transpose(value, nhwc_to_nchw_perm(value.rank), outputs=names)

    def convert_subgraph(self, graph: onnx.GraphProto) -> list[Value]:
        """Convert an attribute graph (If/Loop body) inline in this graph; return its outputs."""
        if self.subgraph_converter is None:
            raise Unsupported("subgraphs cannot be converted here")
        return self.subgraph_converter(graph)

    def unique_name(self, name: str) -> str:
        name = name or "tensor"
        if name in self._names:
            name = f"{name}_{next(self._counter)}"
            while name in self._names:
                name = f"{name}_{next(self._counter)}"
        self._names.add(name)
        return name

    def rename(self, old: str, new: str) -> str:
        """Free a tensor name and claim another (made unique); return the name claimed."""
        self._names.discard(old)
        return self.unique_name(new)

    # -- internals --------------------------------------------------------------------------
    def _add_tensor(self, name: str, shape: Shape | None, dtype: np.dtype, signature: Shape | None,
                    buffer: int) -> int:
        tensor_type = TensorType.from_numpy(dtype)
        tensor = Tensor(self.unique_name(name), tuple(shape or ()), tensor_type, buffer,
                        shape_signature=signature if signature and -1 in signature else None,
                        has_rank=shape is not None)
        self.graph.tensors.append(tensor)
        return len(self.graph.tensors) - 1

    def _output_names(self, opcode: str, outputs: int | Sequence[str] | None) -> list[str]:
        if outputs is None:
            if self.node is None:
                raise ValueError("emit(outputs=None) outside a converter: pass outputs=")
            return list(self.node.output)
        if isinstance(outputs, int):
            base = (self.node.name or self.node.output[0]) if self.node is not None else opcode.lower()
            return [f"{base}/{opcode.lower()}" for _ in range(outputs)]
        return list(outputs)

    def _dtype(self, k: int, names: list[str], dtypes: Sequence[Any] | None,
               inputs: Sequence[Value | None]) -> np.dtype:
        if dtypes is not None:
            return np.dtype(dtypes[k])
        onnx_dtype = self.info(names[k])[2] if names[k] else None
        if onnx_dtype is not None:
            return onnx_dtype
        first = next((v for v in inputs if v is not None), None)
        return first.dtype if first is not None else np.dtype(np.float32)

    def _shape(self, opcode: str, k: int, name: str, probe: tuple, shapes: Sequence[Shape] | None,
               inputs: Sequence[Value | None], options: Any, custom_code: str | None
               ) -> tuple[Shape | None, Shape | None]:
        computed, dynamic = probe
        onnx_shape, onnx_signature, _ = self.info(name) if name else (None, None, None)
        shape = computed[k] if computed is not None and computed[k] is not None else None
        if shape is None:
            shape = tuple(shapes[k]) if shapes is not None else onnx_shape
        elif onnx_shape is not None and onnx_signature is None and tuple(onnx_shape) != shape:
            where = f" of ONNX node {self.node.name or self.node.op_type}" if self.node else ""
            raise ConversionError(f"{opcode}{where}: edgelite infers output {k} ({name}) as {shape}, "
                                  f"ONNX as {tuple(onnx_shape)}; the converter built the op wrongly")
        if shape is None:
            return None, None
        if onnx_signature is not None and len(onnx_signature) == len(shape):
            return shape, onnx_signature
        if dynamic is not None and dynamic[k] is not None and len(dynamic[k]) == len(shape):
            signature = tuple(-1 if a != b else a for a, b in zip(shape, dynamic[k], strict=True))
            return shape, signature if -1 in signature else None
        return shape, None

    def _try_fold(self, opcode: str, options: Any, inputs: Sequence[Value | None], shapes: list,
                  dtypes: list, signatures: list, custom_code: str | None) -> list[np.ndarray] | None:
        present = [v for v in inputs if v is not None]
        if opcode == "SHAPE" and self.fold and present and present[0].static:
            return [np.asarray(present[0].shape, dtype=dtypes[0])]
        if not self.fold or custom_code is not None or not present or any(not v.is_const for v in present):
            return None
        if any(s is None or np.prod(s, dtype=np.int64) > FOLD_LIMIT for s in shapes):
            return None
        if any(g is not None for g in signatures):
            return None
        from edgelite.frontends.onnx.passes.fold import evaluate

        return evaluate(opcode, options, [None if v is None else v.const for v in inputs], shapes, dtypes)


def _options(opcode: str, options: Any) -> Any:
    cls = options_class(opcode) if opcode != "CUSTOM" else None
    if isinstance(options, dict):
        if cls is None:
            raise ValueError(f"{opcode} has no options class; pass options=None")
        return cls(**options)
    if options is None and cls is not None:
        return cls()
    return options
