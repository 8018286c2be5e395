"""The registry of model types: a type's name (the config's ``models[].type``) and its record.

A model type is one module of :mod:`pipeline.models.types` holding a :class:`ModelType
<pipeline.models.types.base.ModelType>` subclass decorated with :func:`register`; the package
imports its modules, so importing it fills the registry. The config (``pipeline.models.config``)
sits below the type modules (they read a ``ModelSpec``), so it cannot import them: :func:`names`
and :func:`get` import the package when first asked, by name, at validation or run time.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, TypeVar

TYPES_PACKAGE = "pipeline.models.types"

T = TypeVar("T", bound=type)

_TYPES: dict[str, Any] = {}


def register(cls: T) -> T:
    """Class decorator: register one instance of a model type under its ``name``."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"a model type needs a name: {cls.__qualname__}")
    if name in _TYPES:
        raise ValueError(f"the model type {name!r} is registered twice")
    _TYPES[name] = cls()
    return cls


def names() -> tuple[str, ...]:
    """The registered model types, in the order their modules register them."""
    import_module(TYPES_PACKAGE)
    return tuple(_TYPES)


def get(name: str) -> Any:
    """The record of a model type (a ``ModelType``); KeyError names the known types."""
    import_module(TYPES_PACKAGE)
    try:
        return _TYPES[name]
    except KeyError:
        raise KeyError(f"no model type {name!r} (registered: {list(_TYPES)})") from None


def expected(choices: tuple[str, ...]) -> str:
    """The choices as pydantic lists a literal's: ``'a', 'b' or 'c'``."""
    quoted = [repr(c) for c in choices]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
