"""The `edgelite` command: a thin dispatcher over the verbs in `edgelite.tools`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from edgelite import __version__
from edgelite.errors import EdgeliteError

# Each verb is a module of edgelite.tools exporting add_parser(subparsers) and main(args) -> int.
VERBS = ("demo", "inspect", "run", "compare", "benchmark", "quantize", "convert", "optimize")

EPILOG = """examples:
  edgelite demo                            the bundled digits model, step by step
  edgelite inspect model.tflite            inputs, outputs, ops, parameters, arena size
  edgelite inspect model.tflite --json     the same as JSON
  edgelite run model.tflite --seed 0 --output-dir out/
  edgelite run model.tflite --input input_1=image.npy
  edgelite benchmark model.tflite --profile    latency, memory, per-op times, side by side with LiteRT

run 'edgelite COMMAND --help' for the options of one command."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line (plus a hint) and exits with status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> ArgumentParser:
    """The top-level parser with one subcommand per verb."""
    parser = ArgumentParser(prog="edgelite", description="Inspect, run and optimize .tflite models.",
                            epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"edgelite {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    subparsers.required = True
    for verb in VERBS:
        importlib.import_module(f"edgelite.tools.{verb}").add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, dispatch, and turn expected failures into one-line messages."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (EdgeliteError, OSError, ValueError) as error:
        if args.debug:
            raise
        from edgelite.tools._common import describe_error

        message = describe_error(error)
        print(f"edgelite: error: {message}", file=sys.stderr)
        return int(getattr(error, "exit_code", 1))
    except KeyboardInterrupt:
        print("edgelite: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
