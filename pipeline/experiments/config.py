"""The experiments domain's settings: variants, experiments, groups decided together, conversions."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from pipeline.core.rules import CUSTOMERS, DECIMAL_LIMIT, Rule, RuleError, rule_condition
from pipeline.core.settings import FieldType, Settings, at, identifier
from pipeline.models.config import ModelsConfig

EXPERIMENT_TYPES = ("NBO", "NBC", "NBT", "AB")
CONTROL = "control"  # the variant name of a held-out customer in `results`
PRIMARY = "primary"  # the metric name of an experiment's primary conversion in the report
NO_TREATMENT = "no_treatment"  # the variant name of the uplift policy's choice to send nothing
POLICIES = ("uniform", "propensity", "uplift", "thompson")
LEARNED = ("propensity", "uplift")  # policies that learn from the features of the experiment's model
# What every experiment of a group must share: (field, why, how its value is shown in the error)
SHARED_IN_A_GROUP = (
    ("policy", "compares expected values of one kind", repr),
    ("cadence_days", "decides a customer once per cadence", lambda days: days or "none"),
)
UPLOADED_CONVERSION_FIELDS = {
    "customer_id": (FieldType.String,),
    "experiment": (FieldType.String,),
    "conversion_datetime": (FieldType.Timestamp, FieldType.Date),
    "conversion_value": (FieldType.Decimal, FieldType.Float, FieldType.Int),
}


class VariantSpec(Settings):
    """What a customer may be given: an offer, a channel, a time. ``rules``: who is eligible."""

    name: str
    code: str | None = None
    category: str | None = None
    message: str
    rules: list[Rule] = Field(default_factory=list)
    cost: float = Field(default=0.0, ge=0)  # money per presentation (the policies subtract it)
    # a channel: only customers reachable on it (the customer 360's reachability: email = the customer
    # data has an emailsha256, mobile = an idfa) are eligible
    reach: Literal["email", "mobile"] | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        identifier(v, "variant name")
        if v in (CONTROL, NO_TREATMENT):
            raise ValueError(f"{v!r} is a reserved name in results; choose another variant name")
        return v


class ExperimentSpec(Settings):
    name: str
    type: Literal["NBO", "NBC", "NBT", "AB"]
    model: str | None = None  # a model whose score is the customer's propensity
    value_model: str | None = None  # a clv model: the score is multiplied by the customer's clv
    # how a variant is chosen (pipeline/experiments/learned.py); uniform: the draw by observed rates
    policy: Literal["uniform", "propensity", "uplift", "thompson"] = "uniform"
    variants: list[str] = Field(min_length=1)
    enabled: bool = True
    control_share: float = Field(default=0.1, ge=0, lt=1)
    exploration: float = Field(default=0.1, ge=0, le=1)
    audience: list[Rule] = Field(default_factory=list)
    start: dt.date | None = None  # first presentation date (default: always)
    end: dt.date | None = None  # last presentation date (default: always)
    capacity: dict[str, int] = Field(default_factory=dict)  # variant -> most presentations a day
    slots: list[str] = Field(default_factory=list)  # send times of day, "HH:MM" UTC (results.send_at)
    # each customer is decided on one night in every cadence_days (a hash of customer and experiment
    # picks which; of customer and group in a group, whose experiments share it); default: every night
    cadence_days: int | None = Field(default=None, ge=1)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return identifier(v, "experiment name")

    @model_validator(mode="after")
    def _checks(self) -> ExperimentSpec:
        repeated = sorted({v for v in self.variants if self.variants.count(v) > 1})
        if repeated:
            raise at("variants", f"each variant may appear once; repeated: {', '.join(repeated)}")
        if self.start and self.end and self.end < self.start:
            raise at("end", f"end {self.end} is before start {self.start}")
        if self.policy in LEARNED and not self.model:
            raise at("model", f"policy {self.policy} learns from a model's features: name a model")
        if self.policy == "uplift" and self.control_share == 0:
            raise at(
                "control_share",
                "policy uplift learns what sending nothing does from control: give a control_share above 0",
            )
        if self.value_model and self.policy != "uniform":
            raise at(
                "value_model",
                f"policy {self.policy} values a conversion by the experiment's past conversions (its "
                "expected value is the score, which a capacity and a group choose by); a value_model "
                "weighs the uniform policy only: remove it or use policy uniform",
            )
        if self.policy != "uniform" and self.type == "AB":
            raise at("policy", "an AB experiment splits uniformly; its policy is uniform")
        for name, limit in self.capacity.items():
            if name not in self.variants:
                raise at(
                    f"capacity.{name}", f"not a variant of this experiment (its variants: {self.variants})"
                )
            if limit < 0:
                raise at(f"capacity.{name}", f"a capacity is a number of presentations >= 0, not {limit}")
        for j, slot in enumerate(self.slots):
            if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", slot):
                raise at(f"slots[{j}]", f"a time of day HH:MM (UTC), not {slot!r}")
        if len(set(self.slots)) < len(self.slots):
            raise at("slots", "each slot may appear once")
        if self.type == "NBT" and not self.slots:
            raise at("slots", "an NBT experiment chooses a send time among its declared slots: give slots")
        return self


class GroupSpec(Settings):
    """Experiments decided together: one decision per customer, the best expected value."""

    name: str
    experiments: list[str] = Field(min_length=2)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return identifier(v, "group name")


class ConversionDefinition(Settings):
    """A conversion for ``experiment``: a transaction row matching every rule (all rules name one
    transaction)."""

    name: str
    experiment: str
    rules: list[Rule] = Field(min_length=1)
    value_field: str | None = None  # a number field of the transaction holding the money value
    # else a fixed money value per conversion (default 0): under 1e20, as the DECIMAL(38, 18) it is read as
    value: Annotated[float, Field(gt=-DECIMAL_LIMIT, lt=DECIMAL_LIMIT, allow_inf_nan=False)] | None = None
    count: Literal["first", "all"] = "first"  # first: one conversion per presentation; all: every match
    # primary: the experiment's primary metric (its primary definitions together); guardrail: a metric
    # of its own, failing the experiment when it moves significantly the `worse` way; covariate: the
    # experiment's CUPED pre-period metric only (default: the primary metric itself before presentation)
    role: Literal["primary", "guardrail", "covariate"] = "primary"
    worse: Literal["increase", "decrease"] = "increase"  # a guardrail's harmful direction

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return identifier(v, "conversion name")

    @model_validator(mode="after")
    def _checks(self) -> ConversionDefinition:
        if self.value_field and self.value is not None:
            raise at("value", "give either value_field or value, not both")
        for j, r in enumerate(self.rules):
            if r.transaction != self.rules[0].transaction:
                raise at(
                    f"rules[{j}].transaction",
                    f"all rules of a conversion name one transaction "
                    f"({self.rules[0].transaction!r}), not {r.transaction!r}",
                )
        if self.worse != "increase" and self.role != "guardrail":
            raise at("worse", "only a guardrail (role: guardrail) has a harmful direction")
        return self

    @property
    def transaction(self) -> str:
        return self.rules[0].transaction


class ConversionsSpec(Settings):
    window_days: int = Field(default=30, ge=1, le=365)
    definitions: list[ConversionDefinition] = Field(default_factory=list)
    # A transaction holding uploaded conversions: customer_id, experiment, conversion_datetime,
    # conversion_value.
    uploaded: str | None = None


class AnalysisSpec(Settings):
    """How the experiment report tests (pipeline/experiments/stats.py): the level of its intervals and
    tests, the sequential test's tuning parameter, and the correction across an experiment's variants."""

    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    sequential_tuning: float = Field(default=5000, gt=0)  # the sample size where it is tightest
    correction: Literal["holm", "bh", "none"] = "holm"
    # CUPED: the pre-period covariate is counted in the cuped_days before the presentation
    cuped_days: int = Field(default=14, ge=1, le=365)


class ExperimentsConfig(ModelsConfig):
    """What to decide nightly and how to measure it, cross-checked against the transactions and models."""

    variants: list[VariantSpec] = Field(default_factory=list)
    experiments: list[ExperimentSpec] = Field(default_factory=list)
    groups: list[GroupSpec] = Field(default_factory=list)
    conversions: ConversionsSpec = ConversionsSpec()
    analysis: AnalysisSpec = AnalysisSpec()

    @model_validator(mode="after")
    def _check_experiments(self) -> ExperimentsConfig:
        schemas = {t.name: {f.name: f.type for f in t.fields} for t in self.transactions}

        def rules(path: str, items: list[Rule], customers: bool = False) -> None:
            for j, r in enumerate(items):
                try:
                    if customers and r.transaction == CUSTOMERS and self.customers is None:
                        raise RuleError(
                            "transaction",
                            "a rule over customers needs customer data (the customers: section)",
                        )
                    rule_condition(r, schemas, customers=customers)
                except RuleError as e:
                    raise at(f"{path}[{j}].{e.key}", str(e)) from None

        def unique(kind: str, names: list[str]) -> None:
            for i, n in enumerate(names):
                if n in names[:i]:
                    raise at(f"{kind}[{i}].name", f"the name {n!r} is used twice")

        unique("variants", [v.name for v in self.variants])
        unique("experiments", [e.name for e in self.experiments])
        unique("groups", [g.name for g in self.groups])
        variants = [v.name for v in self.variants]
        experiments = [e.name for e in self.experiments]
        for i, v in enumerate(self.variants):
            rules(f"variants[{i}].rules", v.rules, customers=True)
        for i, e in enumerate(self.experiments):
            for j, name in enumerate(e.variants):
                if name not in variants:
                    raise at(
                        f"experiments[{i}].variants[{j}]", f"unknown variant {name!r} (declared: {variants})"
                    )
            rules(f"experiments[{i}].audience", e.audience, customers=True)
        seen: dict[str, str] = {}
        for i, g in enumerate(self.groups):
            for j, name in enumerate(g.experiments):
                if name not in experiments:
                    raise at(
                        f"groups[{i}].experiments[{j}]",
                        f"unknown experiment {name!r} (declared: {experiments})",
                    )
                if name in seen:
                    raise at(
                        f"groups[{i}].experiments[{j}]",
                        f"experiment {name!r} is already in group {seen[name]!r}",
                    )
                seen[name] = g.name
                first, this = self.experiment(g.experiments[0]), self.experiment(name)
                for field, why, shown in SHARED_IN_A_GROUP:
                    if getattr(this, field) != getattr(first, field):
                        raise at(
                            f"groups[{i}].experiments[{j}]",
                            f"a group {why}: every experiment needs the same {field} "
                            f"({g.experiments[0]!r} has {shown(getattr(first, field))}, {name!r} has "
                            f"{shown(getattr(this, field))})",
                        )
        conv = self.conversions
        for i, d in enumerate(conv.definitions):
            path = f"conversions.definitions[{i}]"
            if d.experiment not in experiments:
                raise at(
                    f"{path}.experiment", f"unknown experiment {d.experiment!r} (declared: {experiments})"
                )
            rules(f"{path}.rules", d.rules)
            if d.value_field:
                ftype = schemas[d.transaction].get(d.value_field)
                if ftype not in (FieldType.Decimal, FieldType.Float, FieldType.Int):
                    raise at(
                        f"{path}.value_field", f"{d.value_field!r} is not a number field of {d.transaction!r}"
                    )
        unique("conversions.definitions", [d.name for d in conv.definitions])
        for i, d in enumerate(conv.definitions):
            if d.role == "guardrail" and d.name == PRIMARY:
                raise at(f"conversions.definitions[{i}].name", f"{PRIMARY!r} names the primary metric")
            if d.role == "covariate" and any(
                o.role == "covariate" and o.experiment == d.experiment for o in conv.definitions[:i]
            ):
                raise at(
                    f"conversions.definitions[{i}].role",
                    f"experiment {d.experiment!r} already has a covariate definition; give it one at most",
                )
        if conv.uploaded:
            if conv.uploaded not in schemas:
                raise at(
                    "conversions.uploaded",
                    f"unknown transaction {conv.uploaded!r} (declared: {sorted(schemas)})",
                )
            for name, types in UPLOADED_CONVERSION_FIELDS.items():
                if schemas[conv.uploaded].get(name) not in types:
                    raise at(
                        "conversions.uploaded",
                        f"the transaction {conv.uploaded!r} must have a field {name!r} "
                        f"of type {' or '.join(t.value for t in types)}",
                    )
            spec = next(t for t in self.transactions if t.name == conv.uploaded)
            if spec.customer_field != "customer_id" or spec.time_field != "conversion_datetime":
                raise at(
                    "conversions.uploaded",
                    f"the transaction {conv.uploaded!r} must have customer_field: "
                    "customer_id and time_field: conversion_datetime",
                )
        models = [m.name for m in self.models]
        for i, e in enumerate(self.experiments):
            if e.model and e.model not in models:
                raise at(
                    f"experiments[{i}].model",
                    f"unknown model {e.model!r} (declared: {models}); its score comes from predictions",
                )
            clv_models = [m.name for m in self.models if m.type == "clv"]
            if e.value_model and e.value_model not in clv_models:
                raise at(
                    f"experiments[{i}].value_model",
                    f"{e.value_model!r} is not a clv model (declared clv models: {clv_models}); the "
                    "value of a customer comes from the clv table",
                )
        return self

    def experiment(self, name: str) -> ExperimentSpec:
        return next(e for e in self.experiments if e.name == name)

    def variant(self, name: str) -> VariantSpec:
        return next(v for v in self.variants if v.name == name)

    def guardrails(self, experiment: str) -> list[ConversionDefinition]:
        """The experiment's guardrail metrics (conversion definitions with ``role: guardrail``)."""
        return [
            d for d in self.conversions.definitions if d.experiment == experiment and d.role == "guardrail"
        ]

    def group_of(self, experiment: str) -> str | None:
        return next((g.name for g in self.groups if experiment in g.experiments), None)
