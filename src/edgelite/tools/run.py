"""`edgelite run`: one inference on given or seeded random inputs, with output stats and .npy files."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from edgelite.errors import EdgeliteError
from edgelite.model.ir import Model, Tensor
from edgelite.tools._common import CliError, UsageError, console, describe_error, read_model_bytes, sanitize

_RUN_ERRORS = (EdgeliteError, ValueError, TypeError, IndexError, NotImplementedError, FloatingPointError)


def random_input(tensor: Tensor, rng: np.random.Generator) -> np.ndarray:
    """Uniform [0, 1) for floats, the whole range for integers, fair coin flips for bools."""
    dtype, shape = tensor.dtype, tuple(tensor.shape)
    if dtype.kind == "f":
        return rng.random(shape, dtype=np.float64).astype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    if dtype.kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    raise CliError(f"cannot make a random value for input '{tensor.name}' of type {tensor.type.name}; "
                   f"pass it with --input {tensor.name}=FILE.npy")


def random_inputs(model: Model, seed: int) -> dict[str, np.ndarray]:
    """Seeded random values for every input of subgraph 0, drawn in input order from one generator."""
    rng = np.random.default_rng(seed)
    graph = model.subgraphs[0]
    return {graph.tensors[i].name: random_input(graph.tensors[i], rng) for i in graph.inputs}


def input_names(model: Model) -> dict[str, int]:
    """Every name an input can be given by (tensor names, then signature input names) -> tensor index."""
    graph = model.subgraphs[0]
    names = {graph.tensors[i].name: i for i in graph.inputs}
    for signature in model.signatures:
        if signature.subgraph_index == 0:
            for name, index in signature.inputs.items():
                names.setdefault(name, index)
    return names


def _coerce(name: str, value: np.ndarray, tensor: Tensor) -> np.ndarray:
    """Cast a user array to the input's dtype when that loses nothing essential (float64 -> float32)."""
    want = tensor.dtype
    if value.dtype == want:
        return value
    same_family = (value.dtype.kind == "f" and want.kind == "f") or \
        (value.dtype.kind in "iub" and want.kind in "iu" and value.size and
         np.iinfo(want).min <= value.min() and value.max() <= np.iinfo(want).max)
    if not same_family:
        raise CliError(f"input '{name}' expects {tensor.type.name.lower()}, got {value.dtype.name}")
    return value.astype(want)


def _fits(shape: tuple[int, ...], tensor: Tensor) -> bool:
    signature = tensor.shape_signature if tensor.shape_signature is not None else tensor.shape
    return len(shape) == len(signature) and all(s in (-1, d) for s, d in zip(signature, shape, strict=True))


def run_model(path: str | os.PathLike, inputs: dict[str, np.ndarray] | None = None,
              seed: int = 0) -> dict[str, np.ndarray]:
    """Run one inference; inputs not given (by tensor or signature name) get seeded random values."""
    from edgelite.runtime.interpreter import Interpreter

    data = read_model_bytes(path)
    try:
        interpreter = Interpreter(model_content=data)
    except _RUN_ERRORS as error:
        raise CliError(f"cannot read model '{os.fspath(path)}': {describe_error(error)}") from error
    model = interpreter.model
    graph, names = model.subgraphs[0], input_names(model)
    values = {graph.tensors[i].name: (i, v) for i, v in
              zip(graph.inputs, random_inputs(model, seed).values(), strict=True)}
    for name, value in (inputs or {}).items():
        if name not in names:
            raise UsageError(f"unknown input '{name}'; the model's inputs are: {', '.join(names) or 'none'}")
        index = names[name]
        tensor = graph.tensors[index]
        value = _coerce(name, np.asarray(value), tensor)
        if not _fits(value.shape, tensor):
            raise CliError(f"input '{name}' expects shape {tuple(tensor.shape_signature or tensor.shape)}, "
                           f"got {value.shape}")
        values[tensor.name] = (index, value)
    try:
        for index, value in values.values():
            if value.shape != tuple(graph.tensors[index].shape):
                interpreter.resize_tensor_input(index, value.shape)
        interpreter.allocate_tensors()
    except _RUN_ERRORS as error:
        raise CliError(f"cannot prepare model '{os.fspath(path)}': {describe_error(error)}") from error
    try:
        for index, value in values.values():
            interpreter.set_tensor(index, value)
        interpreter.invoke()
        outputs = [(graph.tensors[i].name, interpreter.get_tensor(i)) for i in graph.outputs]
    except _RUN_ERRORS as error:
        raise CliError(f"inference failed: {describe_error(error)}") from error
    result: dict[str, np.ndarray] = {}
    for k, (name, value) in enumerate(outputs):
        result[name if name not in result else f"{name}#{k}"] = value
    return result


