"""`edgelite optimize`: prune -> cluster -> quantize a float .tflite file, with a per-step report
(size raw and gzip-compressed, sparsity, distinct weight values, SQNR and accuracy)."""

from __future__ import annotations

import argparse
import json
import os

from edgelite.tools._common import CliError, UsageError, console, describe_error, load_model

PATTERNS = ("unstructured", "2:4", "block(1,4)", "block(1,16)", "channel")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `edgelite optimize`."""
    parser = subparsers.add_parser(
        "optimize", help="prune, cluster and quantize a float model in one pass",
        description="Post-training pruning (sparse weights in TFLite's format, behind DENSIFY),\n"
                    "weight clustering (k-means, zeros kept) and quantization, each step keeping\n"
                    "what the earlier ones gave; prints per step the size (raw, gzip -9, TFLM LUT),\n"
                    "sparsity, distinct weight values, SQNR vs float and accuracy (with --labels).",
        epilog="examples:\n"
               "  edgelite optimize m.tflite -o m_opt.tflite --prune 0.75 --cluster 16 --quantize int8 "
               "--calibration d.npz\n"
               "  edgelite optimize m.tflite -o m_24.tflite --prune 0.5 --pattern 2:4 --method reconstruct "
               "--calibration d.npz\n"
               "  edgelite optimize m.tflite -o m_mcu.tflite --prune 0.5 --cluster 16 --quantize int8 "
               "--quantize-per tensor --storage lut --calibration d.npz",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", metavar="IN.tflite", help="the float model")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.tflite",
                        help="where to write the result")
    parser.add_argument("--prune", type=float, metavar="SPARSITY", help="fraction of weights to remove")
    parser.add_argument("--pattern", choices=PATTERNS, default="unstructured", help="sparsity pattern")
    parser.add_argument("--method", choices=("magnitude", "reconstruct"), default="magnitude",
                        help="how weights are chosen (reconstruct needs --calibration)")
    parser.add_argument("--scope", choices=("layer", "global"), default="layer", help="magnitude targets")
    parser.add_argument("--cluster", type=int, metavar="K", help="k-means clusters per weight tensor")
    parser.add_argument("--cluster-per", choices=("tensor", "channel"), default="tensor",
                        help="cluster each tensor or each output channel (default: tensor)")
    parser.add_argument("--quantize", choices=("int8", "int16x8", "dynamic", "float16"),
                        help="quantization mode")
    parser.add_argument("--quantize-per", choices=("channel", "tensor"), default="channel",
                        help="int8 weight scales per output channel (default) or per tensor (smallest "
                             "files: one set of values per tensor)")
    parser.add_argument("--storage", choices=("sparse", "dense", "lut"), default="sparse",
                        help="sparse: pruned weights in TFLite's sparse format where smaller (default); "
                             "dense; lut: TensorFlow Lite Micro's LUT compression (TFLM only)")
    parser.add_argument("--calibration", metavar="DATA.npz",
                        help="representative inputs (one array per input)")
    parser.add_argument("--labels", metavar="LABELS.npy", help="class labels of the calibration samples "
                        "(adds top-1 accuracy to the report)")
    parser.add_argument("--skip", nargs="+", default=[], metavar="NAME",
                        help="ops left alone: op names, tensor names or op indices")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run `edgelite optimize`."""
    import numpy as np

    from edgelite.optimize.pipeline import optimize

    if args.prune is None and args.cluster is None and args.quantize is None:
        raise UsageError("nothing to do: give at least one of --prune, --cluster, --quantize")
    reconstruct = args.method == "reconstruct" and args.prune is not None
    needs_data = reconstruct or args.quantize in ("int8", "int16x8")
    if needs_data and args.calibration is None:
        raise UsageError("--method reconstruct and --quantize int8/int16x8 need --calibration DATA.npz")
    for path in (args.calibration, args.labels):
        if path is not None and not os.path.isfile(path):
            raise CliError(f"'{path}' does not exist")
    model = load_model(args.model)
    skip = [int(s) if s.isdigit() else s for s in args.skip]
    prune = None if args.prune is None else {"sparsity": args.prune, "pattern": args.pattern,
                                            "method": args.method, "scope": args.scope, "skip": skip}
    cluster = None if args.cluster is None else {"clusters": args.cluster, "per": args.cluster_per,
                                                 "skip": skip}
    quantize = None if args.quantize is None else {"mode": args.quantize, "skip": skip,
                                                   "per_channel": args.quantize_per == "channel"}
    labels = None if args.labels is None else np.load(args.labels, allow_pickle=False)
    result, report = optimize(model, prune, cluster, quantize, calibration_data=args.calibration,
                              labels=labels, storage=args.storage)
    try:
        result.save(args.output)
    except OSError as error:
        raise CliError(f"cannot write '{args.output}': {describe_error(error)}") from error
    if args.json:
        print(json.dumps({**report.to_dict(), "output": args.output}, indent=2, default=str))
        return 0
    out = console()
    out.print(report.table(), highlight=False)
    for note in report.notes:
        out.print(f"note: {note}")
    out.print(f"wrote {args.output}")
    return 0
