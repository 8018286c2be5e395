"""The rule language: conditions over declared fields, compiled to parameterised DuckDB SQL.

A rule in the project YAML is ``{transaction, field, formula}`` where ``formula`` is a one-key
mapping from an operator to a value, e.g.::

    - {transaction: pos, field: amount, formula: {gt: 100}}
    - {transaction: pos, field: store, formula: {in: [S01, S02]}}

An experiment's audience and a variant's eligibility rules may also test the customer data:
``{transaction: customers, field: txt_country, formula: {eq: GB}}``; the field is a customer column,
typed by its name as on ingestion (see :func:`customer_field_type`).

Attribution's match criteria use the same operators in the form ``{field, op, value}``; both end
in a :class:`Condition` and are compiled by :func:`compile_condition`. A model's label rules
(pipeline.config.LabelRule, applied to `events` by pipeline/ml/labels.py) are this Rule with
``field`` and ``formula`` optional.

Operators: ``gt gte lt lte`` (numbers, dates, timestamps, strings), ``eq neq`` (any type),
``eqi`` (strings, case-insensitive equality), ``in`` (a non-empty list; any type but Bool),
``contains startswith`` (strings, case-sensitive). A value is typed by its field's type before it
is bound, so ``{gt: "100"}`` on a Decimal field compares numbers, and a value that does not fit the
type is a config error. A NULL cell never matches, not even ``neq``.

Values are always bound as parameters (``$r0``, ``$r1``, ...): the SQL text depends only on the
field, the operator and, for ``in``, the number of values, never on the values themselves.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import field_validator

from pipeline.core.settings import FieldType, Settings
from pipeline.core.sql import ident

ORDER_OPS = ("gt", "gte", "lt", "lte")
OPS = (*ORDER_OPS, "eq", "neq", "eqi", "in", "contains", "startswith")
_SQL_OP = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=", "neq": "<>"}
_STRING_ONLY = ("eqi", "contains", "startswith")


# What a rule value may be: an Int field is a BIGINT in the warehouse; a Decimal value is bound as
# a DECIMAL, whose widest form holds less than 1e20 with 18 decimals.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
DECIMAL_LIMIT = Decimal(10) ** 20


class RuleError(ValueError):
    """A rule that cannot be used; ``key`` is the key inside the rule (field, formula, ...)."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(message)


@dataclass(frozen=True)
class Condition:
    """One test of one field: ``field op value`` (value already typed by :func:`typed_value`)."""

    field: str
    op: str
    value: Any


class FieldFormula(Settings):
    """``{field, formula: {op: value}}``: one operator of OPS over one field."""

    field: str
    formula: dict[str, Any]

    @field_validator("formula")
    @classmethod
    def _one_operator(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is None:  # a rule kind whose formula is optional (a model's label rule: any row)
            return v
        if len(v) != 1:
            raise ValueError(
                f"formula must hold exactly one operator of {', '.join(OPS)}, e.g. {{gt: 100}}; "
                f"got {sorted(v)}"
            )
        (op,) = v
        if op not in OPS:
            raise ValueError(f"unknown operator {op!r}; use one of {', '.join(OPS)}")
        return v

    @property
    def op(self) -> str:
        return next(iter(self.formula))

    @property
    def value(self) -> Any:
        return self.formula[self.op]


class Rule(FieldFormula):
    """``{transaction, field, formula: {op: value}}`` as written in the project YAML."""

    transaction: str


def typed_value(value: Any, ftype: FieldType, op: str) -> Any:
    """The rule value as the Python value of the field's type (a list of them for ``in``)."""
    if op == "in":
        if not isinstance(value, list | tuple) or not value:
            raise RuleError("formula", f"'in' needs a non-empty list of values, not {value!r}")
        return [typed_value(v, ftype, "eq") for v in value]
    if isinstance(value, list | tuple | dict) or value is None:
        raise RuleError("formula", f"{op!r} needs one {ftype.value} value, not {value!r}")
    if op in _STRING_ONLY and ftype != FieldType.String:
        raise RuleError("formula", f"{op!r} works on String fields only; this field is {ftype.value}")
    if ftype == FieldType.Bool and op not in ("eq", "neq"):
        raise RuleError("formula", f"a Bool field takes only eq or neq, not {op!r}")
    try:
        typed = _convert(value, ftype)
    except (TypeError, ValueError, InvalidOperation, ArithmeticError):
        raise RuleError("formula", f"{value!r} is not a {ftype.value} value") from None
    if ftype == FieldType.Int and not INT_MIN <= typed <= INT_MAX:
        raise RuleError("formula", f"{value!r} is outside the Int range ({INT_MIN} to {INT_MAX})")
    if ftype == FieldType.Decimal and abs(typed) >= DECIMAL_LIMIT:
        raise RuleError("formula", f"{value!r} is outside the Decimal range (less than 1e20 in size)")
    return typed


def _convert(value: Any, ftype: FieldType) -> Any:
    if ftype == FieldType.String:
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise TypeError
        return str(value)
    if ftype == FieldType.Bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError
    if isinstance(value, bool):
        raise TypeError
    if ftype == FieldType.Int:
        if isinstance(value, float | Decimal) and value != int(value):
            raise ValueError
        return int(str(value)) if isinstance(value, str) else int(value)
    if ftype == FieldType.Decimal:
        d = Decimal(str(value))
        if not d.is_finite():
            raise ValueError
        return d
    if ftype == FieldType.Float:
        f = float(value)
        if not math.isfinite(f):
            raise ValueError
        return f
    if ftype == FieldType.Date:
        if isinstance(value, dt.datetime):
            raise TypeError
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    if ftype == FieldType.Timestamp:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time())
        ts = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
        # The warehouse keeps timestamps as UTC without a zone: a value with a zone is turned into that.
        return ts.astimezone(dt.UTC).replace(tzinfo=None) if ts.tzinfo else ts
    raise TypeError(ftype)


