"""`edgelite demo`: the bundled digits model through inspect -> run -> quantize -> compare -> time."""

from __future__ import annotations

import argparse
import tempfile
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
    """The bundled model (an MLP trained on scikit-learn's digits) and its digits: test + calibration."""
    data = resources.files("edgelite") / "data"
    return Path(str(data / "digits_mlp.tflite")), Path(str(data / "digits_test.npz"))


def load_digits() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Held-out images, their labels and calibration images (training digits), as model inputs."""
    with np.load(demo_files()[1]) as data:
        return (data["images"].astype(np.float32) / 16, data["labels"].astype(np.int64),
                data["calibration"].astype(np.float32) / 16)


def classify(model_path: Path, images: np.ndarray,
             interpreter_class: type = Interpreter) -> tuple[np.ndarray, float, object]:
    """Probabilities for every image in one batched invoke, the seconds it took, the interpreter."""
    interpreter = interpreter_class(model_path=str(model_path))
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
        from ai_edge_litert.interpreter import OpResolverType
    except ImportError:
        return None

    def builtin_kernels(model_path: str) -> LiteRT:
        return LiteRT(model_path=model_path,
                      experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)

    return classify(model_path, images, builtin_kernels)[0]


def run_demo(workdir: Path | None = None) -> dict:
    """Run every step, print what each gave, and return the measurements."""
    from edgelite.optimize.quantize.api import quantize
    from edgelite.tools.compare import compare_models

    model_path = demo_files()[0]
    images, labels, calibration = load_digits()
    out = console()
    info = inspect_model(load(str(model_path)), model_path)
    ops = ", ".join(f"{name} x{count}" for name, count in info["ops"].items())
    out.print(f"[bold]1. inspect[/bold]   {model_path.name}: {human_bytes(info['file_size'])}, "
              f"{info['parameters']['count']:,} parameters; ops: {ops}")

    probabilities, seconds, _ = classify(model_path, images)
    accuracy = float(np.mean(probabilities.argmax(axis=1) == labels))
    out.print(f"[bold]2. run[/bold]       {len(images)} held-out scikit-learn digits in one batched invoke: "
              f"accuracy {accuracy:.1%} ({seconds / len(images) * 1e6:.1f} µs per image)")

    workdir = Path(workdir or tempfile.mkdtemp(prefix="edgelite-demo-"))
    int8_path = workdir / "digits_mlp_int8.tflite"
    quantized, report = quantize(str(model_path), mode="int8", progress=False, return_report=True,
                                 calibration_data=[[image[None]] for image in calibration])
    quantized.save(str(int8_path))
    out.print(f"[bold]3. quantize[/bold]  int8, calibrated on {len(calibration)} training digits: "
              f"{human_bytes(report.size_before)} -> {human_bytes(report.size_after)} "
              f"({report.ratio:.1f}x smaller), {len(report.quantized)} of {len(report.ops)} ops integer "
              f"-> {int8_path}")

    int8_probabilities, int8_seconds, _ = classify(int8_path, images)
    int8_accuracy = float(np.mean(int8_probabilities.argmax(axis=1) == labels))
    comparison = compare_models(str(model_path), str(int8_path), data={"image": images})
    output = comparison.outputs[0]
    out.print(f"[bold]4. compare[/bold]   int8 vs float: accuracy {int8_accuracy:.1%} "
              f"(float {accuracy:.1%}), "
              f"same class for {output.top1_agreement:.1%} of the digits, output SQNR "
              f"{output.sqnr_db:.1f} dB; worst layer: {_worst(comparison)}")

    reference = litert_probabilities(int8_path, images)
    if reference is None:
        check = "install ai-edge-litert to check against the official runtime"
        exact = None
    else:
        exact = bool(np.array_equal(reference, int8_probabilities))
        check = ("the official runtime (LiteRT) gives bit-identical int8 results" if exact
                 else f"LiteRT differs by up to {np.max(np.abs(reference - int8_probabilities)):.2e}")
    out.print(f"[bold]5. check[/bold]     {check}; edgelite int8 batch took {int8_seconds * 1e3:.2f} ms "
              f"vs {seconds * 1e3:.2f} ms float (reference kernels)")
    out.print("next: `edgelite inspect|run|quantize|compare|benchmark` on your own .tflite model")
    return {"accuracy": accuracy, "int8_accuracy": int8_accuracy, "size_ratio": report.ratio,
            "sqnr_db": output.sqnr_db, "litert_exact": exact}


def _worst(comparison) -> str:
    worst = comparison.worst_layers(1)
    return f"{worst[0].op} at {worst[0].sqnr_db:.1f} dB" if worst else "all exact"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run the bundled digits model through edgelite's steps",
                                   description=__doc__)
    parser.add_argument("--workdir", type=Path,
                        help="where to write the quantized model (default: a temporary folder)")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    run_demo(args.workdir)
    return 0
