"""`edgelite demo`: the bundled digits model through inspect -> run -> check, saying what each step gives."""

from __future__ import annotations

import argparse
import time
from importlib import resources
from pathlib import Path

import numpy as np

from edgelite.model.reader import load
from edgelite.runtime.interpreter import Interpreter
from edgelite.tools._common import console
from edgelite.tools._tables import human_bytes
from edgelite.tools.inspect import inspect_model


def demo_files() -> tuple[Path, Path]:
    """The bundled model (an MLP trained on scikit-learn's digits) and its held-out test set."""
    data = resources.files("edgelite") / "data"
    return Path(str(data / "digits_mlp.tflite")), Path(str(data / "digits_test.npz"))


def classify(model_path: Path, images: np.ndarray) -> tuple[np.ndarray, float, Interpreter]:
    """Probabilities for every image in one batched invoke, and the seconds it took."""
    interpreter = Interpreter(model_path=str(model_path))
    index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(index, images.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(index, images)
    start = time.perf_counter()
    interpreter.invoke()
    seconds = time.perf_counter() - start
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"]), seconds, interpreter


def litert_probabilities(model_path: Path, images: np.ndarray) -> np.ndarray | None:
    """The official runtime's answer on the same batch, when ai-edge-litert is installed."""
    try:
        from ai_edge_litert.interpreter import Interpreter as LiteRT
    except ImportError:
        return None
    interpreter = LiteRT(model_path=str(model_path))
    index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(index, images.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(index, images)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def run_demo() -> dict:
    """Run every step and return what it measured."""
    model_path, data_path = demo_files()
    out = console()
    info = inspect_model(load(str(model_path)), model_path)
    ops = ", ".join(f"{name} x{count}" for name, count in info["ops"].items())
    out.print(f"[bold]1. inspect[/bold]  {model_path.name}: {human_bytes(info['file_size'])}, "
              f"{info['parameters']['count']:,} parameters; ops: {ops}")

    with np.load(data_path) as data:
        images = (data["images"].astype(np.float32) / 16.0)
        labels = data["labels"].astype(np.int64)
    probabilities, seconds, interpreter = classify(model_path, images)
    accuracy = float(np.mean(probabilities.argmax(axis=1) == labels))
    plan = interpreter.plan
    out.print(f"[bold]2. run[/bold]      {len(images)} held-out scikit-learn digits in one batched invoke: "
              f"accuracy {accuracy:.1%}, {seconds / len(images) * 1e6:.1f} µs per image; "
              f"all activations in one {human_bytes(plan.arena_size)} arena "
              f"(lower bound {human_bytes(plan.arena_lower_bound)})")

    reference = litert_probabilities(model_path, images)
    if reference is None:
        out.print("[bold]3. check[/bold]    ai-edge-litert is not installed: pip install ai-edge-litert "
                  "to compare with the official runtime")
        max_error = None
    else:
        max_error = float(np.max(np.abs(reference - probabilities)))
        agree = float(np.mean(reference.argmax(1) == probabilities.argmax(1)))
        out.print(f"[bold]3. check[/bold]    official runtime (LiteRT) on the same file: max |difference| "
                  f"{max_error:.2e}, same class for {agree:.1%} of the images")
    out.print("next: `edgelite inspect` / `edgelite run` on your own .tflite model")
    return {"accuracy": accuracy, "max_error_vs_litert": max_error, "arena": plan.arena_size}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run the bundled digits model through edgelite's steps",
                                   description=__doc__)
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    run_demo()
    return 0
