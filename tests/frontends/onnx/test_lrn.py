"""LRN against onnxruntime, in LiteRT and edgelite."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

import edgelite
from tests.frontends.onnx.common import check_onnx, make_model


@pytest.mark.parametrize("size, alpha, beta, bias",
                         [(5, 1e-4, 0.75, 1.0), (3, 0.1, 0.5, 2.0), (1, 0.5, 1.0, 1.0)])
def test_lrn_matches_onnxruntime(size, alpha, beta, bias):
    node = helper.make_node("LRN", ["x"], ["y"], size=size, alpha=alpha, beta=beta, bias=bias)
    model = make_model([node], [("x", [1, 7, 5, 4], TensorProto.FLOAT)], ["y"])
    x = np.random.default_rng(size).normal(size=(1, 7, 5, 4)).astype(np.float32) * 3
    check_onnx(model, {"x": x})


def test_even_lrn_size_is_reported_unsupported():
    node = helper.make_node("LRN", ["x"], ["y"], size=4)
    model = make_model([node], [("x", [1, 7, 5, 4], TensorProto.FLOAT)], ["y"])
    with pytest.raises(edgelite.ConversionError, match="LRN"):
        edgelite.convert(model)