def condition(field: str, op: str, value: Any, schema: Mapping[str, FieldType]) -> Condition:
    """A checked Condition: the field is declared, the operator fits its type, the value is typed."""
    if field not in schema:
        raise RuleError("field", f"unknown field {field!r}; declared fields: {', '.join(sorted(schema))}")
    if op not in OPS:
        raise RuleError("op", f"unknown operator {op!r}; use one of {', '.join(OPS)}")
    return Condition(field, op, typed_value(value, FieldType(schema[field]), op))


# --- rules over the customer data: ``{transaction: customers, field, formula}`` ------

CUSTOMERS = "customers"  # the customer data set's name (its table, its dataset in `loads`)
CUSTOMER_ID_FIELDS = ("customuid", "emailsha256", "idfa", "dmpid")


def customer_field_type(name: str) -> FieldType:
    """The type of a customer data column, decided by its name as on ingestion (
    pipeline.ingest.customer_column): identifiers and txt_* are String, num_* Float, goal_* Bool,
    goal_*_timestamp Timestamp. attr_* (multi-value lists) take no rules."""
    if name in CUSTOMER_ID_FIELDS or (name.startswith("txt_") and len(name) > 4):
        return FieldType.String
    if name.startswith("num_") and len(name) > 4:
        return FieldType.Float
    if name.startswith("goal_") and name.endswith("_timestamp") and len(name) > len("goal__timestamp"):
        return FieldType.Timestamp
    if name.startswith("goal_") and len(name) > 5:
        return FieldType.Bool
    if name.startswith("attr_"):
        raise RuleError(
            "field",
            f"{name!r} is a multi-value attr_* column: rules over customers take "
            "customuid, emailsha256, idfa, dmpid, txt_*, num_*, goal_* or goal_*_timestamp",
        )
    raise RuleError(
        "field",
        f"{name!r} is not a customer data column; customer columns are customuid, emailsha256, "
        "idfa, dmpid, txt_* (String), num_* (Float), goal_* (Bool) and goal_*_timestamp (Timestamp), "
        "e.g. txt_country",
    )


def rule_condition(
    rule: Rule, schemas: Mapping[str, Mapping[str, FieldType]], customers: bool = False
) -> Condition:
    """The Condition of a YAML rule; ``schemas`` maps each transaction name to its fields' types.

    With ``customers`` (audience and eligibility rules), ``transaction: customers`` names the customer
    data set and the field is a customer column, typed by its name (:func:`customer_field_type`).
    """
    if customers and rule.transaction == CUSTOMERS:
        if CUSTOMERS in schemas:
            raise RuleError(
                "transaction",
                f"{CUSTOMERS!r} names the customer data in a rule, and a transaction "
                f"is named {CUSTOMERS!r} too; rename the transaction",
            )
        return condition(rule.field, rule.op, rule.value, {rule.field: customer_field_type(rule.field)})
    if rule.transaction not in schemas:
        also = (
            f" (or {CUSTOMERS}: the customer data)"
            if customers
            else " (customer attributes are for experiment audiences and variant rules)"
            if rule.transaction == CUSTOMERS
            else ""
        )
        raise RuleError(
            "transaction",
            f"unknown transaction {rule.transaction!r}; declared: {', '.join(sorted(schemas))}{also}",
        )
    return condition(rule.field, rule.op, rule.value, schemas[rule.transaction])


class Params:
    """Hands out parameter names ($r0, $r1, ... with a prefix) and collects their values."""

    def __init__(self, prefix: str = "r"):
        self.prefix = prefix
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> str:
        name = f"{self.prefix}{len(self.values)}"
        self.values[name] = value
        return "$" + name


def compile_condition(cond: Condition, params: Params, column: str | None = None) -> str:
    """SQL for one condition; ``column`` is the SQL expression of the field (default: its quoted name)."""
    col = column or ident(cond.field)
    if cond.op in _SQL_OP:
        return f"({col} {_SQL_OP[cond.op]} {params.add(cond.value)})"
    if cond.op == "eqi":
        return f"(lower({col}) = lower({params.add(cond.value)}))"
    if cond.op == "in":
        return f"({col} IN ({', '.join(params.add(v) for v in cond.value)}))"
    if cond.op == "contains":
        return f"contains({col}, {params.add(cond.value)})"
    if cond.op == "startswith":
        return f"starts_with({col}, {params.add(cond.value)})"
    raise ValueError(f"unknown operator {cond.op!r}")


def compile_all(conds: Iterable[Condition], params: Params, columns: Mapping[str, str] | None = None) -> str:
    """The conjunction of the conditions as one SQL boolean expression (TRUE when there are none)."""
    parts = [compile_condition(c, params, (columns or {}).get(c.field)) for c in conds]
    return " AND ".join(parts) if parts else "TRUE"


def evaluate(cond: Condition, cell: Any) -> bool:
    """Python reference semantics of a condition on one cell (the SQL must agree; tests check it)."""
    if cell is None:
        return False
    op, v = cond.op, cond.value
    if op == "in":
        return cell in v
    if op == "eqi":
        return cell.lower() == v.lower()
    if op == "contains":
        return v in cell
    if op == "startswith":
        return cell.startswith(v)
    return {
        "gt": cell > v,
        "gte": cell >= v,
        "lt": cell < v,
        "lte": cell <= v,
        "eq": cell == v,
        "neq": cell != v,
    }[op]
