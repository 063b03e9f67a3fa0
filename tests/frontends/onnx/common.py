"""Helpers for ONNX frontend tests: build small graphs, convert, compare LiteRT/edgelite/onnxruntime."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgelite.model.ir import Model

RTOL = ATOL = 1e-4


def make_model(nodes: Sequence[onnx.NodeProto], inputs: Sequence[tuple[str, Sequence[Any], int]],
               outputs: Sequence[tuple[str, Sequence[Any] | None, int]] | Sequence[str],
               initializers: Mapping[str, np.ndarray] | None = None, opset: int = 17) -> onnx.ModelProto:
    """An ONNX model from nodes; inputs/outputs as (name, shape, TensorProto elem type) or names."""
    graph_inputs = [helper.make_tensor_value_info(n, t, list(s)) for n, s, t in inputs]
    graph_outputs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) if isinstance(o, str)
                     else helper.make_tensor_value_info(o[0], o[2], None if o[1] is None else list(o[1]))
                     for o in outputs]
    inits = [numpy_helper.from_array(np.asarray(v), k) for k, v in (initializers or {}).items()]
    graph = helper.make_graph(list(nodes), "test", graph_inputs, graph_outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = min(model.ir_version, 10)
    return model


def run_onnxruntime(model: onnx.ModelProto, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, dict(feeds))


def run_tflite(interpreter: Any, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    """Run by input name (resizing inputs whose shape differs), outputs in model order."""
    details = {d["name"]: d for d in interpreter.get_input_details()}
    for name, value in feeds.items():
        if tuple(details[name]["shape"]) != value.shape:
            interpreter.resize_tensor_input(details[name]["index"], value.shape)
    interpreter.allocate_tensors()
    for name, value in feeds.items():
        interpreter.set_tensor(details[name]["index"], value)
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]


def litert_interpreter(model_bytes: bytes) -> Any:
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    return litert.Interpreter(model_content=model_bytes)


def edgelite_interpreter(model_bytes: bytes) -> Any:
    import edgelite

    return edgelite.Interpreter(model_content=model_bytes)


def check_onnx(model: onnx.ModelProto, feeds: Mapping[str, np.ndarray], *, rtol: float = RTOL,
               atol: float = ATOL, litert: bool = True, **convert_kwargs: Any) -> Model:
    """Convert, run in LiteRT (optional) and edgelite, compare each output with onnxruntime."""
    from edgelite.frontends.onnx.importer import convert

    converted = convert(model, **convert_kwargs)
    data = converted.to_bytes()
    expected = run_onnxruntime(model, feeds)
    runtimes = [("edgelite", edgelite_interpreter)] + ([("litert", litert_interpreter)] if litert else [])
    for label, make in runtimes:
        results = run_tflite(make(data), feeds)
        assert len(results) == len(expected), label
        for k, (got, want) in enumerate(zip(results, expected, strict=True)):
            assert got.shape == want.shape, f"{label} output {k}: shape {got.shape} != {want.shape}"
            np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"{label} output {k}")
    return converted


def opcodes(model: Model) -> list[str]:
    return [op.name for op in model.subgraphs[0].operators]


def rng_inputs(shapes: Mapping[str, Sequence[int]], seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {k: rng.standard_normal(tuple(s)).astype(np.float32) for k, s in shapes.items()}
