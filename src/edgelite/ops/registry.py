"""Finds the OpDef for an operator: per-interpreter resolver, registered custom ops, builtins.

Each builtin op lives in `edgelite/ops/<name in lower case>.py` and exports `OP`; the module is
imported the first time a model uses the op, so adding an op is adding one file.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from functools import cache

from edgelite.ops.base import KernelFn, OpDef

# Custom ops that edgelite ships, by custom code -> module name.
SHIPPED_CUSTOM_OPS = {"Convolution2DTransposeBias": "convolution2d_transpose_bias"}

_registered: dict[str, OpDef] = {}

Resolver = Mapping[str, "OpDef | KernelFn"]


def register_op(name: str, kernel: OpDef | KernelFn) -> None:
    """Make a custom op available to every Interpreter (a plain callable fills node.outputs)."""
    _registered[name] = as_opdef(name, kernel)


def has_registered() -> bool:
    """Whether any kernel was registered (it may replace a builtin's)."""
    return bool(_registered)


def as_opdef(name: str, kernel: OpDef | Callable) -> OpDef:
    if isinstance(kernel, OpDef):
        return kernel
    if not callable(kernel):
        raise TypeError(f"kernel for op {name!r} must be an OpDef or a callable taking a Node")
    return OpDef(name=name, run=kernel)


def lookup(name: str, resolver: Resolver | None = None) -> OpDef | None:
    """The OpDef for an op name (builtin schema name or custom code), or None if unknown."""
    if resolver and name in resolver:
        return as_opdef(name, resolver[name])
    if name in _registered:
        return _registered[name]
    return _module_op(name)


@cache
def _module_op(name: str) -> OpDef | None:
    module_name = SHIPPED_CUSTOM_OPS.get(name, name.lower())
    if not module_name.isidentifier() and not module_name.replace("_", "").isalnum():
        return None
    if module_name.startswith("_") or module_name in {"base", "registry"}:
        return None
    try:
        module = importlib.import_module(f"edgelite.ops.{module_name}")
    except ModuleNotFoundError as error:
        if error.name == f"edgelite.ops.{module_name}":
            return None
        raise
    return getattr(module, "OP", None)


def builtin_op_names() -> list[str]:
    """Names of every builtin op with a reference kernel, sorted."""
    import pkgutil  # here only: importing the runtime need not pay ~1 ms for it

    import edgelite.ops as package

    custom = set(SHIPPED_CUSTOM_OPS.values())
    return sorted(
        info.name.upper()
        for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_") and info.name not in {"base", "registry"} | custom
    )


def options_class(name: str) -> type | None:
    """The options dataclass of a builtin op, if edgelite implements the op."""
    op = _module_op(name)
    return None if op is None else op.options
