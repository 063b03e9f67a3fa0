"""`edgelite quantize`: post-training quantization of a .tflite file, with a per-op report."""

from __future__ import annotations

import argparse
import json
import os
import sys

from rich import box
from rich.table import Table

from edgelite.tools._common import CliError, UsageError, console, describe_error, load_model
from edgelite.tools.compare import _finite

MODES = ("int8", "int16x8", "dynamic", "float16")
METHODS = ("minmax", "moving_average", "percentile", "mse")
IO_TYPES = ("float32", "int8", "uint8", "int16")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `edgelite quantize`."""
    parser = subparsers.add_parser(
        "quantize", help="quantize a float model (int8, int16x8, dynamic-range int8, float16)",
        description="Post-training quantization with TFLite's conventions (the output runs in LiteRT).\n"
                    "  int8     int8 activations and weights, int32 bias; needs --calibration\n"
                    "  int16x8  int16 activations, int8 weights, int64 bias; needs --calibration\n"
                    "  dynamic  int8 weights, float activations (hybrid kernels)\n"
                    "  float16  float16 weights, float32 arithmetic\n"
                    "Calibration data: an .npz with one array per model input (keyed by input name;\n"
                    "any key for a one-input model), samples along the first axis.",
        epilog="examples:\n"
               "  edgelite quantize model.tflite -o model_int8.tflite --mode int8 --calibration data.npz\n"
               "  edgelite quantize model.tflite -o model_dyn.tflite --mode dynamic\n"
               "  edgelite quantize model.tflite -o m.tflite --calibration data.npz --skip SOFTMAX 12\n"
               "  edgelite quantize model.tflite -o m.tflite --calibration data.npz --target-sqnr 30",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", metavar="IN.tflite", help="the float model")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.tflite",
                        help="where to write the result")
    parser.add_argument("--mode", choices=MODES, default="int8", help="quantization mode (default: int8)")
    parser.add_argument("--calibration", metavar="DATA.npz", help="representative inputs (int8, int16x8)")
    parser.add_argument("--calibration-method", choices=METHODS, default="minmax",
                        help="how activation ranges are chosen (default: minmax)")
    parser.add_argument("--input-type", choices=IO_TYPES, help="model input dtype (default: float32)")
    parser.add_argument("--output-type", choices=IO_TYPES, help="model output dtype (default: float32)")
    parser.add_argument("--skip", nargs="+", default=[], metavar="NAME",
                        help="keep ops float: op names (SOFTMAX), output tensor names or node indices")
    parser.add_argument("--target-sqnr", type=float, metavar="DB",
                        help="int8/int16x8: keep the most sensitive layers at --fallback until the outputs "
                             "reach DB of SQNR against the float model (on the calibration data)")
    parser.add_argument("--fallback", choices=("float", "int16"), default="float",
                        help="what --target-sqnr makes sensitive layers: float, or int16x8 in an int8 "
                             "model (default: float)")
    parser.add_argument("--no-per-channel", action="store_true", help="per-tensor weight scales only")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run `edgelite quantize`."""
    from edgelite.optimize.quantize import quantize

    if args.mode in ("int8", "int16x8") and args.calibration is None:
        raise UsageError(f"--mode {args.mode} needs --calibration DATA.npz: representative inputs, one "
                         "array per model input with samples along the first axis (or use --mode "
                         "dynamic or float16, which need no data)")
    model = load_model(args.model)
    if args.calibration is not None and not os.path.isfile(args.calibration):
        raise CliError(f"calibration data '{args.calibration}' does not exist; give an .npz file with "
                       "one array of samples per model input")
    skip = [int(s) if s.isdigit() else s for s in args.skip]
    quantized, report = quantize(model, args.mode, calibration_data=args.calibration,
                                 per_channel=not args.no_per_channel, calibration=args.calibration_method,
                                 input_type=args.input_type, output_type=args.output_type, skip=skip,
                                 progress=sys.stderr.isatty() and not args.json, return_report=True,
                                 target_sqnr=args.target_sqnr, fallback=args.fallback)
    try:
        quantized.save(args.output)
    except OSError as error:
        raise CliError(f"cannot write '{args.output}': {describe_error(error)}") from error
    if args.json:
        print(json.dumps(_finite({**report.to_dict(), "output": args.output}), indent=2))
        return 0
    out = console()
    out.print(report_table(report))
    if report.steps:
        out.print(steps_table(report))
    for note in report.notes:
        out.print(f"note: {note}")
    out.print(report.summary())
    out.print(f"wrote {args.output}")
    return 0


def report_table(report) -> Table:
    """One row per op of the float model: index, op, result (dtype or float) and the reason."""
    title = f"Quantization ({report.mode}" + (f", {report.calibration} over {report.samples} samples)"
                                             if report.calibration else ")")
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("#", "op", "result", "reason"):
        table.add_column(column, overflow="fold", justify="right" if column == "#" else "left")
    for op in report.ops:
        index = str(op.index) if op.subgraph == 0 else f"{op.subgraph}:{op.index}"
        result = f"[green]{op.kind}[/]" if op.quantized else "[yellow]float[/]"
        table.add_row(index, op.opcode, result, op.reason or "-")
    return table


def steps_table(report) -> Table:
    """--target-sqnr's search: per step, the layer moved to the fallback and the output SQNR."""
    table = Table(title=f"Target SQNR {report.target_sqnr:g} dB (fallback: {report.fallback})",
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("step", "layer moved", "tried", "output SQNR (dB)"):
        table.add_column(column, justify="left" if column == "layer moved" else "right")
    for k, step in enumerate(report.steps):
        moved = "- (fully quantized)" if step.index is None else f"{step.index} {step.opcode}"
        table.add_row(str(k), moved, str(step.tried) if k else "-", f"{step.sqnr_db:.2f}")
    return table
