"""The attribution models of a config: the built-ins, then the custom ones, with their defaults filled in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from pipeline.attribution.config import BUILTINS, TOUCH_FIELDS, AttributionModelSpec, AttributionSpec
from pipeline.attribution.types.registry import model_type
from pipeline.core.rules import Condition, condition


@dataclass(frozen=True)
class Model:
    """One attribution model, built-in or custom. ``params`` holds its type's parameters by config key
    (pipeline/attribution/types/), defaults filled in; they read as attributes too
    (``m.first_weight`` is ``m.params["firstWeight"]``)."""

    name: str
    model_type: str
    lookback_days: int | None  # None: infinite (built-ins only)
    params: Mapping[str, float | str] = field(default_factory=dict)
    channels_mode: str | None = None  # include | exclude
    channels: tuple[str, ...] = ()  # channel names
    paid_only: bool = False  # built-in "(PPC Only)": include the channels flagged paid
    criteria: tuple[Condition, ...] = field(default_factory=tuple)
    builtin: bool = False

    def __getattr__(self, attr: str) -> float | str:
        params = self.__dict__.get("params", {})
        for key, value in params.items():
            if attr == "".join(f"_{c.lower()}" if c.isupper() else c for c in key):
                return value
        raise AttributeError(f"{type(self).__name__} {self.__dict__.get('name')!r} has no {attr!r}")

    def describe(self) -> str:
        """The model's definition in one line (what `nightjar attribution models` prints)."""
        parts = [
            self.model_type,
            "infinite lookback" if self.lookback_days is None else f"lookback {self.lookback_days} d",
        ]
        if described := model_type(self.model_type).describe(self.params):
            parts.append(described)
        if self.paid_only:
            parts.append("paid (PPC) channels only")
        elif self.channels_mode:
            parts.append(f"{self.channels_mode} {', '.join(self.channels)}")
        if self.criteria:
            parts.append("match " + " and ".join(f"{c.field} {c.op} {c.value!r}" for c in self.criteria))
        return "; ".join(parts)


def _params(kind: str, given: Mapping[str, object]) -> dict[str, float | str]:
    """The type's parameters: the given value, or the type's default when not given (None)."""
    return {
        p.key: p.default if given.get(p.key) is None else cast(float | str, given[p.key])
        for p in model_type(kind).parameters
    }


def builtin_models(spec: AttributionSpec) -> list[Model]:
    paid = tuple(c.name for c in spec.channels if c.paid)
    return [
        Model(
            name,
            kind,
            lookback,
            _params(kind, given),
            channels_mode="include" if ppc else None,
            channels=paid if ppc else (),
            paid_only=ppc,
            builtin=True,
        )
        for name, kind, lookback, given, ppc in BUILTINS
    ]


def custom_model(m: AttributionModelSpec, spec: AttributionSpec) -> Model:
    return Model(
        m.name,
        m.modelType,
        m.lookbackDays,
        _params(m.modelType, m.parameter_values()),
        channels_mode=m.channelsMode,
        channels=tuple(spec.channel_names(m.channels)),
        criteria=tuple(condition(c.field, c.op, c.value, TOUCH_FIELDS) for c in m.matchCriteria),
    )


def all_models(spec: AttributionSpec) -> list[Model]:
    """The built-in models, then the config's custom ones."""
    return builtin_models(spec) + [custom_model(m, spec) for m in spec.models]
