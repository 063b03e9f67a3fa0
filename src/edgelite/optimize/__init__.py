"""Model optimizations: quantization (`edgelite.quantize`), pruning (`edgelite.prune`), weight
clustering (`edgelite.cluster`) and the three in sequence.

The package itself is callable, so that `edgelite.optimize(model, prune=..., cluster=...,
quantize=...)` runs the pipeline (pipeline.optimize) whether or not a submodule was imported
first (importing one binds `edgelite.optimize` to this package). `edgelite.optimize.compress_lut`
writes clustered weights in TensorFlow Lite Micro's LUT compression (lut.py)."""

from __future__ import annotations

import sys
import types
from typing import Any


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from edgelite.optimize.pipeline import optimize

        return optimize(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage


def __getattr__(name: str) -> Any:
    if name == "compress_lut":
        from edgelite.optimize.lut import compress_lut

        return compress_lut
    raise AttributeError(f"module 'edgelite.optimize' has no attribute {name!r}")
