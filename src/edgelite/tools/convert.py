"""`edgelite convert`: an ONNX model to .tflite, with a progress display and a summary."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter

from edgelite.tools._common import CliError, UsageError, console, describe_error


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `edgelite convert`."""
    parser = subparsers.add_parser(
        "convert", help="convert an ONNX model to .tflite (NHWC, optimized, no TensorFlow)",
        description="Convert an ONNX model to .tflite. Inputs and outputs keep their ONNX names and\n"
                    "(unless --nhwc-io) their ONNX shapes; symbolic dims become -1 in shape_signature.",
        epilog="examples:\n"
               "  edgelite convert model.onnx -o model.tflite\n"
               "  edgelite convert model.onnx -o model.tflite --input-shape input=1,3,224,224\n"
               "  edgelite convert model.onnx -o model.tflite --nhwc-io --allow-custom-ops",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", metavar="MODEL.onnx", help="the ONNX model")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.tflite",
                        help="where to write the result")
    parser.add_argument("--input-shape", action="append", default=[], metavar="NAME=D0,D1,...",
                        help="pin an input's shape (repeatable)")
    parser.add_argument("--nhwc-io", action="store_true", help="expose rank-4 inputs/outputs as NHWC")
    parser.add_argument("--allow-custom-ops", action="store_true",
                        help="keep ONNX ops without a TFLite equivalent as custom ops")
    parser.add_argument("--no-optimize", action="store_true", help="skip the graph passes (debugging)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=main)


def parse_input_shapes(specs: list[str]) -> dict[str, list[int]]:
    """NAME=1,3,224,224 strings to {name: [1, 3, 224, 224]}."""
    shapes = {}
    for spec in specs:
        name, sep, dims = spec.rpartition("=")
        try:
            if not sep or not name:
                raise ValueError
            shapes[name] = [int(d) for d in dims.split(",")]
        except ValueError:
            raise UsageError(f"--input-shape {spec!r}: expected NAME=D0,D1,... such as "
                             "input=1,3,224,224") from None
    return shapes


def main(args: argparse.Namespace) -> int:
    """Run `edgelite convert`."""
    from edgelite.frontends.onnx.importer import convert_graph

    if not os.path.isfile(args.model):
        raise CliError(f"ONNX model '{args.model}' does not exist")
    shapes = parse_input_shapes(args.input_shape)
    start = time.perf_counter()
    with _progress(sys.stderr.isatty() and not args.json) as progress:
        conversion = convert_graph(args.model, input_shapes=shapes, nhwc_io=args.nhwc_io,
                                   allow_custom_ops=args.allow_custom_ops, optimize=not args.no_optimize,
                                   progress=progress)
    data = conversion.model.to_bytes()
    seconds = time.perf_counter() - start
    try:
        with open(args.output, "wb") as out:
            out.write(data)
    except OSError as error:
        raise CliError(f"cannot write '{args.output}': {describe_error(error)}") from error
    summary = summarize(conversion, len(data), seconds, args.output)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    out = console()
    ops = ", ".join(f"{name} {n}" for name, n in summary["op_counts"].items())
    out.print(f"ops: {summary['ops_in']} ONNX -> {summary['ops_out']} TFLite ({ops})")
    out.print(f"transposes left: {summary['transposes']}")
    if summary["custom_ops"]:
        out.print(f"[yellow]custom ops kept:[/] {', '.join(summary['custom_ops'])}")
    out.print(f"size: {summary['bytes'] / 1e6:.2f} MB   time: {seconds:.2f} s")
    out.print(f"wrote {args.output}")
    return 0


def summarize(conversion, size: int, seconds: float, output: str) -> dict:
    """The numbers the CLI prints: ops in and out, transposes left, custom ops, size, time."""
    operators = conversion.model.subgraphs[0].operators
    counts = Counter(op.name for op in operators)
    return {"output": output, "ops_in": conversion.ops_in, "ops_out": len(operators),
            "op_counts": dict(counts.most_common()), "transposes": counts.get("TRANSPOSE", 0),
            "custom_ops": sorted(conversion.unsupported), "bytes": size, "seconds": round(seconds, 3)}


class _progress:
    """A rich progress bar over the ONNX nodes (a no-op when not on a terminal)."""

    def __init__(self, show: bool) -> None:
        self.show, self.bar, self.task = show, None, None

    def __enter__(self):
        if not self.show:
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("converting"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.description}"), TimeElapsedColumn(),
                            console=Console(stderr=True), transient=True)
        self.bar.__enter__()
        self.task = self.bar.add_task("", total=None)
        return self.update

    def update(self, done: int, total: int, op_type: str) -> None:
        self.bar.update(self.task, completed=done, total=total, description=op_type)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)
