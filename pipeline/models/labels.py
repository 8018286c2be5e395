"""A model's label rules: the rule language (pipeline/core/rules.py) applied to `events`.

A label rule is ``{transaction, field, formula: {op: value}}`` like an experiment's rule, with two
differences that come from reading events rather than one transaction table:

* ``transaction`` names a transaction (``pos``: all its events) or an event type
  (``completedOrder``: the events of that type, from every transaction that can produce it, by its
  fixed ``event.type`` or its ``event.type_map``);
* ``field`` and ``formula`` may be left out: then any event of it qualifies.

The field must be declared by each transaction the rule reads; the value is typed by that field's
declared type (:func:`pipeline.core.rules.condition`), and the condition is compiled by
:func:`pipeline.core.rules.compile_condition` on the event's copy of the field: its ``properties``
entry cast back to the declared type, or ``occurred_at`` / ``customer_key`` for the transaction's
time and customer fields. A list of rules matches an event that ANY rule matches (the qualifying
events of a label); every value is a bound parameter.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator

from pipeline.core.rules import (
    Condition,
    Params,
    Rule,
    RuleError,
    compile_condition,
    condition,
    customer_field_type,
)
from pipeline.core.settings import FieldType, Settings, at
from pipeline.ingest.config import TransactionSpec
from pipeline.ingest.typing import SQL_TYPES  # the types of the transaction tables' columns


class LabelRule(Rule):
    """A qualifying event, in the rule language (pipeline/core/rules.py): ``{transaction, field, formula}``.

    ``transaction`` is a transaction or an event type; without ``field`` and ``formula`` any event
    of it qualifies, e.g. ``{transaction: completedOrder}`` or
    ``{transaction: pos, field: amount, formula: {gt: 100}}``. Checked and compiled below.
    """

    # Optional here (any event of the transaction); a Rule's are required. Widening a field in a
    # subclass is what pydantic models do; mypy reads it as an unsafe attribute override.
    field: str | None = None  # type: ignore[assignment]
    formula: dict[str, Any] | None = None  # type: ignore[assignment]
    # recommender: the weight of a response through this rule in training (an event matching several
    # rules takes the largest); e.g. a purchase 1, a product view 0.2
    weight: float = Field(default=1.0, gt=0, le=1000)

    @field_validator("formula", mode="before")
    @classmethod
    def _mapping(cls, v: object) -> object:
        if isinstance(v, str):  # the form of the first models release: "gt 100"
            op, _, value = v.strip().partition(" ")
            raise ValueError(
                "formula is a mapping {op: value} as in every rule, "
                f"e.g. {{{op or 'gt'}: {value.strip() or 100}}}, not the string {v!r}"
            )
        return v

    @model_validator(mode="after")
    def _together(self) -> LabelRule:
        if (self.field is None) != (self.formula is None):
            raise at(
                "formula" if self.field else "field",
                "give field and formula together (or neither: any event)",
            )
        return self


class LabelSpec(Settings):
    """The label: qualifying events within ``horizon_days`` after the cut-off, a customer list CSV, or
    a goal of the customer data (``goal_*``) reached within ``horizon_days`` after the cut-off."""

    rules: list[LabelRule] = Field(default_factory=list)
    horizon_days: int = Field(default=30, ge=1, le=730)
    customer_list: Path | None = None  # CSV: customer_id,label (1/0)
    goal: str | None = None  # a goal_* column of the customer data (with its goal_*_timestamp)

    @field_validator("goal")
    @classmethod
    def _goal(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                kind = customer_field_type(v)
            except RuleError:
                kind = None
            if kind != FieldType.Bool:
                raise ValueError(
                    f"a goal is a goal_* column of the customer data (e.g. goal_newsletter), not {v!r}"
                )
        return v

    @model_validator(mode="after")
    def _one_source(self) -> LabelSpec:
        if sum(map(bool, (self.rules, self.customer_list, self.goal))) != 1:
            raise at(
                "rules",
                "give one of rules (qualifying events), customer_list (a CSV of customer_id,label) "
                "or goal (a goal_* column of the customer data)",
            )
        return self


def event_types(transactions: Sequence[TransactionSpec]) -> list[str]:
    """Every declared event type (fixed types and type_map values)."""
    return sorted(
        {t.event_type for t in transactions if t.event_type}
        | {v for t in transactions for v in t.event.type_map.values()}
    )


def targets(transactions: Sequence[TransactionSpec], name: str) -> list[tuple[TransactionSpec, bool]]:
    """The transactions whose events a rule naming ``name`` reads, each with True when it reads all
    of them (``name`` is the transaction) or False when only those of event type ``name``."""
    out = []
    for t in transactions:
        if name == t.name:
            out.append((t, True))
        elif name == t.event_type or name in t.event.type_map.values():
            out.append((t, False))
    if not out:
        raise RuleError(
            "transaction",
            f"{name!r} is neither a transaction {[t.name for t in transactions]} "
            f"nor an event type {event_types(transactions)}",
        )
    return out


def conditions(
    transactions: Sequence[TransactionSpec], rule: LabelRule
) -> list[tuple[TransactionSpec, bool, Condition | None]]:
    """Per transaction the rule reads: (transaction, all its events?, the checked condition or None)."""
    out = []
    for t, every in targets(transactions, rule.transaction):
        cond = None
        if rule.field is not None:
            try:
                cond = condition(rule.field, rule.op, rule.value, {f.name: f.type for f in t.fields})
            except RuleError as e:
                where = (
                    ""
                    if rule.transaction == t.name
                    else f"in transaction {t.name!r} (events of type {rule.transaction!r}): "
                )
                raise RuleError(e.key, where + str(e)) from None
        out.append((t, every, cond))
    return out


def _column(t: TransactionSpec, field: str, params: Params) -> str:
    """The SQL expression of the event's copy of the transaction's field, as its declared type."""
    cast = SQL_TYPES[t.field(field).type]
    if field == t.time_field:
        return f"CAST(e.occurred_at AS {cast})"
    if field == t.customer_field:
        return f"TRY_CAST(e.customer_key AS {cast})"
    return f"TRY_CAST(json_extract_string(e.properties, {params.add(field)}::VARCHAR) AS {cast})"


def _rule_sql(transactions: Sequence[TransactionSpec], rule: LabelRule, params: Params) -> list[str]:
    """One SQL condition over ``events e`` per transaction the rule reads."""
    parts = []
    for t, every, cond in conditions(transactions, rule):
        sql = [f"e.source = {params.add(t.name)}"]
        if not every:
            sql.append(f"e.type = {params.add(rule.transaction)}")
        if cond is not None:
            sql.append(compile_condition(cond, params, _column(t, cond.field, params)))
        parts.append("(" + " AND ".join(sql) + ")")
    return parts


def compile_rules(transactions: Sequence[TransactionSpec], rules: Iterable[LabelRule], params: Params) -> str:
    """SQL condition over ``events e`` matching an event that any rule matches (FALSE for no rules)."""
    return " OR ".join(p for rule in rules for p in _rule_sql(transactions, rule, params)) or "FALSE"


def compile_weight(
    transactions: Sequence[TransactionSpec], rules: Sequence[LabelRule], params: Params
) -> str:
    """SQL of a qualifying event's weight: the largest ``weight`` of the rules it matches (1.0 when
    every weight is 1: no CASE)."""
    if all(rule.weight == 1 for rule in rules):
        return "1.0"
    cases = [
        f"WHEN {' OR '.join(_rule_sql(transactions, rule, params))} THEN {params.add(rule.weight)}::DOUBLE"
        for rule in sorted(rules, key=lambda r: -r.weight)
    ]
    return "CASE " + " ".join(cases) + " ELSE 1.0 END"


def check(
    transactions: Sequence[TransactionSpec], label: LabelSpec, item_field: str | None, model_index: int
) -> tuple[str, str] | None:
    """(key path, message) of the first wrong label rule of ``models[model_index]`` (its ``label`` and
    ``item_field``), or None."""
    for j, rule in enumerate(label.rules):
        where = f"models[{model_index}].label.rules[{j}]"
        try:
            specs = conditions(transactions, rule)
        except RuleError as e:
            return f"{where}.{e.key}", str(e)
        if item_field:
            for t, _, _ in specs:
                if item_field not in [f.name for f in t.fields]:
                    return (
                        f"models[{model_index}].item_field",
                        f"{item_field!r} is not a field of {t.name!r} (read by {where})",
                    )
    return None
