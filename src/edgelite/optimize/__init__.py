"""Model optimizations: quantization (`edgelite.quantize`), pruning (`edgelite.prune`), weight
clustering (`edgelite.cluster`) and the three in sequence.

The package itself is callable, so that `edgelite.optimize(model, prune=..., cluster=...,
quantize=...)` runs the pipeline (pipeline.optimize) whether or not a submodule was imported
first (importing one binds `edgelite.optimize` to this package)."""

from __future__ import annotations

import sys
import types
from typing import Any


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from edgelite.optimize.pipeline import optimize

        return optimize(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
