"""Sparse weights: edgelite's sparse kernels vs its dense kernels vs LiteRT, on the same files.

    python benchmarks/sparse.py [--runs 30] [--sparsity 0.5 0.75 0.9] [--quick]

Cases: FULLY_CONNECTED 1024 -> 1024 (batch 1 and 16) and MobileNet-like 1x1 convolutions, float32
and int8 (per-channel weights), at each sparsity, unstructured (stored CSR) and in blocks of 1x4
and 1x16 (stored block-CSR). Each file is what edgelite.prune writes: the sparse constant behind a
DENSIFY op. Runtimes, one thread each, in this process, runs alternated between them:
  sparse   edgelite's native executor on the sparse file (SPMM / QSPMM kernels)
  dense    edgelite's native executor on the same weights stored dense (GEMM / QGEMM)
  LiteRT   ai-edge-litert (default resolver: XNNPACK) on the sparse file (densified at load); where
           XNNPACK fails to prepare it (int8 FULLY_CONNECTED fed by DENSIFY), its builtin kernels
  LiteRT*  LiteRT's builtin kernels (no XNNPACK) on the file whose FULLY_CONNECTED reads the sparse
           weights itself: its own sparse kernels, for the layouts it accepts (float32 CSR and 1x4,
           int8 1x16); '-' where it rejects the file
Times are medians of `runs` invokes after warm-up; ratios > 1 mean the sparse kernel is faster.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

from edgelite.model.ir import Model, Operator, Quantization, Subgraph, Tensor, TensorType
from edgelite.ops._common import Activation, Padding
from edgelite.ops.conv_2d import Conv2DOptions
from edgelite.ops.fully_connected import FullyConnectedOptions
from edgelite.optimize.quantize._graph import prune as drop_unused
from edgelite.optimize.sparse_storage import store_sparse
from edgelite.runtime.interpreter import Interpreter

PATTERNS = {"unstructured": "csr", "block(1,4)": "block(1,4)", "block(1,16)": "block(1,16)"}


@dataclass(frozen=True)
class Case:
    name: str
    op: str
    x_shape: tuple[int, ...]
    w_shape: tuple[int, ...]  # FC [units, in]; conv OHWI


CASES = (Case("FC 1024x1024 b1", "FULLY_CONNECTED", (1, 1024), (1024, 1024)),
         Case("FC 1024x1024 b16", "FULLY_CONNECTED", (16, 1024), (1024, 1024)),
         Case("1x1 56x56 64->256", "CONV_2D", (1, 56, 56, 64), (256, 1, 1, 64)),
         Case("1x1 14x14 256->1024", "CONV_2D", (1, 14, 14, 256), (1024, 1, 1, 256)))


def pruned_weights(rng, shape, sparsity: float, pattern: str, int8: bool) -> np.ndarray:
    """Random weights with `sparsity` of them (single values or 1xB blocks along the depth) zero."""
    block = 1 if pattern == "unstructured" else int(pattern[len("block(1,"):-1])
    dense = rng.integers(-127, 128, size=shape).astype(np.int8) if int8 else \
        rng.standard_normal(shape).astype(np.float32) * 0.1
    blocks = dense.reshape(*shape[:-1], shape[-1] // block, block)
    blocks *= (rng.random(blocks.shape[:-1]) >= sparsity)[..., None].astype(dense.dtype)
    return dense


def _quant(scale, zero=0, axis=0) -> Quantization:
    scale = np.atleast_1d(np.asarray(scale, np.float32))
    return Quantization(scale, np.full(scale.size, zero, np.int64), axis)


def one_op_model(case: Case, weights: np.ndarray, int8: bool) -> Model:
    """x -> FC / CONV_2D (weights, bias) -> y, float32 or int8 with per-channel weights."""
    units = weights.shape[0]
    model = Model(subgraphs=[Subgraph(name="main")])
    graph = model.subgraphs[0]
    if int8:
        w_scale = np.full(units, 0.02 / 127, np.float32)
        x_type, x_q, w_q = TensorType.INT8, _quant(0.05, -3), _quant(w_scale)
        bias = np.zeros(units, np.int32)
        b_q, out_q = _quant(0.05 * w_scale), _quant(0.25, 2)
    else:
        x_type, x_q, w_q, b_q, out_q = TensorType.FLOAT32, None, None, None, None
        bias = np.zeros(units, np.float32)
    k = weights.shape[-1]
    out_shape = (case.x_shape[0], units) if case.op == "FULLY_CONNECTED" else (*case.x_shape[:3], units)
    graph.tensors = [Tensor("x", case.x_shape, x_type, 0, x_q),
                     Tensor("w", weights.shape, x_type, model.add_buffer(weights), w_q),
                     Tensor("b", (units,), TensorType.from_numpy(bias.dtype), model.add_buffer(bias), b_q),
                     Tensor("y", out_shape, x_type, 0, out_q)]
    options = FullyConnectedOptions(Activation.NONE) if case.op == "FULLY_CONNECTED" else \
        Conv2DOptions(Padding.SAME, 1, 1, Activation.NONE)
    graph.operators = [Operator(case.op, (0, 1, 2), (3,), options)]
    graph.inputs, graph.outputs = (0,), (3,)
    assert k == case.x_shape[-1]
    return model


def sparse_file(case: Case, weights: np.ndarray, int8: bool, layout: str, direct: bool) -> bytes:
    model = one_op_model(case, weights, int8)
    store_sparse(model, [1], layout, force=True)
    if direct:  # the op reads the sparse constant itself (TFLite's sparse FULLY_CONNECTED)
        graph = model.subgraphs[0]
        densify = next(op for op in graph.operators if op.opcode == "DENSIFY")
        graph.operators.remove(densify)
        graph.operators[0].inputs = tuple(densify.inputs[0] if i == densify.outputs[0] else i
                                          for i in graph.operators[0].inputs)
        drop_unused(model)
    return model.to_bytes()


def edgelite_runner(content: bytes, feed: np.ndarray):
    interpreter = Interpreter(model_content=content, experimental_executor="native", num_threads=1)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], feed)
    return interpreter


def litert_runner(content: bytes, feed: np.ndarray, builtin: bool = False):
    """LiteRT with its default resolver (XNNPACK), or (builtin) its builtin kernels only: XNNPACK
    crashes on a FULLY_CONNECTED that reads 1x4-block sparse weights itself (ai-edge-litert 2.3)."""
    from ai_edge_litert.interpreter import Interpreter as LiteRT
    from ai_edge_litert.interpreter import OpResolverType

    resolver = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES if builtin else OpResolverType.AUTO
    try:
        interpreter = LiteRT(model_content=content, num_threads=1, experimental_op_resolver_type=resolver)
        interpreter.allocate_tensors()
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], feed)
        interpreter.invoke()
    except (RuntimeError, ValueError):
        return None
    return interpreter


def output(interpreter) -> np.ndarray:
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def median_ms(runners: dict, runs: int) -> dict[str, float]:
    """Median invoke time of each runner, runs alternated between them after 3 warm-ups."""
    times = {name: [] for name in runners}
    for _ in range(3):
        for runner in runners.values():
            runner.invoke()
    for _ in range(runs):
        for name, runner in runners.items():
            start = time.perf_counter_ns()
            runner.invoke()
            times[name].append(time.perf_counter_ns() - start)
    return {name: float(np.median(t)) / 1e6 for name, t in times.items()}


def measure(case: Case, sparsity: float, pattern: str, int8: bool, runs: int, rng) -> dict:
    weights = pruned_weights(rng, case.w_shape, sparsity, pattern, int8)
    feed = rng.integers(-128, 128, case.x_shape).astype(np.int8) if int8 else \
        rng.standard_normal(case.x_shape).astype(np.float32)
    layout = PATTERNS[pattern]
    sparse = sparse_file(case, weights, int8, layout, direct=False)
    runners = {"sparse": edgelite_runner(sparse, feed),
               "dense": edgelite_runner(one_op_model(case, weights, int8).to_bytes(), feed)}
    assert all(runners["sparse"]._executor.native), "the sparse node did not run natively"
    litert, litert_path = litert_runner(sparse, feed), "XNNPACK"
    if litert is None:  # XNNPACK fails to prepare an int8 FULLY_CONNECTED fed by DENSIFY
        litert, litert_path = litert_runner(sparse, feed, builtin=True), "builtin"
    if litert is not None:
        runners["litert"] = litert
    if case.op == "FULLY_CONNECTED":
        direct = litert_runner(sparse_file(case, weights, int8, layout, direct=True), feed, builtin=True)
        if direct is not None:
            runners["litert_direct"] = direct
    ms = median_ms(runners, runs)
    ours, dense = output(runners["sparse"]), output(runners["dense"])
    error = np.abs(ours.astype(np.float64) - dense).max()
    scale = max(np.abs(dense.astype(np.float64)).max(), 1e-30)
    oracle = {name: np.abs(output(runners[name]).astype(np.float64) - ours).max()
              for name in ("litert", "litert_direct") if name in runners}
    return {"ms": ms, "error": error if int8 else error / scale, "litert_error": oracle,
            "litert_path": litert_path if litert is not None else "rejected"}


def table(rows: list[tuple], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Table(title=title)
    for header in ("case", "dtype", "pattern", "sparsity", "sparse ms", "dense ms", "dense/sparse",
                   "LiteRT ms", "LiteRT/sparse", "LiteRT kernels", "LiteRT* ms", "LiteRT*/sparse",
                   "err vs dense",
                   "err vs LiteRT (, LiteRT*)"):
        out.add_column(header, justify="right" if "ms" in header or "/" in header else "left")
    for row in rows:
        out.add_row(*row)
    Console(width=220).print(out)


def row(case: Case, dtype: str, pattern: str, sparsity: float, result: dict) -> tuple[str, ...]:
    ms = result["ms"]

    def ratio(name: str) -> str:
        return f"{ms[name] / ms['sparse']:.2f}x" if name in ms else "-"

    def cell(name: str) -> str:
        return f"{ms[name]:.3f}" if name in ms else "-"

    errors = ", ".join(f"{v:.2g}" for v in result["litert_error"].values()) or "-"
    return (case.name, dtype, pattern, f"{sparsity:.0%}", cell("sparse"), cell("dense"), ratio("dense"),
            cell("litert"), ratio("litert"), result["litert_path"], cell("litert_direct"),
            ratio("litert_direct"), f"{result['error']:.2g}", errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--sparsity", type=float, nargs="+", default=[0.5, 0.75, 0.9])
    parser.add_argument("--quick", action="store_true", help="one FC and one conv case, float32 and int8")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    cases = (CASES[0], CASES[2]) if args.quick else CASES
    for case in cases:
        for int8 in (False, True):
            for pattern in PATTERNS:
                for sparsity in args.sparsity:
                    result = measure(case, sparsity, pattern, int8, args.runs, rng)
                    rows.append(row(case, "int8" if int8 else "float32", pattern, sparsity, result))
                    print(" | ".join(rows[-1]), flush=True)
    table(rows, "edgelite sparse kernels vs dense and LiteRT (1 thread; ratio > 1: sparse faster)")


if __name__ == "__main__":
    main()
