"""An `onnx.backend.base.Backend` over edgelite: convert to .tflite, run in edgelite (or LiteRT).

    from edgelite.frontends.onnx.backend import EdgeliteBackend
    outputs = EdgeliteBackend.run_model(model, [x])          # convert + edgelite.Interpreter
    rep = EdgeliteBackend.prepare(model, runtime="litert")    # the same file in ai_edge_litert

This is what the ONNX backend test suite (`onnx.backend.test`) drives: `prepare` converts the
model with its inputs' concrete shapes pinned (a model whose inputs have symbolic dims is
converted on the first `run`, with the shapes of the arrays given, and again for new shapes;
`constant_inputs=` bakes the values of the named inputs into the model at `run`),
`run` feeds the inputs by position (graph inputs that are not initializers) or by name and
returns the outputs in ONNX graph-output order, as the runtime produced them (no dtype fix-up:
a converter that changes an output's dtype is wrong and the suite says so).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import onnx
from onnx.backend.base import Backend, BackendRep, namedtupledict

RUNTIMES = ("edgelite", "litert")
_CONVERT_OPTIONS = ("optimize", "allow_custom_ops", "nhwc_io")


def make_interpreter(model_bytes: bytes, runtime: str = "edgelite") -> Any:
    """A TFLite-API interpreter over a .tflite flatbuffer: edgelite's, or ai_edge_litert's."""
    if runtime == "edgelite":
        from edgelite.runtime.interpreter import Interpreter

        return Interpreter(model_content=model_bytes)
    if runtime == "litert":
        from ai_edge_litert.interpreter import Interpreter as LiteRTInterpreter

        return LiteRTInterpreter(model_content=model_bytes)
    raise ValueError(f"runtime must be one of {RUNTIMES}, not {runtime!r}")


def _static_shape(value_info: onnx.ValueInfoProto) -> tuple[int, ...] | None:
    tensor_type = value_info.type.tensor_type
    if not value_info.type.HasField("tensor_type") or not tensor_type.HasField("shape"):
        return None
    dims = []
    for dim in tensor_type.shape.dim:
        if not dim.HasField("dim_value") or dim.dim_value < 0:
            return None
        dims.append(int(dim.dim_value))
    return tuple(dims)


class EdgeliteRep(BackendRep):
    """A prepared model: the converted .tflite bytes and an interpreter per input-shape set.

    constant_inputs names graph inputs whose values are baked into the model as initializers at
    run() (the model is converted per distinct value): for parameters (axes, pads, shapes) that
    real models hold as constants and the ONNX node tests feed as inputs.
    """

    def __init__(self, model: onnx.ModelProto, runtime: str = "edgelite",
                 constant_inputs: Sequence[str] = (), **convert_options: Any) -> None:
        if runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {RUNTIMES}, not {runtime!r}")
        self.onnx_model = model
        self.runtime = runtime
        self.convert_options = convert_options
        for value in (*model.graph.input, *model.graph.output):
            kind = value.type.WhichOneof("value")
            if kind not in ("tensor_type", None):
                from edgelite.errors import ConversionError

                raise ConversionError(f"graph {'input' if value in model.graph.input else 'output'} "
                                      f"{value.name!r} is a {kind.replace('_type', '')}: TFLite graphs carry "
                                      "tensors only")
        initializers = {t.name for t in model.graph.initializer}
        self.input_names = [i.name for i in model.graph.input if i.name not in initializers]
        self.output_names = [o.name for o in model.graph.output]
        unknown = sorted(set(constant_inputs) - set(self.input_names))
        if unknown:
            raise ValueError(f"constant_inputs {unknown} are not inputs of the model ({self.input_names})")
        self.constant_inputs = tuple(n for n in self.input_names if n in set(constant_inputs))
        self._converted: dict[tuple, tuple[Any, bytes, Any]] = {}  # key -> (Model, bytes, interpreter)
        shapes = {i.name: _static_shape(i) for i in model.graph.input if i.name in self.input_names}
        if not self.constant_inputs and all(shape is not None for shape in shapes.values()):
            self._prepare(shapes, {})

    @property
    def model(self) -> Any:
        """The converted edgelite Model (the last one converted)."""
        return next(reversed(self._converted.values()))[0] if self._converted else None

    @property
    def model_bytes(self) -> bytes | None:
        return next(reversed(self._converted.values()))[1] if self._converted else None

    def on(self, runtime: str) -> EdgeliteRep:
        """The same converted model(s) run by another runtime (no second conversion)."""
        if runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {RUNTIMES}, not {runtime!r}")
        other = EdgeliteRep.__new__(EdgeliteRep)
        other.__dict__.update(self.__dict__)
        other.runtime = runtime
        other._converted = {}
        for key, (converted, data, _) in self._converted.items():
            interpreter = make_interpreter(data, runtime)
            interpreter.allocate_tensors()
            other._converted[key] = (converted, data, interpreter)
        return other

    def _prepare(self, shapes: Mapping[str, Sequence[int]],
                 constants: Mapping[str, np.ndarray]) -> tuple[Any, bytes, Any]:
        live = [n for n in self.input_names if n not in constants]
        key = (tuple((n, tuple(shapes[n])) for n in live),
               tuple((n, v.dtype.str, v.shape, v.tobytes()) for n, v in constants.items()))
        if key not in self._converted:
            from edgelite.frontends.onnx.importer import convert

            model = _bake(self.onnx_model, constants) if constants else self.onnx_model
            converted = convert(model, input_shapes={n: list(shapes[n]) for n in live},
                                **self.convert_options)
            data = converted.to_bytes()
            interpreter = make_interpreter(data, self.runtime)
            interpreter.allocate_tensors()
            self._converted[key] = (converted, data, interpreter)
        return self._converted[key]

    def convert(self, inputs: Any) -> Any:
        """The converted edgelite Model for these inputs (converting now if not yet), not run."""
        feeds = self._feeds(inputs)
        constants = {n: feeds.pop(n) for n in self.constant_inputs}
        return self._prepare({n: v.shape for n, v in feeds.items()}, constants)[0]

    def run(self, inputs: Any, **kwargs: Any) -> tuple[Any, ...]:  # noqa: ARG002 - BackendRep's signature
        feeds = self._feeds(inputs)
        constants = {n: feeds.pop(n) for n in self.constant_inputs}
        _, _, interpreter = self._prepare({n: v.shape for n, v in feeds.items()}, constants)
        details = {d["name"]: d for d in interpreter.get_input_details()}
        for name, value in feeds.items():
            detail = details.get(name)
            if detail is None:
                raise ValueError(f"the converted model has no input {name!r} (inputs: {sorted(details)})")
            interpreter.set_tensor(detail["index"], _as_input(name, value, np.dtype(detail["dtype"])))
        interpreter.invoke()
        results = [_output(interpreter, d) for d in interpreter.get_output_details()]
        if len(results) != len(self.output_names):
            raise RuntimeError(f"the converted model has {len(results)} outputs, "
                               f"the ONNX model {len(self.output_names)}")
        return namedtupledict("Outputs", self.output_names)(*results)

    def _feeds(self, inputs: Any) -> dict[str, np.ndarray]:
        if isinstance(inputs, Mapping):
            unknown = sorted(set(inputs) - set(self.input_names))
            if unknown:
                raise ValueError(f"unknown inputs {unknown} (the model's: {self.input_names})")
            missing = [n for n in self.input_names if n not in inputs]
            if missing:
                raise ValueError(f"missing inputs {missing}")
            return {n: np.asarray(inputs[n]) for n in self.input_names}
        if isinstance(inputs, np.ndarray):
            inputs = [inputs]
        inputs = list(inputs)
        if len(inputs) != len(self.input_names):
            raise ValueError(f"{len(inputs)} inputs given, the model takes {len(self.input_names)} "
                             f"({', '.join(self.input_names)})")
        return {n: np.asarray(v) for n, v in zip(self.input_names, inputs, strict=True)}


def _as_input(name: str, value: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """value as the converted model's input dtype: a lossless cast, or float to float (float64
    arrays into a float32 model); anything else means the model's input type changed: an error."""
    if value.dtype != dtype and not (np.can_cast(value.dtype, dtype, casting="safe")
                                     or (value.dtype.kind == "f" and dtype.kind == "f")):
        raise ValueError(f"input {name!r} is {value.dtype}, the converted model takes {dtype}")
    return np.asarray(value, dtype=dtype, order="C")


