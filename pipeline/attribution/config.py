"""The attribution domain's settings: touchpoints, conversions, the channel table, custom models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import ConfigDict, Field, create_model, field_validator, model_validator
from pydantic_core import PydanticCustomError

from pipeline.attribution.types import registry as types
from pipeline.core.rules import RuleError, condition
from pipeline.core.settings import FieldType, Settings, at, identifier
from pipeline.customers.config import CustomersConfig

# The fields a match criterion may test: the touch (or conversion) event's columns under these
# names. `paid` is the channel table's flag of the touch's channel (touches only).
ATTRIBUTION_FIELDS: dict[str, FieldType] = {
    "channel": FieldType.String,
    "campaign": FieldType.String,
    "source": FieldType.String,
    "medium": FieldType.String,
    "term": FieldType.String,
    "content": FieldType.String,
    "type": FieldType.String,
    "context": FieldType.String,
    "value": FieldType.Decimal,
    "time": FieldType.Timestamp,
}
TOUCH_FIELDS: dict[str, FieldType] = {**ATTRIBUTION_FIELDS, "paid": FieldType.Bool}
UNATTRIBUTED = "(unattributed)"  # the channel of a conversion no touch of the model explains
# A conversion's value must fit the exact DECIMAL(38, 18) sums of its credits (sql/attribution/summary.sql)
VALUE_LIMIT = 1e20


class MatchCriterion(Settings):
    """``{field, op, value}``: one test of a touch (or conversion) field, in the rule language."""

    field: str
    op: str
    value: object


# The built-in models: (name, modelType, lookbackDays or None = infinite, parameters, PPC only)
BUILTINS: tuple[tuple[str, str, int | None, dict[str, float], bool], ...] = (
    ("Last Click (Infinite)", "last", None, {}, False),
    ("First Click (Infinite)", "first", None, {}, False),
    ("First Click", "first", 90, {}, False),
    ("First Click Weighted", "spread", 90, {"firstWeight": 3, "lastWeight": 1}, False),
    ("Last Click", "last", 90, {}, False),
    ("Last Click Weighted", "spread", 90, {"firstWeight": 1, "lastWeight": 3}, False),
    ("Equally Weighted", "spread", 90, {"firstWeight": 1, "lastWeight": 1}, False),
    ("First and Last Click Weighted", "spread", 90, {"firstWeight": 3, "lastWeight": 3}, False),
    ("Equally Weighted (PPC Only)", "spread", 30, {"firstWeight": 1, "lastWeight": 1}, True),
    ("First Click Weighted (PPC Only)", "spread", 90, {"firstWeight": 3, "lastWeight": 1}, True),
)
BUILTIN_NAMES = tuple(b[0] for b in BUILTINS)


def _check_criteria(criteria: list[MatchCriterion], schema: dict[str, FieldType], where: str) -> None:
    for i, c in enumerate(criteria):
        try:
            condition(c.field, c.op, c.value, schema)
        except RuleError as e:
            raise at(f"{where}[{i}].{'value' if e.key == 'formula' else e.key}", str(e)) from None


class AttributionChannel(Settings):
    """A row of the channel table: touches name their channel; models name it by id or name."""

    id: int = Field(ge=1)
    name: str = Field(min_length=1)
    paid: bool = False  # pay-per-click: what the "(PPC Only)" built-in models keep


class TouchpointSpec(Settings):
    """Which events are marketing touches: events of `type` matching every criterion."""

    type: str
    channel: str | None = None  # a fixed channel for these events (default: the event's own channel)
    matchCriteria: list[MatchCriterion] = Field(default_factory=list)

    @model_validator(mode="after")
    def _criteria(self) -> TouchpointSpec:
        _check_criteria(self.matchCriteria, ATTRIBUTION_FIELDS, "matchCriteria")
        return self


class ConversionSourceSpec(Settings):
    """What counts as a conversion, and its value.

    `from: events` (the only kind so far): events of `type` matching every criterion, worth the
    event's value (or the fixed `value`). A later kind `from: conversions` will name a defined
    conversion; the rest of attribution only sees (conversion_id, customer, time, value).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str
    from_: Literal["events"] = Field(default="events", alias="from")
    type: str
    matchCriteria: list[MatchCriterion] = Field(default_factory=list)
    # a fixed value per conversion (default: the event's value; none: 0), within what the credits' sums hold
    value: Annotated[float, Field(gt=-VALUE_LIMIT, lt=VALUE_LIMIT, allow_inf_nan=False)] | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return identifier(v, "conversion name")

    @model_validator(mode="after")
    def _criteria(self) -> ConversionSourceSpec:
        _check_criteria(self.matchCriteria, ATTRIBUTION_FIELDS, "matchCriteria")
        return self


