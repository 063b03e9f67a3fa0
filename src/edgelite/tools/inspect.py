"""`edgelite inspect`: what a .tflite model contains, as a JSON-able dict or readable tables."""

from __future__ import annotations

import argparse
import json
import os
import re
from collections import Counter
from typing import Any

import numpy as np
from rich.console import Console

from edgelite.errors import EdgeliteError, ModelError, UnsupportedOpError
from edgelite.model.ir import Model, Tensor
from edgelite.tools._common import console, dtype_name, load_model
from edgelite.tools.inspect_partition import partition_info, partition_table

_PLAN_ERRORS = (EdgeliteError, ValueError, TypeError, IndexError, KeyError, NotImplementedError)


def tensor_info(index: int, tensor: Tensor) -> dict[str, Any]:
    """Name, shapes, dtype and quantization of one tensor."""
    quant = tensor.quantization
    quantization = None
    if quant is not None and quant.scale.size:
        per_channel = bool(quant.per_channel)
        scale = [float(s) for s in quant.scale.reshape(-1)]
        zero_point = [int(z) for z in quant.zero_point.reshape(-1)]
        quantization = {
            "scale": scale if per_channel else scale[0],
            "zero_point": zero_point if per_channel else zero_point[0],
            "per_channel": per_channel,
            "quantized_dimension": int(quant.quantized_dimension),
        }
    signature = tensor.shape_signature if tensor.shape_signature is not None else tensor.shape
    return {"index": index, "name": tensor.name, "shape": [int(d) for d in tensor.shape],
            "shape_signature": [int(d) for d in signature], "dtype": dtype_name(tensor),
            "quantization": quantization}


def op_histogram(model: Model) -> dict[str, int]:
    """Operator name (custom ops by custom code) -> count over all subgraphs, most frequent first."""
    counts = Counter(op.name or "CUSTOM" for graph in model.subgraphs for op in graph.operators)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def parameter_stats(model: Model) -> dict[str, Any]:
    """Element count and bytes of the constant tensors (each buffer counted once), by dtype."""
    by_dtype: dict[str, dict[str, int]] = {}
    seen: set[int] = set()
    for graph in model.subgraphs:
        for tensor in graph.tensors:
            if tensor.buffer in seen or model.constant(tensor) is None:
                continue
            seen.add(tensor.buffer)
            entry = by_dtype.setdefault(dtype_name(tensor), {"count": 0, "bytes": 0})
            entry["count"] += int(np.prod(tensor.shape, dtype=np.int64))
            entry["bytes"] += int(model.buffers[tensor.buffer].nbytes)
    return {"count": sum(e["count"] for e in by_dtype.values()),
            "bytes": sum(e["bytes"] for e in by_dtype.values()),
            "by_dtype": dict(sorted(by_dtype.items()))}


def unsupported_ops(model: Model, plan_error: BaseException | None = None) -> list[str]:
    """Names of the operators edgelite has no kernel for, plus the op a failed plan stopped at."""
    from edgelite.ops.registry import lookup

    missing = set()
    for name in {op.name or "CUSTOM" for graph in model.subgraphs for op in graph.operators}:
        try:
            if lookup(name) is None:
                missing.add(name)
        except Exception:  # an op module that fails to import counts as missing, not as a crash
            missing.add(name)
    node = re.match(r"\S+ \(node (\d+)\)", str(plan_error)) if plan_error is not None else None
    operators = model.subgraphs[0].operators if model.subgraphs else []
    if isinstance(plan_error, UnsupportedOpError) and node and int(node[1]) < len(operators):
        missing.add(operators[int(node[1])].name or "CUSTOM")
    return sorted(missing)


def plan_model(model: Model) -> tuple[dict[str, int] | None, BaseException | None]:
    """Arena size and lower bound of subgraph 0 from the memory planner, or the planning error."""
    from edgelite.runtime.plan import build_plan

    if not model.subgraphs:
        return None, ModelError("the model has no subgraphs")
    try:
        plan = build_plan(model, 0, {})
    except _PLAN_ERRORS as error:
        return None, error
    return {"size": int(plan.arena_size), "lower_bound": int(plan.arena_lower_bound)}, None


def inspect_model(model: Model, path: str | os.PathLike | None = None) -> dict[str, Any]:
    """Everything `edgelite inspect` reports about a model, as a JSON-able dict."""
    main = model.subgraphs[0] if model.subgraphs else None
    arena, error = plan_model(model)
    return {
        "path": None if path is None else os.fspath(path),
        "file_size": None if path is None else os.path.getsize(path),
        "description": model.description,
        "schema_version": model.version,
        "subgraph_count": len(model.subgraphs),
        "subgraphs": [{"index": i, "name": g.name, "tensors": len(g.tensors), "operators": len(g.operators)}
                      for i, g in enumerate(model.subgraphs)],
        "inputs": [] if main is None else [tensor_info(i, main.tensors[i]) for i in main.inputs],
        "outputs": [] if main is None else [tensor_info(i, main.tensors[i]) for i in main.outputs],
        "ops": op_histogram(model),
        "parameters": parameter_stats(model),
        "arena": arena,
        "arena_error": None if error is None else f"{type(error).__name__}: {' '.join(str(error).split())}",
        "unsupported_ops": unsupported_ops(model, error),
        "signatures": [_signature_info(model, s) for s in model.signatures],
        "metadata": {name: len(model.metadata_bytes(name) or b"") for name in model.metadata},
        "partition": partition_info(model),
    }


def _signature_info(model: Model, signature: Any) -> dict[str, Any]:
    tensors = model.subgraphs[signature.subgraph_index].tensors if model.subgraphs else []

    def names(mapping: dict[str, int]) -> dict[str, str]:
        return {k: tensors[i].name if 0 <= i < len(tensors) else f"#{i}" for k, i in mapping.items()}

    return {"key": signature.key, "subgraph_index": signature.subgraph_index,
            "inputs": names(signature.inputs), "outputs": names(signature.outputs)}


def render(info: dict[str, Any], out: Console) -> None:
    """Print an inspect_model dict as readable tables."""
    from edgelite.tools._tables import inspection_tables

    for table in inspection_tables(info):
        out.print(table)
    if info.get("partition"):
        out.print(info["partition"]["summary"], highlight=False)
        if info["partition"]["segments"]:
            out.print(partition_table(info["partition"]))


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `edgelite inspect`."""
    parser = subparsers.add_parser(
        "inspect", help="show a model's inputs, outputs, ops, parameters and memory",
        description="Show what a .tflite model contains: inputs and outputs (shapes, dtypes,\n"
                    "quantization), an op histogram, parameter counts, the planned arena size and\n"
                    "which nodes run on the native engine (the rest on the reference kernels, with why).",
        epilog="examples:\n  edgelite inspect model.tflite\n  edgelite inspect model.tflite --json | jq .ops",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", metavar="MODEL", help="path to a .tflite file")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of tables")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run `edgelite inspect`."""
    info = inspect_model(load_model(args.model), args.model)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        render(info, console())
    return 0
