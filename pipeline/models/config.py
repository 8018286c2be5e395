"""The models domain's settings: what each model learns, from which window, how it is split and trained."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from pipeline.core.rules import Rule, RuleError, rule_condition
from pipeline.core.settings import Settings, at, identifier
from pipeline.customers.config import CustomersConfig
from pipeline.models import registry
from pipeline.models.labels import LabelSpec, check

FEATURE_WINDOWS = (7, 30, 90, 365)


class SplitSpec(Settings):
    train: float = Field(default=0.6, gt=0, lt=1)
    evaluation: float = Field(default=0.2, gt=0, lt=1)
    test: float = Field(default=0.2, gt=0, lt=1)

    @model_validator(mode="after")
    def _sum(self) -> SplitSpec:
        if abs(self.train + self.evaluation + self.test - 1) > 1e-9:
            raise at(
                "test",
                f"train + evaluation + test must be 1, not {self.train + self.evaluation + self.test:g}",
            )
        return self


def registered_type(value: object) -> object:
    """A registered model type (pipeline/models/types/), with pydantic's message for a literal."""
    known = registry.names()
    if value not in known:
        raise ValueError(f"Input should be {registry.expected(known)}")
    return value


class ReferenceScores(Settings):
    """A CSV of customer scores to compare with (e.g. the demo's true propensities): AUC on the same
    test customers."""

    file: Path
    customer_column: str = "customuid"
    column: str


class PromoteIf(Settings):
    """A new version becomes current only when its test AUC is at least the current version's on the
    same test customers minus ``auc_tolerance``, and beats the better of its baselines (recency, RFM)
    on its test split by at least ``min_gain_over_baseline`` AUC points when it is set (default null:
    not asked, a version below its baseline is only warned of), whether or not there is a current
    version; otherwise it is recorded REJECTED."""

    auc_tolerance: float = Field(default=0.01, ge=0, le=1)
    min_gain_over_baseline: float | None = Field(default=None, ge=-1, le=1)


class Tuning(Settings):
    """A bounded hyperparameter search (Optuna, TPE) on the evaluation split: at most ``trials``
    trainings and ``seconds`` of wall time, whichever comes first."""

    trials: int = Field(default=20, ge=1, le=1000)
    seconds: float = Field(default=60, gt=0, le=86400)


class Drift(Settings):
    """The drift checks of the nightly scores (pipeline/models/drift.py): the population stability
    index of the score and of the ``features`` most important numeric features between the training
    population and the night's customers; a warning above ``warn``, a failure above ``fail``."""

    warn: float = Field(default=0.1, gt=0)
    fail: float = Field(default=0.25, gt=0)
    features: int = Field(default=5, ge=0, le=50)

    @model_validator(mode="after")
    def _order(self) -> Drift:
        if self.fail < self.warn:
            raise at("fail", f"fail ({self.fail:g}) must be at least warn ({self.warn:g})")
        return self


class ModelSpec(Settings):
    """One model. Features are Nightjar's own (sql/models/features), computed strictly before the
    cut-off over windows that look back from it; a config can only narrow them (windows, exclude)."""

    name: str
    type: Annotated[str, BeforeValidator(registered_type)]  # a registered model type: response, churn, ...
    label: LabelSpec
    history_days: int = Field(default=365, ge=7, le=3650)
    min_history_days: int = Field(default=7, ge=1)
    windows: list[int] = Field(default_factory=lambda: list(FEATURE_WINDOWS), min_length=1)
    exclude: list[str] = Field(default_factory=list)
    top_attr_values: int = Field(default=10, ge=0, le=100)
    split: SplitSpec = SplitSpec()
    shuffle: bool = True
    objective: Literal["auc", "logloss", "precision_at_k"] = "auc"
    seed: int = 7
    k: int = Field(default=5, ge=1, le=100)
    item_field: str | None = None  # recommender: the field of the rule's transaction that names the item
    time_unit: Literal["days", "weeks"] = "days"  # clv: the unit BG/NBD counts time in
    # Days between trainings (pipeline/models/cadence.py): a night that is not due keeps the current version.
    retrain_every_days: int = Field(default=7, ge=1, le=365)
    num_boost_round: int = Field(default=1000, ge=1, le=10000)  # an upper bound: early stopping ends it
    early_stopping_rounds: int = Field(default=30, ge=1)  # the patience on the evaluation split
    # the most rows LightGBM fits on: above it, a seeded sample of the training split's customers (all
    # their rows); the evaluation and test splits stay whole (pipeline/models/train.py capped)
    max_training_rows: int | None = Field(default=1_000_000, ge=1000)
    # the most rows of each held-out split (evaluation, calibration, test): above it, a seeded sample
    # of the split's customers (all their rows), the same way
    max_held_out_rows: int | None = Field(default=1_000_000, ge=1000)
    # response/churn scores calibrated on customers the scoring model did not stop on
    # (pipeline/models/training.py; "none": LightGBM's own probabilities)
    calibration: Literal["platt", "isotonic", "none"] = "platt"
    promote_if: PromoteIf = PromoteIf()
    tuning: Tuning | None = None
    drift: Drift = Drift()
    # the training population: customers whose data matches every rule {transaction: customers, field,
    # formula} (a segment; response and churn only); scoring still scores every active customer
    population: list[Rule] = Field(default_factory=list)
    params: dict[str, float | int | str | bool] = Field(default_factory=dict)
    reference_scores: ReferenceScores | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return identifier(v, "model name")

    @field_validator("windows")
    @classmethod
    def _windows(cls, v: list[int]) -> list[int]:
        if any(w < 1 for w in v):
            raise ValueError(f"windows are days looking back from the cut-off and must be at least 1: {v}")
        return sorted(set(v))

    @model_validator(mode="after")
    def _kind(self) -> ModelSpec:
        if max(self.windows) > self.history_days:
            raise at(
                "windows",
                f"a window ({max(self.windows)} days) may not exceed history_days ({self.history_days})",
            )
        registry.get(self.type).check(self)  # what the type asks of its spec (item_field, ...)
        for i, rule in enumerate(self.population):
            try:
                rule_condition(rule, {}, customers=True)
            except RuleError as e:
                raise at(f"population[{i}].{e.key}", str(e)) from None
        return self


class ModelsConfig(CustomersConfig):
    models: list[ModelSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_models(self) -> ModelsConfig:
        """Model names unique; label rules checked in the rule language against the transactions."""
        seen: list[str] = []
        for i, m in enumerate(self.models):
            if m.name in seen:
                raise at(f"models[{i}].name", f"the name {m.name!r} is used twice")
            seen.append(m.name)
            if problem := check(self.transactions, m.label, m.item_field, i):
                raise at(*problem)
        return self

    def model(self, name: str) -> ModelSpec:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(f"no model named {name!r} (declared: {[m.name for m in self.models]})")
