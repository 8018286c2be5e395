"""The rule language: typing, errors, compiled SQL agrees with Python, values never shape the SQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.rules import (
    OPS,
    Condition,
    Params,
    Rule,
    RuleError,
    compile_all,
    compile_condition,
    condition,
    evaluate,
    rule_condition,
)
from pipeline.core.settings import FieldType

SCHEMA = {
    "s": FieldType.String,
    "i": FieldType.Int,
    "d": FieldType.Decimal,
    "f": FieldType.Float,
    "b": FieldType.Bool,
    "day": FieldType.Date,
    "ts": FieldType.Timestamp,
}
SQL_TYPES = {
    "s": "VARCHAR",
    "i": "BIGINT",
    "d": "DECIMAL(18,4)",
    "f": "DOUBLE",
    "b": "BOOLEAN",
    "day": "DATE",
    "ts": "TIMESTAMP",
}


def test_rule_from_yaml_shape():
    r = Rule.model_validate({"transaction": "pos", "field": "amount", "formula": {"gt": 100}})
    c = rule_condition(r, {"pos": {"amount": FieldType.Decimal}})
    assert c == Condition("amount", "gt", Decimal("100"))


@pytest.mark.parametrize(
    "formula, message",
    [
        ({"gt": 1, "lt": 2}, "exactly one operator"),
        ({"between": 1}, "unknown operator 'between'"),
        ({}, "exactly one operator"),
    ],
)
def test_formula_shape_errors(formula, message):
    with pytest.raises(ValueError, match=message):
        Rule.model_validate({"transaction": "pos", "field": "amount", "formula": formula})


@pytest.mark.parametrize(
    "field, op, value, key, message",
    [
        ("nope", "eq", 1, "field", "unknown field 'nope'"),
        ("i", "gt", "abc", "formula", "'abc' is not a Int value"),
        ("i", "gt", 1.5, "formula", "1.5 is not a Int value"),
        ("d", "gt", "Infinity", "formula", "is not a Decimal value"),
        ("f", "lt", "nan", "formula", "is not a Float value"),
        ("b", "gt", True, "formula", "Bool field takes only eq or neq"),
        ("b", "eq", "yes", "formula", "'yes' is not a Bool value"),
        ("i", "contains", "1", "formula", "String fields only"),
        ("s", "in", [], "formula", "non-empty list"),
        ("s", "in", "a", "formula", "non-empty list"),
        ("s", "eq", ["a"], "formula", "needs one String value"),
        ("s", "eq", None, "formula", "needs one String value"),
        ("day", "gt", "2026-02-30", "formula", "is not a Date value"),
        ("day", "gt", dt.datetime(2026, 1, 1), "formula", "is not a Date value"),
        ("s", "like", "a", "op", "unknown operator 'like'"),
    ],
)
def test_condition_errors_name_the_key(field, op, value, key, message):
    with pytest.raises(RuleError, match=message) as e:
        condition(field, op, value, SCHEMA)
    assert e.value.key == key


def test_rule_errors_name_the_transaction():
    r = Rule.model_validate({"transaction": "web", "field": "s", "formula": {"eq": "x"}})
    with pytest.raises(RuleError, match="unknown transaction 'web'") as e:
        rule_condition(r, {"pos": SCHEMA})
    assert e.value.key == "transaction"


def test_values_are_typed_by_the_field():
    assert condition("i", "in", ["1", 2], SCHEMA).value == [1, 2]
    assert condition("s", "eq", 42, SCHEMA).value == "42"
    assert condition("b", "eq", "TRUE", SCHEMA).value is True
    assert condition("day", "gte", "2026-03-01", SCHEMA).value == dt.date(2026, 3, 1)
    # A zone is turned into UTC, the warehouse's zone-less timestamps.
    assert condition("ts", "lt", "2026-03-01T02:00:00+02:00", SCHEMA).value == dt.datetime(2026, 3, 1)


def test_hand_computed_case():
    con = duckdb.connect()
    con.execute("CREATE TABLE t (s VARCHAR, d DECIMAL(18,4))")
    con.execute(
        "INSERT INTO t VALUES ('Email', 100), ('email', 100.0001), ('Paid Search', 250), (NULL, NULL)"
    )
    params = Params()
    where = compile_all([condition("s", "eqi", "EMAIL", SCHEMA), condition("d", "gt", "100", SCHEMA)], params)
    rows = con.execute(f"SELECT s FROM t WHERE {where}", params.values).fetchall()
    assert rows == [("email",)]
    # neq never matches NULL; startswith/contains are case-sensitive.
    for op, value, expected in [
        ("neq", "Email", {"email", "Paid Search"}),
        ("startswith", "Paid", {"Paid Search"}),
        ("contains", "mail", {"Email", "email"}),
        ("contains", "MAIL", set()),
    ]:
        p = Params()
        sql = compile_condition(condition("s", op, value, SCHEMA), p)
        assert {r[0] for r in con.execute(f"SELECT s FROM t WHERE {sql}", p.values).fetchall()} == expected
    assert compile_all([], Params()) == "TRUE"


# --- property tests -------------------------------------------------------------------------

TEXT = st.text(alphabet="aAbB é'\"%_;-\\", max_size=6)
CELLS = {
    "s": TEXT,
    "i": st.integers(-5, 5),
    "d": st.decimals(-10, 10, places=4, allow_nan=False, allow_infinity=False),
    "f": st.floats(-10, 10, allow_nan=False, width=32).map(float),
    "b": st.booleans(),
    "day": st.dates(dt.date(2025, 12, 25), dt.date(2026, 1, 5)),
    "ts": st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 1, 0, 0, 5)),
}


def _ops_for(field: str) -> list[str]:
    if SCHEMA[field] == FieldType.String:
        return list(OPS)
    if SCHEMA[field] == FieldType.Bool:
        return ["eq", "neq", "in"]
    return [op for op in OPS if op not in ("eqi", "contains", "startswith")]


@st.composite
def conditions(draw):
    field = draw(st.sampled_from(sorted(SCHEMA)))
    op = draw(st.sampled_from(_ops_for(field)))
    value = draw(st.lists(CELLS[field], min_size=1, max_size=3)) if op == "in" else draw(CELLS[field])
    return condition(field, op, value, SCHEMA)


ROWS = st.lists(st.fixed_dictionaries({k: st.one_of(st.none(), v) for k, v in CELLS.items()}), max_size=12)


@pytest.fixture(scope="module")
def memory():
    """One in-memory database for every example (opening one costs about 50 ms): each makes its own table."""
    con = duckdb.connect()
    yield con
    con.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conds=st.lists(conditions(), min_size=1, max_size=3), rows=ROWS)
def test_compiled_sql_agrees_with_python(memory, conds, rows):
    con = memory
    columns = ", ".join(f"{k} {v}" for k, v in SQL_TYPES.items())
    con.execute(f"CREATE OR REPLACE TABLE t (n INTEGER, {columns})")
    if rows:
        cols = list(SQL_TYPES)
        con.executemany(
            f"INSERT INTO t VALUES (?, {', '.join('?' for _ in cols)})",
            [[n] + [r[c] for c in cols] for n, r in enumerate(rows)],
        )
    params = Params()
    where = compile_all(conds, params)
    got = {r[0] for r in con.execute(f"SELECT n FROM t WHERE {where}", params.values).fetchall()}
    want = {n for n, r in enumerate(rows) if all(evaluate(c, r[c.field]) for c in conds)}
    assert got == want


@settings(max_examples=100, deadline=None)
@given(
    a=st.text(max_size=20),
    b=st.text(max_size=20),
    op=st.sampled_from(["eq", "eqi", "contains", "startswith", "gt"]),
)
def test_no_value_changes_the_sql(a, b, op):
    pa, pb = Params(), Params()
    sql_a = compile_condition(condition("s", op, a, SCHEMA), pa)
    sql_b = compile_condition(condition("s", op, b, SCHEMA), pb)
    assert sql_a == sql_b
    assert pa.values == {"r0": a} and pb.values == {"r0": b}