def summarize(name: str, value: np.ndarray, file: str | None = None) -> dict[str, Any]:
    """Shape, dtype, min/max/mean and (for vector-like outputs) argmax of one output."""
    numeric = value.dtype.kind in "biuf" and value.size > 0
    stats = value.astype(np.float64) if numeric else None
    vector_like = numeric and value.size > 1 and sum(d > 1 for d in value.shape) == 1
    return {"name": name, "shape": list(value.shape), "dtype": value.dtype.name,
            "min": float(stats.min()) if numeric else None, "max": float(stats.max()) if numeric else None,
            "mean": float(stats.mean()) if numeric else None,
            "argmax": int(np.argmax(value.reshape(-1))) if vector_like else None, "file": file}


def save_outputs(outputs: dict[str, np.ndarray], output_dir: str | os.PathLike) -> list[str]:
    """Write each output as `output_<k>_<sanitized name>.npy`; return the paths."""
    directory = Path(output_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for k, (name, value) in enumerate(outputs.items()):
            path = directory / f"output_{k}_{sanitize(name)}.npy"
            np.save(path, value, allow_pickle=False)
            paths.append(str(path))
    except OSError as error:
        raise CliError(f"cannot write outputs to '{directory}': {describe_error(error)}") from error
    return paths


def parse_input_arg(text: str) -> tuple[str, np.ndarray]:
    """'NAME=file.npy' -> (NAME, array loaded from the file)."""
    name, sep, file = text.partition("=")
    if not sep or not name or not file:
        raise UsageError(f"--input expects NAME=FILE.npy, got '{text}'")
    try:
        return name, np.load(file, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise CliError(f"cannot read input file '{file}' for '{name}': {describe_error(error)}") from error


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `edgelite run`."""
    parser = subparsers.add_parser(
        "run", help="run one inference and summarize (and save) the outputs",
        description="Run a .tflite model once with edgelite's interpreter.\n"
                    "Inputs not given with --input get seeded random values: uniform [0, 1) for\n"
                    "floats, the full range for integers, random bools.",
        epilog="examples:\n  edgelite run model.tflite --seed 1\n"
               "  edgelite run model.tflite --input image=img.npy --output-dir out/\n"
               "  edgelite run model.tflite --json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", metavar="MODEL", help="path to a .tflite file")
    parser.add_argument("--input", action="append", default=[], metavar="NAME=FILE.npy",
                        help="an input value by tensor or signature input name (repeatable)")
    parser.add_argument("--output-dir", metavar="DIR", help="save every output as DIR/output_<k>_<name>.npy")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default: 0)")
    parser.add_argument("--json", action="store_true", help="print the output summary as JSON")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run `edgelite run`."""
    given = dict(parse_input_arg(text) for text in args.input)
    outputs = run_model(args.model, given, args.seed)
    files = save_outputs(outputs, args.output_dir) if args.output_dir else [None] * len(outputs)
    summaries = [summarize(n, v, f) for (n, v), f in zip(outputs.items(), files, strict=True)]
    if args.json:
        print(json.dumps({"seed": args.seed, "inputs_given": sorted(given), "outputs": summaries}, indent=2))
    else:
        from edgelite.tools._tables import outputs_table

        out = console()
        given_text = f"inputs from files: {', '.join(sorted(given))}; others" if given else "inputs"
        out.print(f"{given_text} random with seed {args.seed}")
        out.print(outputs_table(summaries))
        if args.output_dir:
            out.print(f"saved {len(files)} output(s) to {args.output_dir}: "
                      + ", ".join(Path(f).name for f in files))
    return 0
