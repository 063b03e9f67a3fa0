"""single_op_model: every op of a real model, cut out alone, reproduces its tensor of the whole run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import edgelite
from edgelite.errors import ModelError
from edgelite.model.extract import single_op_model

MODELS = Path(__file__).resolve().parents[2].parent / "shared" / "models"


def _model(name: str) -> Path:
    path = MODELS / name
    if not path.exists():
        pytest.skip(f"{path} is not present (the shared models live next to the repository)")
    return path


@pytest.mark.parametrize("name", ["mnv2_035_96_int8.tflite", "digits_cnn_float32.tflite"])
def test_each_op_alone_matches_the_whole_run_in_litert(name: str) -> None:
    litert = pytest.importorskip("ai_edge_litert.interpreter", reason="ai-edge-litert is the oracle")
    path = _model(name)
    model = edgelite.load(str(path))
    whole = litert.Interpreter(model_path=str(path), experimental_preserve_all_tensors=True,
                               experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    whole.allocate_tensors()
    detail = whole.get_input_details()[0]
    rng = np.random.default_rng(0)
    whole.set_tensor(detail["index"], rng.uniform(-1, 1, detail["shape"]).astype(detail["dtype"]))
    whole.invoke()
    subgraph = model.subgraphs[0]
    for index, op in enumerate(subgraph.operators):
        alone = litert.Interpreter(model_content=single_op_model(model, index).to_bytes(),
                                   experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        alone.allocate_tensors()
        activations = [i for i in op.inputs if i >= 0 and model.constant(subgraph.tensors[i]) is None]
        for detail, tensor in zip(alone.get_input_details(), activations, strict=True):
            alone.set_tensor(detail["index"], whole.get_tensor(tensor))
        alone.invoke()
        for detail, tensor in zip(alone.get_output_details(), op.outputs, strict=True):
            np.testing.assert_array_equal(alone.get_tensor(detail["index"]), whole.get_tensor(tensor),
                                          err_msg=f"op {index} {op.name}")


def test_out_of_range_operator_is_a_model_error() -> None:
    model = edgelite.load(str(_model("digits_cnn_float32.tflite")))
    with pytest.raises(ModelError, match="operator 999 does not exist"):
        single_op_model(model, 999)
