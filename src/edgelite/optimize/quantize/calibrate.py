"""Calibration: run the float model in edgelite over a representative dataset and observe the
range of every float activation tensor with one of four methods (see `_observers`).

A representative dataset is any of:
  - an iterable of samples, each a list/tuple of arrays (one per model input, in input order),
    a dict {input name: array} (signature input names or tensor names), or one array for a
    one-input model;
  - a callable returning such an iterable (TensorFlow's `representative_dataset` style);
  - a mapping {input name: array} or an .npz path: arrays with a leading sample axis.
Each sample array has the input's shape, or the shape without its leading batch axis of 1.
Memory stays bounded: samples are consumed one at a time and observers keep fixed-size state.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgelite.errors import EdgeliteError
from edgelite.model.ir import Model, TensorType
from edgelite.optimize.quantize._observers import OBSERVERS

METHODS = tuple(OBSERVERS)


class CalibrationError(EdgeliteError, ValueError):
    """The representative dataset does not fit the model's inputs."""


@dataclass
class Calibration:
    """Observed ranges of subgraph 0's float activations, by tensor index."""

    method: str
    observers: dict[int, Any] = field(default_factory=dict)
    samples: int = 0
    kept: list[list[np.ndarray]] = field(default_factory=list)  # the first `keep` samples, if asked

    def range(self, tensor: int, levels: int = 256, symmetric: bool = False) -> tuple[float, float] | None:
        observer = self.observers.get(tensor)
        if observer is None or not observer.seen:
            return None
        return observer.range(levels, symmetric)


def calibrate(model: Model, data: Any, method: str = "minmax", progress: bool = True,
              keep: int = 0) -> Calibration:
    """Run `model` (float) on every sample of `data` and observe its float activations; keep the
    first `keep` samples in `Calibration.kept` (to measure the quantized model on them later)."""
    from edgelite.runtime.interpreter import Interpreter

    if method not in OBSERVERS:
        raise ValueError(f"unknown calibration method {method!r}; choose one of {', '.join(METHODS)}")
    interpreter = Interpreter(model_content=model.to_bytes(), experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    graph = model.subgraphs[0]
    watched = [i for i, t in enumerate(graph.tensors)
               if t.type == TensorType.FLOAT32 and model.constant(t) is None]
    result = Calibration(method, {i: OBSERVERS[method]() for i in watched})
    samples = samples_of(data, model)
    for sample in _progress(samples, _length(data), progress):
        _feed(interpreter, sample)
        interpreter.invoke()
        if len(result.kept) < keep:
            result.kept.append(sample)
        for i in watched:
            try:
                value = interpreter.get_tensor(i)
            except ValueError:  # never computed (e.g. only read by another subgraph)
                continue
            result.observers[i].update(value)
        result.samples += 1
    if result.samples == 0:
        raise CalibrationError("the calibration data yielded no samples; give at least one input sample")
    return result


def samples_of(data: Any, model: Model) -> Iterator[list[np.ndarray]]:
    """Normalize any accepted dataset form to a stream of per-input array lists."""
    names = input_names(model)
    if callable(data) and not isinstance(data, Mapping):
        data = data()
    if isinstance(data, (str, os.PathLike)):
        data = load_npz(data)
    if isinstance(data, Mapping):
        yield from _columns(data, names)
        return
    if not isinstance(data, Iterable):
        raise CalibrationError(f"calibration data must be iterable (got {type(data).__name__})")
    for position, sample in enumerate(data):
        yield _sample(sample, names, position)


def input_names(model: Model) -> list[tuple[str, ...]]:
    """For each graph input, the names a dataset may use: tensor name and signature name."""
    graph = model.subgraphs[0]
    aliases = {index: name for sig in model.signatures if sig.subgraph_index == 0
               for name, index in sig.inputs.items()}
    return [tuple(n for n in (graph.tensors[i].name, aliases.get(i)) if n) for i in graph.inputs]


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError) as error:
        raise CalibrationError(f"cannot read calibration data '{os.fspath(path)}': {error}") from error


def _columns(arrays: Mapping[str, Any], names: list[tuple[str, ...]]) -> Iterator[list[np.ndarray]]:
    if len(arrays) == 1 and len(names) == 1:
        columns = [np.asarray(next(iter(arrays.values())))]
    else:
        columns = [np.asarray(_pick(arrays, aliases)) for aliases in names]
    counts = {len(c) for c in columns}
    if len(counts) != 1:
        raise CalibrationError(f"calibration arrays have different sample counts {sorted(counts)}; "
                               "each array needs the same leading sample axis")
    for k in range(counts.pop()):
        yield [column[k] for column in columns]


def _sample(sample: Any, names: list[tuple[str, ...]], position: int) -> list[np.ndarray]:
    if isinstance(sample, Mapping):
        return [np.asarray(_pick(sample, aliases, position)) for aliases in names]
    if isinstance(sample, np.ndarray) or np.isscalar(sample):
        sample = [sample]
    sample = [np.asarray(value) for value in sample]
    if len(sample) != len(names):
        raise CalibrationError(f"calibration sample {position} has {len(sample)} arrays but the model "
                               f"has {len(names)} inputs ({', '.join(a[0] for a in names)})")
    return sample


def _pick(arrays: Mapping[str, Any], aliases: tuple[str, ...], position: int | None = None) -> Any:
    for name in aliases:
        if name in arrays:
            return arrays[name]
    where = "calibration data" if position is None else f"calibration sample {position}"
    raise CalibrationError(f"{where} has no array for input {' / '.join(map(repr, aliases))}; "
                           f"it has {sorted(arrays)}")


def _feed(interpreter: Any, sample: list[np.ndarray]) -> None:
    details = interpreter.get_input_details()
    values = []
    for detail, value in zip(details, sample, strict=True):
        value = np.asarray(value)
        if np.dtype(detail["dtype"]).kind == "f":
            value = value.astype(detail["dtype"], copy=False)
        shape = tuple(detail["shape"])
        if value.shape != shape and value.ndim == len(shape) - 1 and shape[:1] == (1,):
            value = value[None]
        values.append(value)
    if any(v.shape != tuple(d["shape"]) for d, v in zip(details, values, strict=True)):
        for detail, value in zip(details, values, strict=True):
            interpreter.resize_tensor_input(detail["index"], value.shape)
        interpreter.allocate_tensors()
    for detail, value in zip(details, values, strict=True):
        interpreter.set_tensor(detail["index"], value)


def _length(data: Any) -> int | None:
    if isinstance(data, Mapping) and data:
        return len(next(iter(data.values())))
    return len(data) if hasattr(data, "__len__") and not isinstance(data, (str, os.PathLike)) else None


def _progress(samples: Iterable, total: int | None, show: bool) -> Iterator:
    if not show:
        yield from samples
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = [TextColumn("calibrating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("calibrating", total=total)
        for sample in samples:
            yield sample
            bar.advance(task)

