"""`edgelite compare`: where two versions of a model (float vs quantized) differ, layer by layer.

Both models run in edgelite with every intermediate tensor preserved, on the same inputs. Their
activations are paired by tensor name (TFLite's converters keep a float model's activation names
in its quantized versions), quantized values are dequantized, and per output and per layer the
error of B against A (the reference) is aggregated over all samples.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from edgelite.errors import EdgeliteError
from edgelite.model.ir import Model, Subgraph, Tensor
from edgelite.tools._common import CliError, UsageError, console, describe_error, read_model_bytes
from edgelite.tools._metrics import ErrorStats
from edgelite.tools._tensor_pairs import activations, dequantize, match_tensors

__all__ = ["ComparisonError", "ComparisonResult", "TensorComparison", "compare_models", "dequantize",
           "match_tensors", "to_input"]

DEFAULT_RANDOM_SAMPLES = 8
ModelSource = str | os.PathLike | bytes | Model
_RUN_ERRORS = (EdgeliteError, ValueError, TypeError, IndexError, NotImplementedError, FloatingPointError)


class ComparisonError(CliError):
    """The two models (or the data) cannot be compared; the message says why and what to change."""


@dataclass
class TensorComparison:
    """The error of B's tensor against A's over all samples (A is the reference)."""

    name: str  # A's tensor name
    name_b: str  # B's tensor name (differs only when paired by output position or a renamed suffix)
    op: str | None  # A's op producing it (None for a graph output that no op produces)
    op_index: int | None
    shape: list[int]
    dtype_a: str
    dtype_b: str
    max_abs_error: float = 0.0
    rmse: float = 0.0
    sqnr_db: float = math.inf
    cosine: float = 1.0
    top1_agreement: float | None = None


@dataclass
class ComparisonResult:
    """Per-output and per-layer (A's execution order) errors of model B against model A."""

    model_a: str
    model_b: str
    samples: int
    inputs: str  # where the inputs came from: a file, "data", or "random (seed N)"
    outputs: list[TensorComparison] = field(default_factory=list)
    layers: list[TensorComparison] = field(default_factory=list)
    unmatched_a: list[str] = field(default_factory=list)  # A's activations without a partner in B
    unmatched_b: list[str] = field(default_factory=list)

    def worst_layers(self, count: int = 3) -> list[TensorComparison]:
        """The `count` layers with the lowest SQNR (layers that are exact never count)."""
        inexact = [layer for layer in self.layers if layer.sqnr_db != math.inf]
        return sorted(inexact, key=lambda layer: layer.sqnr_db)[:count]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        """Strict JSON: infinite SQNR (exact) and other non-finite floats become "inf"/"-inf"/"nan"."""
        return json.dumps(_finite(self.to_dict()), indent=indent)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


# -- one model ---------------------------------------------------------------------------------
class _Side:
    """One model under comparison: its interpreter (all tensors preserved) and name tables."""

    def __init__(self, source: ModelSource, label: str) -> None:
        from edgelite.runtime.interpreter import Interpreter

        self.label = label
        if isinstance(source, Model):
            self.path, content = f"<{label}: in-memory model>", source.to_bytes()
        elif isinstance(source, bytes | bytearray):
            self.path, content = f"<{label}: bytes>", bytes(source)
        else:
            self.path, content = os.fspath(source), read_model_bytes(source)
        try:
            self.interpreter = Interpreter(model_content=content, experimental_preserve_all_tensors=True)
        except _RUN_ERRORS as error:
            raise CliError(f"cannot read model '{self.path}': {describe_error(error)}") from error
        self.model: Model = self.interpreter.model
        self.graph: Subgraph = self.model.subgraphs[0]
        self.aliases = {self.graph.tensors[i].name: i for i in self.graph.inputs}
        self.output_aliases: dict[str, int] = {}
        for signature in self.model.signatures:
            if signature.subgraph_index == 0:
                for name, index in signature.inputs.items():
                    self.aliases.setdefault(name, index)
                self.output_aliases.update(signature.outputs)
        self.shapes: dict[int, tuple[int, ...]] | None = None

    def tensor(self, index: int) -> Tensor:
        return self.graph.tensors[index]

    def run(self, values: dict[int, np.ndarray]) -> None:
        """Set the inputs (tensor index -> array of the input's dtype), resizing if needed; invoke."""
        interpreter = self.interpreter
        try:
            shapes = {index: value.shape for index, value in values.items()}
            if shapes != self.shapes:
                for index, shape in shapes.items():
                    interpreter.resize_tensor_input(index, shape)
                interpreter.allocate_tensors()
                self.shapes = shapes
            for index, value in values.items():
                interpreter.set_tensor(index, value)
            interpreter.invoke()
        except _RUN_ERRORS as error:
            raise CliError(f"model {self.label} ('{self.path}') failed: {describe_error(error)}") from error

    def real(self, index: int) -> np.ndarray:
        """A tensor's current value as real numbers (int tensors with scale/zero point dequantized)."""
        return dequantize(self.interpreter.get_tensor(index), self.tensor(index))


def to_input(value: np.ndarray, tensor: Tensor, label: str) -> np.ndarray:
    """A real-valued (or raw integer) sample as the input tensor wants it: cast, or quantized."""
    from edgelite.ops._quant import quantize_values

    want = tensor.dtype
    quant = tensor.quantization
    if value.dtype.kind == "f" and want.kind in "iu" and quant is not None and quant.scale.size == 1:
        return quantize_values(value, quant.scale[0], quant.zero_point[0], want)
    if value.dtype.kind == "f" and want.kind != "f":
        raise ComparisonError(f"input '{tensor.name}' of model {label} is {want.name} without quantization "
                              f"parameters; give integer data for it")
    return value.astype(want, copy=False)


# -- pairing inputs and outputs ----------------------------------------------------------------
def _match_outputs(a: _Side, b: _Side) -> list[tuple[int, int]]:
    """A's outputs paired with B's by tensor name, else signature output name, else position."""
    names_b = {b.tensor(j).name: j for j in b.graph.outputs}
    keys_a = {index: key for key, index in a.output_aliases.items()}
    pairs = []
    for position, i in enumerate(a.graph.outputs):
        j = names_b.get(a.tensor(i).name)
        if j is None and i in keys_a:
            j = b.output_aliases.get(keys_a[i])
        if j is None and len(a.graph.outputs) == len(b.graph.outputs):
            j = b.graph.outputs[position]
        if j is not None:
            pairs.append((i, j))
    return pairs


def _match_inputs(a: _Side, b: _Side) -> dict[int, int]:
    """A's input tensor -> B's, by tensor name or signature input name; an error if they differ."""
    keys_a = {index: key for key, index in a.aliases.items() if key != a.tensor(index).name}
    pairs = {}
    for i in a.graph.inputs:
        j = b.aliases.get(a.tensor(i).name)
        if j is None and i in keys_a:
            j = b.aliases.get(keys_a[i])
        if j is not None:
            pairs[i] = j
    if len(pairs) != len(a.graph.inputs) or set(pairs.values()) != set(b.graph.inputs):
        names_a = ", ".join(a.tensor(i).name for i in a.graph.inputs) or "none"
        names_b = ", ".join(b.tensor(j).name for j in b.graph.inputs) or "none"
        raise ComparisonError(f"the models have different inputs: A has {names_a}; B has {names_b} "
                              f"(compare two versions of the same model)")
    return pairs


# -- inputs ------------------------------------------------------------------------------------
def _fit(value: np.ndarray, tensor: Tensor) -> np.ndarray:
    """One sample shaped for the input: a sample without the batch axis of a batch-1 input gains it."""
    if value.ndim + 1 == len(tensor.shape) and tensor.shape and tensor.shape[0] == 1:
        return value[np.newaxis]
    return value


def _real_sample(value: Any, tensor: Tensor) -> np.ndarray:
    """A given sample as real values: quantized integers of A's input type are dequantized."""
    value = np.asarray(value)
    quant = tensor.quantization
    if value.dtype == tensor.dtype and value.dtype.kind in "iu" and quant is not None and quant.scale.size:
        return dequantize(value, tensor)
    return value


def _random_sample(a: _Side, rng: np.random.Generator) -> dict[int, np.ndarray]:
    """Uniform [0, 1) for float inputs, A's whole real range for quantized ones, else run's values."""
    from edgelite.tools.run import random_input

    sample = {}
    for i in a.graph.inputs:
        tensor = a.tensor(i)
        quant = tensor.quantization
        if tensor.dtype.kind in "iu" and quant is not None and quant.scale.size == 1:
            low, high = np.iinfo(tensor.dtype).min, np.iinfo(tensor.dtype).max
            ends = (np.array([low, high], np.float64) - quant.zero_point[0]) * quant.scale[0]
            sample[i] = rng.uniform(ends[0], ends[1], tensor.shape).astype(np.float32)
        else:
            sample[i] = random_input(tensor, rng)
    return sample


def _load_data(data: str | os.PathLike) -> dict[str, np.ndarray]:
    try:
        with np.load(data, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError) as error:
        raise CliError(f"cannot read data '{os.fspath(data)}': {describe_error(error)}") from error


def _data_samples(a: _Side, data: Any) -> Iterator[dict[int, np.ndarray]]:
    """Samples from a .npz path or name -> array mapping (first axis = samples), or an iterable
    of samples (each a name -> array mapping or a list in A's input order)."""
    if isinstance(data, str | os.PathLike):
        data = _load_data(data)
    if isinstance(data, Mapping):
        columns = {}
        for name, array in data.items():
            if name not in a.aliases:
                raise ComparisonError(f"data has an array '{name}' that is not an input of model A; "
                                      f"its inputs are: {', '.join(a.aliases) or 'none'}")
            columns[a.aliases[name]] = np.asarray(array)
        missing = [a.tensor(i).name for i in a.graph.inputs if i not in columns]
        if missing:
            raise ComparisonError(f"data has no array for input(s) {', '.join(missing)}; name each array "
                                  f"after an input, first axis = samples")
        counts = {len(v) if v.ndim else 0 for v in columns.values()}
        if len(counts) != 1:
            raise ComparisonError("data arrays have different numbers of samples (first axes); "
                                  "give the same number for every input")
        for k in range(counts.pop() if counts else 0):
            yield {i: v[k] for i, v in columns.items()}
        return
    for sample in data:
        if isinstance(sample, Mapping):
            yield {_input_index(a, name): value for name, value in sample.items()}
        else:
            yield dict(zip(a.graph.inputs, sample, strict=True))


def _input_index(a: _Side, name: str) -> int:
    if name in a.aliases:
        return a.aliases[name]
    raise ComparisonError(f"unknown input '{name}' in data; model A's inputs are: {', '.join(a.aliases)}")


# -- the comparison ----------------------------------------------------------------------------
def compare_models(a: ModelSource, b: ModelSource, data: Any = None, seed: int = 0,
                   samples: int | None = None) -> ComparisonResult:
    """Run A and B on the same inputs and measure B's error against A per output and per layer.

    `data`: a .npz path or a mapping input name -> array (first axis = samples), or an iterable
    of samples; None draws `samples` (default 8) seeded random inputs for A's inputs. Inputs of
    B that are int8/uint8/int16 get the real values quantized with B's input quantization.
    """
    side_a, side_b = _Side(a, "A"), _Side(b, "B")
    input_pairs = _match_inputs(side_a, side_b)
    if data is None:
        rng = np.random.default_rng(seed)
        count = DEFAULT_RANDOM_SAMPLES if samples is None else samples
        feed: Iterable[dict[int, np.ndarray]] = (_random_sample(side_a, rng) for _ in range(count))
        source = f"random (seed {seed})"
    else:
        feed = _data_samples(side_a, data)
        source = os.fspath(data) if isinstance(data, str | os.PathLike) else "data"
    layer_pairs = match_tensors(side_a.model, side_b.model)
    output_pairs = _match_outputs(side_a, side_b)
    stats = {pair: ErrorStats() for pair in layer_pairs}
    output_stats = {pair: ErrorStats(top1=True) for pair in output_pairs}
    dropped: set[tuple[int, int]] = set()
    done = 0
    for sample in feed:
        if samples is not None and done >= samples:
            break
        missing = [side_a.tensor(i).name for i in side_a.graph.inputs if i not in sample]
        if missing:
            raise ComparisonError(f"sample {done} has no value for input(s) {', '.join(missing)}")
        real = {i: _fit(_real_sample(v, side_a.tensor(i)), side_a.tensor(i)) for i, v in sample.items()}
        side_a.run({i: to_input(v, side_a.tensor(i), "A") for i, v in real.items()})
        side_b.run({input_pairs[i]: to_input(v, side_b.tensor(input_pairs[i]), "B") for i, v in real.items()})
        for table in (stats, output_stats):
            for pair, stat in table.items():
                if pair in dropped:
                    continue
                ref, test = side_a.real(pair[0]), side_b.real(pair[1])
                if ref.shape != test.shape:
                    dropped.add(pair)  # same name, different tensor: not comparable
                    continue
                stat.update(ref, test)
        done += 1
    if done == 0:
        raise ComparisonError("no samples to compare on: the data is empty (or --samples is 0)")
    producers = activations(side_a.model)
    result = ComparisonResult(side_a.path, side_b.path, done, source)
    result.outputs = [_entry(side_a, side_b, p, s, producers) for p, s in output_stats.items()
                      if p not in dropped]
    kept = [p for p in layer_pairs if p not in dropped]
    result.layers = [_entry(side_a, side_b, p, stats[p], producers) for p in kept]
    paired_a, paired_b = {i for i, _ in kept}, {j for _, j in kept}
    result.unmatched_a = [side_a.tensor(i).name for i in producers if i not in paired_a]
    result.unmatched_b = [side_b.tensor(j).name for j in activations(side_b.model) if j not in paired_b]
    return result


def _entry(a: _Side, b: _Side, pair: tuple[int, int], stat: ErrorStats,
           producers: dict[int, tuple[int, str]]) -> TensorComparison:
    i, j = pair
    op_index, op = producers.get(i, (None, None))
    return TensorComparison(a.tensor(i).name, b.tensor(j).name, op, op_index,
                            list(a.interpreter.get_tensor(i).shape), a.tensor(i).type.name.lower(),
                            b.tensor(j).type.name.lower(), **stat.summary())


# -- CLI ---------------------------------------------------------------------------------------
def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `edgelite compare`."""
    parser = subparsers.add_parser(
        "compare", help="per-output and per-layer error of model B against model A (e.g. quantized vs float)",
        description="Run two versions of a model on the same inputs and report, per output and per\n"
                    "layer (tensors paired by name), B's error against A: max abs error, RMSE, SQNR,\n"
                    "cosine similarity and, for [batch, classes] outputs, top-1 agreement.\n"
                    "Quantized tensors are dequantized; float inputs are quantized for int8 models.",
        epilog="examples:\n  edgelite compare model.tflite model_int8.tflite\n"
               "  edgelite compare model.tflite model_int8.tflite --data samples.npz --plot sqnr.png\n"
               "  edgelite compare model.tflite model_f16.tflite --samples 32 --json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_a", metavar="A", help="the reference model (usually float)")
    parser.add_argument("model_b", metavar="B", help="the model to check (usually quantized)")
    parser.add_argument("--data", metavar="DATA.npz",
                        help="inputs: one array per input name, first axis = samples (default: random)")
    parser.add_argument("--samples", type=int, metavar="N",
                        help=f"use at most N samples (random inputs: default {DEFAULT_RANDOM_SAMPLES})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default: 0)")
    parser.add_argument("--json", action="store_true", help="print the comparison as JSON")
    parser.add_argument("--plot", metavar="OUT.png", help="save a per-layer SQNR chart (needs matplotlib)")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run `edgelite compare`."""
    if args.samples is not None and args.samples < 1:
        raise UsageError(f"--samples must be at least 1, got {args.samples}")
    if args.plot:
        from edgelite.tools._compare_plot import require_matplotlib

        require_matplotlib()
    result = compare_models(args.model_a, args.model_b, data=args.data, seed=args.seed, samples=args.samples)
    if args.plot:
        from edgelite.tools._compare_plot import plot_sqnr

        plot_sqnr(result, args.plot)
    if args.json:
        print(result.to_json())
        return 0
    from edgelite.tools._tables import comparison_tables

    out = console()
    out.print(f"A: {result.model_a}\nB: {result.model_b}\n{result.samples} sample(s), inputs {result.inputs}")
    for table in comparison_tables(result):
        out.print(table)
    out.print(f"{len(result.layers)} layer(s) paired by name; {len(result.unmatched_a)} of A's and "
              f"{len(result.unmatched_b)} of B's activations have no partner and are not compared")
    if args.plot:
        out.print(f"saved the per-layer SQNR chart to {args.plot}")
    return 0