class ModelSpecKeys(Settings):
    """The keys of every custom model; :data:`AttributionModelSpec` adds the parameters of the
    registered model types (pipeline/attribution/types/), each None unless given (the type's default
    applies)."""

    name: str = Field(min_length=1)
    modelType: str
    lookbackDays: int = Field(default=90, ge=1, le=365)
    channelsMode: Literal["include", "exclude"] | None = None
    channels: list[int | str] = Field(default_factory=list)
    matchCriteria: list[MatchCriterion] = Field(default_factory=list)

    @field_validator("modelType", mode="before")
    @classmethod
    def _registered(cls, v: object) -> object:
        if v not in types.names():
            *rest, last = (repr(n) for n in types.names())
            raise PydanticCustomError("literal_error", f"Input should be {', '.join(rest)} or {last}")
        return v

    def parameter_values(self) -> dict[str, object]:
        """The config's value of each registered type's parameter (None: not given)."""
        return {key: getattr(self, key) for key in types.parameters()}

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpecKeys:
        values = self.parameter_values()
        for key, (_, owners) in types.parameters().items():
            if values[key] is not None and self.modelType not in owners:
                raise at(key, f"{key} is only for modelType {' or '.join(owners)}, not {self.modelType}")
        check = types.model_type(self.modelType).check
        if check and (problem := check(values)):
            raise at(*problem)
        if self.channels and not self.channelsMode:
            raise at("channelsMode", "channels needs channelsMode: include or exclude")
        if self.channelsMode and not self.channels:
            raise at(
                "channels",
                f"channelsMode {self.channelsMode} needs a non-empty list of channels (ids or names)",
            )
        _check_criteria(self.matchCriteria, TOUCH_FIELDS, "matchCriteria")
        return self


if TYPE_CHECKING:
    AttributionModelSpec = ModelSpecKeys
else:
    AttributionModelSpec = create_model(
        "AttributionModelSpec",
        __base__=ModelSpecKeys,
        __module__=__name__,
        __doc__="A custom attribution model (rule-based and data-driven types); see the README.",
        **{key: (p.annotation | None, None) for key, (p, _) in types.parameters().items()},
    )


class AttributionSpec(Settings):
    """Touchpoints, conversions, the channel table and the custom models (the built-ins are always there)."""

    channels: list[AttributionChannel] = Field(default_factory=list)
    touchpoints: list[TouchpointSpec] = Field(default_factory=list)
    conversions: list[ConversionSourceSpec] = Field(default_factory=list)
    models: list[AttributionModelSpec] = Field(default_factory=list)
    # Bootstrap replicates of every model's daily credits per channel (0: no intervals), drawn with
    # bootstrapSeed (and the day), so re-running a day gives the same intervals.
    bootstrap: int = Field(default=0, ge=0, le=10_000)
    bootstrapSeed: int = Field(default=0, ge=0)  # NumPy seeds are 0 or more
    # The models whose attribution_credits keep one row per credited touch (true: every model); the
    # others get one row per conversion, model and channel (what the summary and the readers use).
    perTouchCredits: bool | list[str] = False

    @model_validator(mode="after")
    def _references(self) -> AttributionSpec:
        ids = [c.id for c in self.channels]
        names = [c.name for c in self.channels]
        for i, c in enumerate(self.channels):
            if c.id in ids[:i]:
                raise at(f"channels[{i}].id", f"the channel id {c.id} is used twice")
            if c.name in names[:i]:
                raise at(f"channels[{i}].name", f"the channel name {c.name!r} is used twice")
            if c.name == UNATTRIBUTED:
                raise at(
                    f"channels[{i}].name", f"{UNATTRIBUTED!r} is reserved for conversions no touch explains"
                )
        for i, t in enumerate(self.touchpoints):
            if t.channel is not None and t.channel not in names:
                raise at(f"touchpoints[{i}].channel", f"unknown channel {t.channel!r}; channels: {names}")
        conv = [c.name for c in self.conversions]
        for i, n in enumerate(conv):
            if n in conv[:i]:
                raise at(f"conversions[{i}].name", f"the conversion name {n!r} is used twice")
        seen: list[str] = []
        for i, m in enumerate(self.models):
            if m.name.casefold() in {b.casefold() for b in BUILTIN_NAMES}:
                raise at(
                    f"models[{i}].name",
                    f"{m.name!r} is a built-in model: built-ins cannot be created, "
                    "changed or shadowed; choose another name",
                )
            if m.name.casefold() in seen:
                raise at(f"models[{i}].name", f"the model name {m.name!r} is used twice")
            seen.append(m.name.casefold())
            for j, ch in enumerate(m.channels):
                if not any(ch == c.id or ch == c.name for c in self.channels):
                    raise at(
                        f"models[{i}].channels[{j}]",
                        f"unknown channel {ch!r}; the channel table has "
                        + ", ".join(f"{c.id}={c.name}" for c in self.channels),
                    )
        if isinstance(self.perTouchCredits, list):
            known = [*BUILTIN_NAMES, *(m.name for m in self.models)]
            for i, name in enumerate(self.perTouchCredits):
                if name not in known:
                    raise at(f"perTouchCredits[{i}]", f"unknown model {name!r}; models: {known}")
        return self

    def per_touch(self, model: str) -> bool:
        """Whether a model's credits keep one row per credited touch (perTouchCredits)."""
        return self.perTouchCredits is True or (
            isinstance(self.perTouchCredits, list) and model in self.perTouchCredits
        )

    def channel_names(self, refs: list[int | str]) -> list[str]:
        """The names of channels given by id or name."""
        return [c.name for r in refs for c in self.channels if r == c.id or r == c.name]


class AttributionConfig(CustomersConfig):
    attribution: AttributionSpec = Field(default_factory=AttributionSpec)
