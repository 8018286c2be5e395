"""Label rules ``{transaction, field, formula}`` compiled to parameterised SQL over ``events``.

A rule matches an event of the transaction (``events.source``) or of the event type (``events.type``);
with a field, the field's value in the event's ``properties`` must satisfy the formula
``<op> <value>``. A list of rules matches an event that any rule matches. Values are always bound
parameters; the SQL text only ever holds operators from a fixed list and parameter names.
"""

from __future__ import annotations

from pipeline.config import FieldType, LabelRule, ProjectConfig

NUMERIC = (FieldType.Int, FieldType.Decimal, FieldType.Float)
OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=", "neq": "<>"}


class RuleError(ValueError):
    """A rule that cannot be compiled (a value that does not fit the field's type)."""


def _field_type(config: ProjectConfig, rule: LabelRule) -> FieldType:
    for t in config.transactions:
        if rule.transaction in (t.name, t.event_type) or rule.transaction in t.event.type_map.values():
            return t.field(rule.field).type
    raise RuleError(f"{rule.transaction!r} is not a declared transaction or event type")


def _value(kind: FieldType, text: str, rule: LabelRule) -> float | str:
    if kind in NUMERIC:
        try:
            return float(text)
        except ValueError:
            raise RuleError(f"rule on {rule.transaction}.{rule.field}: {text!r} is not a number") from None
    return text


def compile_rules(config: ProjectConfig, rules: list[LabelRule], prefix: str = "r") -> tuple[str, dict]:
    """(SQL condition over ``events e``, its parameters) matching an event any rule matches."""
    parts, params = [], {}
    for i, rule in enumerate(rules):
        p = f"{prefix}{i}"
        params[f"{p}_t"] = rule.transaction
        cond = f"(e.source = ${p}_t OR e.type = ${p}_t)"
        if rule.field:
            kind = _field_type(config, rule)
            op, _, raw = rule.formula.strip().partition(" ")
            raw = raw.strip()
            params[f"{p}_f"] = rule.field
            text = f"json_extract_string(e.properties, ${p}_f)"
            column = f"TRY_CAST({text} AS DOUBLE)" if kind in NUMERIC else text
            if op == "in":
                values = [_value(kind, v.strip(), rule) for v in raw.split(",") if v.strip()]
                params[f"{p}_v"] = values
                cast = "DOUBLE[]" if kind in NUMERIC else "VARCHAR[]"
                cond += f" AND list_contains(${p}_v::{cast}, {column})"
            elif op == "contains":
                params[f"{p}_v"] = raw
                cond += f" AND contains({text}, ${p}_v::VARCHAR)"
            else:
                params[f"{p}_v"] = _value(kind, raw, rule)
                cast = "DOUBLE" if kind in NUMERIC else "VARCHAR"
                cond += f" AND {column} {OPS[op]} ${p}_v::{cast}"
        parts.append(f"({cond})")
    return " OR ".join(parts) or "false", params
