"""Per-op profile against LiteRT: every operator of a model cut out as a one-op model and timed in
edgelite and LiteRT (XNNPACK by default) in one process, alternating, with GFLOP/s of the MAC ops.

    python benchmarks/op_profile.py MODEL.tflite [--threads 1] [--top 15] [--json OUT]

An op alone is not an op in its graph (caches are warm, XNNPACK cannot fuse across ops), so the
sum of the per-op times is compared with both runtimes' whole-model medians in the last rows.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

import edgelite
from edgelite.model.extract import is_self_contained, single_op_model
from edgelite.model.ir import Model, Operator, Subgraph

MAC_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "BATCH_MATMUL", "TRANSPOSE_CONV"}


@dataclass
class OpTiming:
    index: int
    op: str
    shape: str
    edgelite_us: float
    litert_us: float
    macs: int

    @property
    def ratio(self) -> float:
        return self.edgelite_us / self.litert_us

    def gflops(self, us: float) -> float:
        return 2 * self.macs / us / 1e3


def multiply_adds(subgraph: Subgraph, op: Operator) -> int:
    """Multiply-adds of the MAC ops (0 for the others)."""
    if op.opcode not in MAC_OPS:
        return 0
    tensors = subgraph.tensors
    weights = tensors[op.inputs[1]].shape
    if op.opcode == "TRANSPOSE_CONV":
        return int(np.prod(tensors[op.inputs[2]].shape)) * int(np.prod(weights[:3]))
    out = int(np.prod(tensors[op.outputs[0]].shape))
    if op.opcode == "CONV_2D":
        return out * int(np.prod(weights[1:]))
    if op.opcode == "DEPTHWISE_CONV_2D":
        return out * weights[1] * weights[2]
    return out * int(tensors[op.inputs[0]].shape[-1])


def random_inputs(details: list[dict], rng: np.random.Generator) -> list[np.ndarray]:
    arrays = []
    for detail in details:
        dtype, shape = np.dtype(detail["dtype"]), detail["shape"]
        if dtype.kind == "f":
            arrays.append(rng.uniform(-1, 1, shape).astype(dtype))
        elif dtype.kind in "iu":
            info = np.iinfo(dtype)
            arrays.append(rng.integers(max(info.min, -128), min(info.max, 127) + 1, shape).astype(dtype))
        else:
            arrays.append(rng.integers(0, 2, shape).astype(dtype))
    return arrays


def loaded(interpreter_class: Callable, content: bytes, threads: int, inputs: list[np.ndarray] | None):
    interpreter = interpreter_class(model_content=content, num_threads=threads)
    interpreter.allocate_tensors()
    details = interpreter.get_input_details()
    inputs = inputs if inputs is not None else random_inputs(details, np.random.default_rng(0))
    for detail, array in zip(details, inputs, strict=True):
        interpreter.set_tensor(detail["index"], array)
    interpreter.invoke()
    return interpreter, inputs


def median_us(interpreters: list, budget_s: float) -> list[float]:
    """Median invoke time of each interpreter, runs alternated in blocks until the budget is spent."""
    samples: list[list[float]] = [[] for _ in interpreters]
    deadline = time.perf_counter() + budget_s
    while time.perf_counter() < deadline or len(samples[0]) < 5:
        for interpreter, times in zip(interpreters, samples, strict=True):
            for _ in range(3):
                start = time.perf_counter_ns()
                interpreter.invoke()
                times.append((time.perf_counter_ns() - start) / 1e3)
    return [float(np.median(times)) for times in samples]


def profile(model: Model, threads: int, budget_s: float) -> list[OpTiming]:
    from ai_edge_litert.interpreter import Interpreter as LiteRT

    subgraph, timings = model.subgraphs[0], []
    for index, op in enumerate(subgraph.operators):
        if not is_self_contained(op):
            continue
        content = single_op_model(model, index).to_bytes()
        ours, inputs = loaded(edgelite.Interpreter, content, threads, None)
        theirs, _ = loaded(LiteRT, content, threads, inputs)
        edgelite_us, litert_us = median_us([ours, theirs], budget_s)
        shape = "x".join(str(d) for d in subgraph.tensors[op.outputs[0]].shape)
        timings.append(OpTiming(index, op.name, shape, edgelite_us, litert_us, multiply_adds(subgraph, op)))
    return timings


def whole_model_us(content: bytes, threads: int, budget_s: float) -> tuple[float, float]:
    from ai_edge_litert.interpreter import Interpreter as LiteRT

    ours, inputs = loaded(edgelite.Interpreter, content, threads, None)
    theirs, _ = loaded(LiteRT, content, threads, inputs)
    return tuple(median_us([ours, theirs], budget_s * 10))


def report(name: str, timings: list[OpTiming], whole: tuple[float, float], top: int,
           console: Console) -> None:
    by_gap = sorted(timings, key=lambda t: t.litert_us - t.edgelite_us)[:top]
    table = Table(title=f"{name}: the {len(by_gap)} ops furthest behind LiteRT (µs, one op alone)")
    for column in ("#", "op", "output", "edgelite", "LiteRT", "ratio", "GFLOP/s edgelite", "GFLOP/s LiteRT"):
        table.add_column(column, justify="left" if column in ("op", "output") else "right")
    for t in by_gap:
        rates = (f"{t.gflops(t.edgelite_us):.1f}", f"{t.gflops(t.litert_us):.1f}") if t.macs else ("", "")
        table.add_row(str(t.index), t.op, t.shape, f"{t.edgelite_us:.1f}", f"{t.litert_us:.1f}",
                      f"{t.ratio:.2f}", *rates)
    console.print(table)

    types = Table(title="by op type (sum of the ops alone)")
    for column in ("op", "count", "edgelite µs", "LiteRT µs", "ratio"):
        types.add_column(column, justify="left" if column == "op" else "right")
    sums: dict[str, list[float]] = {}
    for t in timings:
        entry = sums.setdefault(t.op, [0, 0.0, 0.0])
        entry[0] += 1
        entry[1] += t.edgelite_us
        entry[2] += t.litert_us
    for op, (count, ours, theirs) in sorted(sums.items(), key=lambda item: -item[1][1]):
        types.add_row(op, str(count), f"{ours:.1f}", f"{theirs:.1f}", f"{ours / theirs:.2f}")
    ours, theirs = sum(t.edgelite_us for t in timings), sum(t.litert_us for t in timings)
    types.add_row("all ops alone", str(len(timings)), f"{ours:.1f}", f"{theirs:.1f}", f"{ours / theirs:.2f}")
    types.add_row("whole model", "", f"{whole[0]:.1f}", f"{whole[1]:.1f}", f"{whole[0] / whole[1]:.2f}")
    console.print(types)

    largest = sorted((t for t in timings if t.macs), key=lambda t: -t.macs)[:5]
    if largest:
        console.print("largest MAC layers (GFLOP/s, edgelite / LiteRT): " + "; ".join(
            f"#{t.index} {t.op} {t.macs / 1e6:.1f}M MACs {t.gflops(t.edgelite_us):.1f} / "
            f"{t.gflops(t.litert_us):.1f}" for t in largest))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--top", type=int, default=15, help="rows in the furthest-behind table")
    parser.add_argument("--budget", type=float, default=0.05, help="seconds of timing per op (default 0.05)")
    parser.add_argument("--json", type=Path, help="also write every op's timing here")
    args = parser.parse_args()
    model = edgelite.load(str(args.model))
    timings = profile(model, args.threads, args.budget)
    whole = whole_model_us(args.model.read_bytes(), args.threads, args.budget)
    report(args.model.stem, timings, whole, args.top, Console(width=160))
    if args.json:
        args.json.write_text(json.dumps([asdict(t) for t in timings], indent=1))


if __name__ == "__main__":
    main()
