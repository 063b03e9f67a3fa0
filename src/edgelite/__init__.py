"""edgelite: TensorFlow Lite rebuilt Python-first."""

from __future__ import annotations

import importlib
from typing import Any

from edgelite.errors import ConversionError, EdgeliteError, ModelError, UnsupportedOpError
from edgelite.model.ir import Model

# Public names imported on first use, so `import edgelite` stays light.
_LAZY = {
    "load": "edgelite.model.reader",
    "register_op": "edgelite.ops.registry",
    "Interpreter": "edgelite.runtime.interpreter",
    "quantize": "edgelite.optimize.quantize.api",
    "QuantizationReport": "edgelite.optimize.quantize.report",
    "prune": "edgelite.optimize.prune",
    "cluster": "edgelite.optimize.cluster",
    "benchmark": "edgelite.tools.benchmark",
    "BenchmarkResult": "edgelite.tools.benchmark",
    "convert": "edgelite.frontends.onnx.importer",
}

__all__ = ["ConversionError", "EdgeliteError", "ModelError", "Model", "UnsupportedOpError", "optimize",
           *_LAZY]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "optimize":  # the package, callable: edgelite.optimize(model, ...) runs the pipeline
        return importlib.import_module("edgelite.optimize")
    raise AttributeError(f"module 'edgelite' has no attribute {name!r}")
