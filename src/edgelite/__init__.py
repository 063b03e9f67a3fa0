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
    "benchmark": "edgelite.tools.benchmark",
    "BenchmarkResult": "edgelite.tools.benchmark",
}

__all__ = ["ConversionError", "EdgeliteError", "ModelError", "Model", "UnsupportedOpError", *_LAZY]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'edgelite' has no attribute {name!r}")