def _output(interpreter: Any, detail: Mapping[str, Any]) -> np.ndarray:
    """An output as a numpy array (an empty one built here: LiteRT cannot hand out zero-size data)."""
    shape = tuple(int(d) for d in detail["shape"])
    if 0 in shape:
        return np.zeros(shape, dtype=detail["dtype"])
    return np.array(interpreter.get_tensor(detail["index"]))


def _bake(model: onnx.ModelProto, constants: Mapping[str, np.ndarray]) -> onnx.ModelProto:
    """A copy of model whose named graph inputs are initializers holding the given values."""
    baked = onnx.ModelProto()
    baked.CopyFrom(model)
    kept = [i for i in baked.graph.input if i.name not in constants]
    del baked.graph.input[:]
    baked.graph.input.extend(kept)
    baked.graph.initializer.extend(onnx.numpy_helper.from_array(np.asarray(v), n)
                                   for n, v in constants.items())
    return baked


class EdgeliteBackend(Backend):
    """ONNX backend: `edgelite.convert` to .tflite, then `edgelite.Interpreter` (or LiteRT).

    prepare() keywords: runtime="edgelite" | "litert"; constant_inputs=(names) (see EdgeliteRep);
    optimize, allow_custom_ops, nhwc_io are passed to convert; others (the test runner's
    rtol/atol, ...) are ignored.
    """

    @classmethod
    def is_compatible(cls, model: onnx.ModelProto, device: str = "CPU", **kwargs: Any) -> bool:
        return cls.supports_device(device)

    @classmethod
    def supports_device(cls, device: str) -> bool:
        return device.upper() == "CPU"

    @classmethod
    def prepare(cls, model: onnx.ModelProto, device: str = "CPU", **kwargs: Any) -> EdgeliteRep:
        if not cls.supports_device(device):
            raise ValueError(f"edgelite runs on CPU, not {device!r}")
        if not isinstance(model, onnx.ModelProto):
            from edgelite.frontends.onnx.graph_io import load

            model = load(model)
        options = {k: kwargs[k] for k in _CONVERT_OPTIONS if k in kwargs}
        return EdgeliteRep(model, kwargs.get("runtime", "edgelite"), kwargs.get("constant_inputs", ()),
                           **options)

    @classmethod
    def run_model(cls, model: onnx.ModelProto, inputs: Any, device: str = "CPU",
                  **kwargs: Any) -> tuple[Any, ...]:
        return cls.prepare(model, device, **kwargs).run(inputs)

    @classmethod
    def run_node(cls, node: onnx.NodeProto, inputs: Any, device: str = "CPU",
                 outputs_info: Sequence[tuple[np.dtype, tuple[int, ...]]] | None = None,
                 **kwargs: Any) -> tuple[Any, ...]:
        """Run one node: a one-node model over the given arrays (opset_version= picks the opset)."""
        if isinstance(inputs, Mapping):
            arrays = [np.asarray(inputs[name]) for name in node.input if name]
        else:
            arrays = [np.asarray(v) for v in (inputs if isinstance(inputs, (list, tuple)) else [inputs])]
        names = [name for name in node.input if name]
        if len(names) != len(arrays):
            raise ValueError(f"node {node.op_type} has {len(names)} inputs, {len(arrays)} given")
        to_type = onnx.helper.np_dtype_to_tensor_dtype
        graph_inputs = [onnx.helper.make_tensor_value_info(n, to_type(a.dtype), a.shape)
                        for n, a in zip(names, arrays, strict=True)]
        outputs = [name for name in node.output if name]
        if outputs_info is not None:
            graph_outputs = [onnx.helper.make_tensor_value_info(n, to_type(np.dtype(dtype)), shape)
                             for n, (dtype, shape) in zip(outputs, outputs_info, strict=True)]
        else:
            graph_outputs = [onnx.helper.make_empty_tensor_value_info(n) for n in outputs]
        graph = onnx.helper.make_graph([node], f"{node.op_type}_node", graph_inputs, graph_outputs)
        opsets = [onnx.helper.make_opsetid(node.domain, kwargs.pop("opset_version"))] \
            if "opset_version" in kwargs else None
        model = onnx.helper.make_model(graph, opset_imports=opsets) if opsets \
            else onnx.helper.make_model(graph)
        return cls.run_model(model, arrays, device, **kwargs)


prepare = EdgeliteBackend.prepare
run_model = EdgeliteBackend.run_model
run_node = EdgeliteBackend.run_node
supports_device = EdgeliteBackend.supports_device
