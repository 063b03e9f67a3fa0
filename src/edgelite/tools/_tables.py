"""Rich tables for the CLI verbs' reports (kept apart from the code that builds the reports)."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.table import Table


def human_bytes(size: int | None) -> str:
    """'1.5 MiB' style size; '-' when unknown."""
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _quantization_text(quant: dict[str, Any] | None) -> str:
    if quant is None:
        return "-"
    if quant["per_channel"]:
        return f"per-channel ({len(quant['scale'])} scales, axis {quant['quantized_dimension']})"
    return f"scale {quant['scale']:.6g} zp {quant['zero_point']}"


def _shape(dims: list[int]) -> str:
    return "[" + ",".join(str(d) for d in dims) + "]"


def tensors_table(title: str, tensors: list[dict[str, Any]]) -> Table:
    """One row per tensor: index, name, shape, signature, dtype, quantization."""
    table = Table(title=title, title_justify="left")
    for column in ("#", "name", "shape", "signature", "dtype", "quantization"):
        table.add_column(column, overflow="fold")
    for t in tensors:
        table.add_row(str(t["index"]), t["name"], _shape(t["shape"]), _shape(t["shape_signature"]),
                      t["dtype"], _quantization_text(t["quantization"]))
    return table


def summary_table(info: dict[str, Any]) -> Table:
    """Key facts of the model as a two-column table."""
    table = Table(title="Model", title_justify="left", show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value", overflow="fold")
    params = info["parameters"]
    arena = info["arena"]
    rows = [("file", info["path"] or "-"), ("file size", human_bytes(info["file_size"])),
            ("description", info["description"] or "-"), ("subgraphs", str(info["subgraph_count"])),
            ("operators", str(sum(info["ops"].values()))),
            ("parameters", f"{params['count']:,} ({human_bytes(params['bytes'])})")]
    if arena is not None:
        rows.append(("arena", f"{human_bytes(arena['size'])} ({arena['size']:,} bytes; lower bound "
                              f"{arena['lower_bound']:,})"))
    else:
        rows.append(("arena", f"not planned: {info['arena_error']}"))
    if info["unsupported_ops"]:
        rows.append(("unsupported ops", ", ".join(info["unsupported_ops"])))
    if info["metadata"]:
        rows.append(("metadata", ", ".join(f"{k} ({human_bytes(v)})" for k, v in info["metadata"].items())))
    for key, value in rows:
        table.add_row(key, value)
    return table


def ops_table(info: dict[str, Any]) -> Table:
    """Op histogram, unsupported ops flagged."""
    table = Table(title="Operators", title_justify="left")
    table.add_column("op")
    table.add_column("count", justify="right")
    for name, count in info["ops"].items():
        flag = " (unsupported)" if name in info["unsupported_ops"] else ""
        table.add_row(name + flag, str(count))
    return table


def parameters_table(info: dict[str, Any]) -> Table:
    """Constant tensors' element count and bytes by dtype."""
    table = Table(title="Parameters (constant tensors)", title_justify="left")
    for column, justify in (("dtype", "left"), ("count", "right"), ("bytes", "right")):
        table.add_column(column, justify=justify)
    for dtype, entry in info["parameters"]["by_dtype"].items():
        table.add_row(dtype, f"{entry['count']:,}", human_bytes(entry["bytes"]))
    return table


def signatures_table(info: dict[str, Any]) -> Table:
    """Signature keys with their input and output names."""
    table = Table(title="Signatures", title_justify="left")
    for column in ("key", "subgraph", "inputs", "outputs"):
        table.add_column(column, overflow="fold")
    for sig in info["signatures"]:
        table.add_row(sig["key"], str(sig["subgraph_index"]),
                      "\n".join(f"{k} -> {v}" for k, v in sig["inputs"].items()),
                      "\n".join(f"{k} -> {v}" for k, v in sig["outputs"].items()))
    return table


def inspection_tables(info: dict[str, Any]) -> list[Table]:
    """Every table `edgelite inspect` prints, in order."""
    tables = [summary_table(info), tensors_table("Inputs", info["inputs"]),
              tensors_table("Outputs", info["outputs"]), ops_table(info), parameters_table(info)]
    if info["signatures"]:
        tables.append(signatures_table(info))
    return tables


def outputs_table(summaries: list[dict[str, Any]]) -> Table:
    """`edgelite run`'s per-output statistics."""
    table = Table(title="Outputs", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("name", overflow="fold")
    table.add_column("tensor", overflow="fold")
    for column in ("min", "max", "mean", "argmax"):
        table.add_column(column, justify="right", overflow="fold")
    for s in summaries:
        table.add_row(s["name"], f"{s['dtype']}{_shape(s['shape'])}", _number(s["min"]), _number(s["max"]),
                      _number(s["mean"]), "-" if s["argmax"] is None else str(s["argmax"]))
    return table


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.5g}"


def _db(value: float) -> str:
    return "exact" if value == float("inf") else f"{value:.1f}"


def _short_dtype(name: str) -> str:
    """'float32' -> 'f32', 'int8' -> 'i8', 'uint8' -> 'u8'."""
    for long, short in (("float", "f"), ("uint", "u"), ("int", "i")):
        if name.startswith(long):
            return short + name[len(long):]
    return name


def _dtypes(entry: Any) -> str:
    return f"{_short_dtype(entry.dtype_a)}→{_short_dtype(entry.dtype_b)}"


def _short_name(name: str, limit: int = 60) -> str:
    """The first part of a fused TensorFlow name ('a/b/Relu;a/b/BiasAdd;...' -> 'a/b/Relu;…')."""
    first, sep, _ = name.partition(";")
    text = first + (";…" if sep else "")
    return text if len(text) <= limit else "…" + text[-(limit - 1):]


def comparison_tables(result: Any, worst: int = 3) -> list[Table]:
    """`edgelite compare`'s tables: outputs (with top-1 agreement) and layers, worst SQNR in red."""
    outputs = Table(title="Outputs", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    flagged = {id(entry) for entry in result.worst_layers(worst)}
    note = f"; the {len(flagged)} lowest SQNR in red" if flagged else ("; all exact" if result.layers else "")
    layers = Table(title=f"Layers (execution order of A{note})", title_justify="left", box=box.SIMPLE_HEAD,
                   pad_edge=False)
    for table, first in ((outputs, ("name",)), (layers, ("#", "op", "tensor"))):
        for column in first:
            table.add_column(column, overflow="fold", no_wrap=column != "tensor")
        table.add_column("shape", no_wrap=True)
        table.add_column("A→B", no_wrap=True)
        for column in ("max abs err", "RMSE", "SQNR dB", "cosine"):
            table.add_column(column, justify="right", no_wrap=True)
    outputs.add_column("top-1", justify="right")
    for entry in result.outputs:
        top1 = "-" if entry.top1_agreement is None else f"{entry.top1_agreement:.2%}"
        outputs.add_row(_short_name(entry.name), _shape(entry.shape), _dtypes(entry),
                        f"{entry.max_abs_error:.4g}", f"{entry.rmse:.4g}", _db(entry.sqnr_db),
                        f"{entry.cosine:.6f}", top1)
    for entry in result.layers:
        layers.add_row(str(entry.op_index), entry.op or "-", _short_name(entry.name), _shape(entry.shape),
                       _dtypes(entry), f"{entry.max_abs_error:.4g}",
                       f"{entry.rmse:.4g}", _db(entry.sqnr_db), f"{entry.cosine:.6f}",
                       style="bold red" if id(entry) in flagged else None)
    return [outputs, layers]
