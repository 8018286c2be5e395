"""The attribution model types: what each ``modelType`` of the config is and how it is computed.

A type is one module of this package that registers itself (the package's ``__init__`` imports it):

* a rule-based type (:class:`RuleBased`) gives each touch of a conversion a weight by its position
  ``pos`` of ``n`` (first, last or between) or its age, in SQL; share = weight / the conversion's total
  (sql/attribution/rule_credits.sql);
* a data-driven type (:class:`DataDriven`) learns each channel's weight in every channel set from the
  day's aggregated paths, in Python (sql/attribution/paths.sql, data_driven_credits.sql).

A type declares its parameters (the config keys only it takes, their bounds and defaults); the config
(:mod:`pipeline.attribution.config`) refuses an unknown ``modelType`` and a parameter given to
another type, and :func:`pipeline.attribution.models.custom_model` fills in the defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.attribution.types.paths import Counts, Paths, PathsLike

# A model's parameters by config key, with the defaults filled in (numbers, or a word such as Markov's
# `allocation`).
Params = Mapping[str, float | str]
# Each channel set's channel weights: {frozenset of channels: {channel: weight}}.
ChannelWeights = dict[frozenset[str], dict[str, float]]
# The key of channel weights that apply to every conversion of the model, whatever its touches: the
# conversion is split over those channels (weights summing to 1) by channel, not by touch (Markov's
# `allocation: total`). No conversion has an empty channel set, so the key is never a real set.
EVERY_SET: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Parameter:
    """A config key of a model type: ``annotation`` is its type with bounds (pydantic), e.g.
    ``Annotated[float, Field(gt=0)]``; ``default`` applies when the config does not give it."""

    key: str
    default: float | str
    annotation: Any


def _listed(params: Params) -> str | None:
    return (
        ", ".join(
            f"{key} {value:g}" if isinstance(value, float | int) else f"{key} {value}"
            for key, value in params.items()
        )
        or None
    )


@dataclass(frozen=True, kw_only=True)
class ModelType:
    """A ``modelType``. ``check`` sees the config's values of the type's parameters (None: not given)
    and returns a problem (key, message) or None; ``describe`` gives the parameters' part of
    `nightjar attribution models`."""

    name: str
    parameters: tuple[Parameter, ...] = ()
    check: Callable[[Mapping[str, Any]], tuple[str, str] | None] | None = None
    describe: Callable[[Params], str | None] = _listed


@dataclass(frozen=True, kw_only=True)
class RuleBased(ModelType):
    """``weight`` and ``total`` build SQL expressions over a touch (``pos``: 1 the first of the
    conversion's ``n`` touches, ``n`` the last, 2 those between; ``ord`` orders them in time;
    ``touched_at``, ``last_touched_at``) from the model's parameters, each given as a bound parameter
    (``$w3::DOUBLE``)."""

    weight: Callable[[Mapping[str, str]], str]
    total: Callable[[Mapping[str, str]], str]


@dataclass(frozen=True, kw_only=True)
class DataDriven(ModelType):
    """``channel_weights(params, paths, conversions, nulls)``: each converting channel set's weights
    (``paths``: a :class:`~pipeline.attribution.types.paths.Paths` or Python sequences of channels).
    A conversion's touch gets its channel's weight (divided equally over that channel's touches when
    ``split_over_touches``), normalised over the conversion's touches. Weights under :data:`EVERY_SET`
    split every conversion of the model over their channels instead (no touch named)."""

    channel_weights: Callable[[Params, PathsLike, Counts, Counts], ChannelWeights]
    split_over_touches: bool = False


_TYPES: dict[str, ModelType] = {}


def register(model_type: ModelType) -> ModelType:
    """Add a model type (once per name; a parameter key shared by two types must mean the same)."""
    if model_type.name in _TYPES:
        raise ValueError(f"attribution model type {model_type.name!r} is registered twice")
    for p in model_type.parameters:
        for other in _TYPES.values():
            for q in other.parameters:
                if q.key == p.key and q != p:
                    raise ValueError(
                        f"parameter {p.key!r} of {model_type.name!r} differs from {other.name!r}'s"
                    )
    _TYPES[model_type.name] = model_type
    return model_type


def model_type(name: str) -> ModelType:
    return _TYPES[name]


def names() -> tuple[str, ...]:
    """The registered types, in registration order."""
    return tuple(_TYPES)


def parameters() -> dict[str, tuple[Parameter, tuple[str, ...]]]:
    """Every parameter key of the registered types, with the types that take it, in registration order."""
    out: dict[str, tuple[Parameter, tuple[str, ...]]] = {}
    for t in _TYPES.values():
        for p in t.parameters:
            owners = out[p.key][1] if p.key in out else ()
            out[p.key] = (p, (*owners, t.name))
    return out


def converting_sets(paths: PathsLike, conversions: Counts) -> list[frozenset[str]]:
    """The channel sets of the converting paths, in a fixed order: the sets a data-driven type weighs."""
    index, sets = Paths.of(paths).sets()
    converting = np.unique(index[np.asarray(conversions) > 0])
    return sorted((sets[i] for i in converting.tolist()), key=sorted)
