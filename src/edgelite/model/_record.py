"""`record`: a dataclass that takes ~60 µs to define instead of 300-650 µs.

Before Python 3.13, `dataclasses` compiles each generated method (__init__, __repr__, __eq__, and a
frozen class's __setattr__, __delattr__, __hash__) from source text, one `exec` each. Every op module
defines a dataclass or two and a model's first load imports a dozen op modules, so that compiling
was a third of a fresh process's first model. `record` lets `dataclasses` collect the fields (so
`fields`, `replace`, `asdict`, `is_dataclass`, `__match_args__` work as ever) and installs shared
methods that behave as the generated ones do (tests/model/test_record.py compares them). For
classes without default factories, __init__ is dataclass's own bytecode, renamed from a template
compiled once per field count; others get a shared __init__ (slower per call: for rare classes).
Classes with their own dunders or __post_init__, or that inherit from a dataclass, get a plain
dataclass; InitVar, keyword-only and init=False fields are refused (TypeError).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import reprlib
import types
from collections.abc import Callable
from dataclasses import MISSING, Field, FrozenInstanceError
from typing import Any, TypeVar

T = TypeVar("T", bound=type)
_OWN_METHODS = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__", "__post_init__")
_PLACEHOLDER_DOC = "record"


def record(cls: T | None = None, /, *, frozen: bool = False, compiled_init: bool = False) -> Any:
    """`@record` or `@record(frozen=True)`: as `@dataclass` / `@dataclass(frozen=True)`.
    compiled_init: let dataclass compile __init__ (~100 µs more). Without it, classes without default
    factories get dataclass's __init__ bytecode from a template (~0.3 µs a call), others a shared
    __init__ (~1 µs a call), which suits classes built now and then only."""

    def wrap(cls: T) -> T:
        if any(name in vars(cls) for name in _OWN_METHODS) or any(
                dataclasses.is_dataclass(base) for base in cls.__mro__[1:]) or (frozen and compiled_init):
            return dataclasses.dataclass(cls, frozen=frozen)
        return _make(cls, frozen, compiled_init)

    return wrap if cls is None else wrap(cls)


def _make(cls: T, frozen: bool, compiled_init: bool) -> T:
    documented = bool(cls.__doc__)
    if not documented:
        cls.__doc__ = _PLACEHOLDER_DOC  # dataclass would build the doc from inspect.signature
    dataclasses.dataclass(cls, init=compiled_init, repr=False, eq=False)
    fields = dataclasses.fields(cls)
    _check(cls, fields)
    if not compiled_init:
        made = None if frozen else _from_template(cls, fields)
        cls.__init__ = made or _qualified(cls, _init(cls, fields, frozen))
    cls.__repr__ = _qualified(cls, _repr(tuple(f.name for f in fields if f.repr)))
    cls.__eq__ = _qualified(cls, _eq(tuple(f.name for f in fields if f.compare)))
    if frozen:
        names = frozenset(f.name for f in fields)
        cls.__setattr__ = _qualified(cls, _frozen_setattr(cls, names))
        cls.__delattr__ = _qualified(cls, _frozen_delattr(cls, names))
        hashed = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
        cls.__hash__ = _qualified(cls, _hash(hashed))
    else:
        cls.__hash__ = None  # what dataclass does for eq=True, frozen=False
    params = cls.__dataclass_params__
    params.init = params.repr = params.eq = True
    params.frozen = frozen
    if not documented:
        cls.__doc__ = cls.__name__ + _signature(fields)
    return cls


def _check(cls: type, fields: tuple[Field, ...]) -> None:
    unusual = [f.name for f in cls.__dataclass_fields__.values()
               if f._field_type is dataclasses._FIELD_INITVAR or f.kw_only is True or not f.init]
    if unusual:
        raise TypeError(f"record {cls.__name__}: fields {unusual} need @dataclass (InitVar, keyword-only "
                        "and init=False fields are not supported)")
    seen_default = False
    for f in fields:
        has_default = f.default is not MISSING or f.default_factory is not MISSING
        if seen_default and not has_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
        seen_default = seen_default or has_default


def _init(cls: type, fields: tuple[Field, ...], frozen: bool) -> Callable:
    names = tuple(f.name for f in fields)
    count = len(names)
    defaults = {f.name: f.default for f in fields if f.default is not MISSING}
    factories = {f.name: f.default_factory for f in fields if f.default_factory is not MISSING}
    assign = object.__setattr__ if frozen else setattr
    where = f"{cls.__qualname__}.__init__()"
    # Every field given positionally: straight into the instance dict (what setattr does for names
    # that no descriptor of the class intercepts).
    direct = not any(hasattr(type(inspect.getattr_static(cls, name, None)), "__set__") for name in names)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        given = len(args)
        if given == count and direct and not kwargs:
            self.__dict__.update(zip(names, args))  # noqa: B905 (as many as names)
            return
        if given > count:
            raise TypeError(f"{where} takes {count + 1} positional arguments but {given + 1} were given")
        for name, value in zip(names, args):  # noqa: B905 (fewer arguments than fields is fine)
            assign(self, name, value)
        if given < count or kwargs:
            for name in names[given:]:
                if name in kwargs:
                    value = kwargs.pop(name)
                elif name in defaults:
                    value = defaults[name]
                elif name in factories:
                    value = factories[name]()
                else:
                    raise TypeError(f"{where} missing required argument: {name!r}")
                assign(self, name, value)
            for name in kwargs:
                what = "multiple values for argument" if name in names else "an unexpected keyword argument"
                raise TypeError(f"{where} got {what} {name!r}")

    __init__.__signature__ = inspect.Signature(  # what inspect.signature says of dataclass's own
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD), *map(_parameter, fields)],
        return_annotation=None)
    return __init__


@functools.cache
def _template(count: int) -> types.CodeType | None:
    """The code of `def __init__(self, _0, ...): self._0 = _0 ...`, compiled once per field count;
    None where its names do not sit in co_names / co_varnames in field order (not CPython)."""
    names = tuple(f"_{i}" for i in range(count))
    source = f"def __init__(self{''.join(', ' + n for n in names)}):\n" + (
        "".join(f"    self.{n} = {n}\n" for n in names) or "    pass\n")
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # noqa: S102 (a fixed template)
    code = namespace["__init__"].__code__
    return code if (code.co_names, code.co_varnames) == (names, ("self", *names)) else None


def _from_template(cls: type, fields: tuple[Field, ...]) -> Callable | None:
    """dataclass's own __init__ for fields without factories, made from the template by renaming:
    the same bytecode, signature and errors, without compiling source per class."""
    names = tuple(f.name for f in fields)
    code = _template(len(names))
    if code is None or "self" in names or any(f.default_factory is not MISSING for f in fields):
        return None
    try:
        code = code.replace(co_names=names, co_varnames=("self", *names),
                            co_qualname=f"{cls.__qualname__}.__init__")
    except (TypeError, ValueError):
        return None
    defaults = tuple(f.default for f in fields if f.default is not MISSING)
    function = types.FunctionType(code, {}, "__init__", defaults or None)
    function.__annotations__ = {**{f.name: f.type for f in fields}, "return": None}
    function.__qualname__, function.__module__ = f"{cls.__qualname__}.__init__", cls.__module__
    return function


def _parameter(f: Field) -> inspect.Parameter:
    default = f.default if f.default_factory is MISSING else _FACTORY
    return inspect.Parameter(f.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                             default=inspect.Parameter.empty if default is MISSING else default,
                             annotation=f.type)


class _Factory:
    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


def _signature(fields: tuple[Field, ...]) -> str:
    """str(inspect.signature(cls)) of a dataclass without ' -> None', as dataclass's default doc."""
    return str(inspect.Signature([*map(_parameter, fields)]))


def _repr(names: tuple[str, ...]) -> Callable:
    @reprlib.recursive_repr()
    def __repr__(self: Any) -> str:
        return f"{self.__class__.__qualname__}(" + ", ".join(f"{name}={getattr(self, name)!r}"
                                                            for name in names) + ")"
    return __repr__


def _eq(names: tuple[str, ...]) -> Callable:
    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return tuple(getattr(self, n) for n in names) == tuple(getattr(other, n) for n in names)
        return NotImplemented
    return __eq__


def _hash(names: tuple[str, ...]) -> Callable:
    def __hash__(self: Any) -> int:
        return hash(tuple(getattr(self, n) for n in names))
    return __hash__


def _frozen_setattr(cls: type, names: frozenset[str]) -> Callable:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)
    return __setattr__


def _frozen_delattr(cls: type, names: frozenset[str]) -> Callable:
    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)
    return __delattr__


def _qualified(cls: type, function: Callable) -> Callable:
    function.__qualname__ = f"{cls.__qualname__}.{function.__name__}"
    return function
