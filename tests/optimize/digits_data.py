"""The digits CNN and scikit-learn's digits images, shared by the pruning / clustering tests."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from edgelite.model.ir import Model
from edgelite.optimize import _layers

ROOT = Path(__file__).parents[2]
# shared/ beside the checkout, or inside it (a worktree may link it there)
MODELS = next((p for p in (ROOT.parent / "shared" / "models", ROOT / "shared" / "models") if p.is_dir()),
              ROOT.parent / "shared" / "models")
DIGITS = MODELS / "digits_cnn_float32.tflite"
TRAINING = 1400  # the first 1400 images trained the model: calibration data; the rest: test data
needs_models = pytest.mark.skipif(not DIGITS.is_file(), reason=f"shared test models not found in {MODELS}")


@functools.cache
def digits() -> tuple[np.ndarray, np.ndarray]:
    datasets = pytest.importorskip("sklearn.datasets")
    data = datasets.load_digits()
    images = np.kron(data.images / 16.0, np.ones((2, 2))).astype(np.float32)[..., None]
    return images, data.target


def calibration() -> dict[str, np.ndarray]:
    return {"x": digits()[0][:TRAINING]}


def outputs(model: Model, images: np.ndarray) -> np.ndarray:
    return next(iter(_layers.run(model, [[images]]).values()))


def accuracy(model: Model) -> float:
    """Top-1 accuracy in percent on the held-out images."""
    images, labels = digits()
    return float(np.mean(outputs(model, images[TRAINING:]).argmax(1) == labels[TRAINING:]) * 100)


def litert_outputs(content: bytes, images: np.ndarray, exact: bool = False) -> np.ndarray:
    """LiteRT's outputs one image at a time (BUILTIN_WITHOUT_DEFAULT_DELEGATES when `exact`)."""
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    options = {"experimental_op_resolver_type": litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES} \
        if exact else {}
    interpreter = litert.Interpreter(model_content=content, **options)
    interpreter.allocate_tensors()
    found = []
    for image in images:
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image[None])
        interpreter.invoke()
        found.append(interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0])
    return np.array(found)
