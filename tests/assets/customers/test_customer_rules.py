"""Audience and eligibility rules over the customer data: ``{transaction: customers, field, formula}``.

A hand-built world goes through the real ingestion path (a customer CSV with txt_*, num_*, goal_*
columns, one pos file); decisions are pipeline.decisions.decide. The property test compiles random
customer rules with the decisions' own SQL over a `customers` table typed as ingestion types it.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.config import parse_config
from pipeline.core.rules import Params, Rule, RuleError, customer_field_type, evaluate, rule_condition
from pipeline.core.settings import ConfigError, FieldType
from pipeline.core.warehouse import connect
from pipeline.customers.events import build_events
from pipeline.customers.identity import build_identities
from pipeline.experiments.decisions import DecisionError, customer_rule_sql, decide
from pipeline.ingest.customers import ingest_customers
from pipeline.ingest.sources.local_files import landed_file
from pipeline.ingest.transactions import ingest_transaction
from pipeline.ingest.typing import customer_column
from tests.conftest import example_dict, make_config, write_pos

START = dt.date(2026, 1, 1)
DAY = dt.date(2026, 1, 3)

#            customuid, txt_country, num_age, goal_newsletter
CUSTOMERS = [
    ("K01", "GB", "34", "1"),
    ("K02", "FR", "51", "0"),
    ("K03", "GB", "", "1"),
    ("K04", "gb", "29", ""),
    ("K05", "", "45", "1"),
    ("K06", "GB", "30", "0"),
    ("K07", "DE", "30.5", "1"),
    ("K08", "GB", "18", "1"),
    ("K09", "IE", "", ""),
]
GB = {"K01", "K03", "K06", "K08"}
AGE_30_PLUS = {"K01", "K02", "K05", "K06", "K07"}
NEWSLETTER = {"K01", "K03", "K05", "K07", "K08"}
BOUGHT = {"K01", "K02", "K06", "K09"}  # a pos row on START


def rules_config(folder: Path, **changes):
    data = example_dict()
    variants = data["variants"] + [
        {"name": "a", "message": "A"},
        {"name": "b", "message": "B"},
        {
            "name": "senior",
            "message": "S",
            "rules": [{"transaction": "customers", "field": "num_age", "formula": {"gte": 30}}],
        },
        {
            "name": "letter",
            "message": "L",
            "rules": [{"transaction": "customers", "field": "goal_newsletter", "formula": {"eq": True}}],
        },
    ]
    experiments = [
        {
            "name": "gb",
            "type": "AB",
            "variants": ["a"],
            "control_share": 0,
            "audience": [{"transaction": "customers", "field": "txt_country", "formula": {"eq": "GB"}}],
        },
        {
            "name": "gb_buyers",
            "type": "AB",
            "variants": ["a"],
            "control_share": 0,
            "audience": [
                {"transaction": "customers", "field": "txt_country", "formula": {"in": ["GB", "IE"]}},
                {"transaction": "pos", "field": "amount", "formula": {"gt": 0}},
            ],
        },
        {"name": "senior_only", "type": "AB", "variants": ["senior"], "control_share": 0},
        {"name": "mixed", "type": "AB", "variants": ["b", "senior", "letter"], "control_share": 0},
    ]
    data = dict(
        transactions=[data["transactions"][0]], variants=variants, experiments=experiments, retention={}
    )
    data.update(changes)
    return make_config(folder, START, **data)


def build_world(folder: Path, config) -> None:
    files = folder / "files"
    files.mkdir(parents=True, exist_ok=True)
    lines = ["customuid,txt_country,num_age,goal_newsletter"] + [",".join(c) for c in CUSTOMERS]
    (files / "customers_20260101.csv").write_text("\n".join(lines) + "\n")
    write_pos(files, START, [f"O{i},{c},ST01,SKU1,1,10.00" for i, c in enumerate(sorted(BOUGHT))])
    with connect(config.warehouse_path) as con:
        r = ingest_customers(
            con, config.customers, "upload", landed_file(files / "customers_20260101.csv", START), "create"
        )
        assert r.status != "FAILED", r.error
        ingest_transaction(
            con,
            config.transaction("pos"),
            "upload",
            landed_file(files / "trans_pos_20260101.csv", START),
            START,
        )
        build_identities(con, config)
        build_events(con, config, START)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("customer_rules")
    config = rules_config(folder)
    build_world(folder, config)
    with connect(config.warehouse_path) as con:
        decide(con, config, DAY)
    return config


def decided(config, experiment: str) -> dict[str, str]:
    with connect(config.warehouse_path, read_only=True) as con:
        return dict(
            con.execute(
                "SELECT customer_id, variant FROM results WHERE date = $d AND experiment = $e",
                {"d": DAY, "e": experiment},
            ).fetchall()
        )


def test_an_audience_rule_on_a_customer_attribute_selects_exactly_those_customers(world):
    # eq is case-sensitive (K04 is 'gb'); an empty cell is NULL and never matches
    assert set(decided(world, "gb")) == GB
    # with a transaction rule too: every rule must hold
    assert set(decided(world, "gb_buyers")) == (GB | {"K09"}) & BOUGHT == {"K01", "K06", "K09"}


def test_a_variant_eligibility_rule_on_a_customer_attribute(world):
    # the only variant needs num_age >= 30 (a Float column: 30 and 30.5 count, a missing age does not)
    assert decided(world, "senior_only") == {c: "senior" for c in AGE_30_PLUS}
    # b is open to all; senior and letter only to their customers; nobody gets a variant they are
    # not eligible for
    mixed = decided(world, "mixed")
    assert set(mixed) == {c for c, *_ in CUSTOMERS}
    assert {c for c, v in mixed.items() if v == "senior"} <= AGE_30_PLUS
    assert {c for c, v in mixed.items() if v == "letter"} <= NEWSLETTER
    with connect(world.warehouse_path, read_only=True) as con:
        reasons = dict(
            con.execute(
                "SELECT customer_id, reason FROM results WHERE date = $d AND experiment = 'mixed'", {"d": DAY}
            ).fetchall()
        )
    # K01 is eligible for all three, K09 only for b, K03 for b and letter
    assert reasons["K01"].endswith("among 3 eligible variant(s)")
    assert reasons["K09"].endswith("among 1 eligible variant(s)") and mixed["K09"] == "b"
    assert reasons["K03"].endswith("among 2 eligible variant(s)")


def test_a_column_missing_from_the_customer_data_is_an_error_naming_the_rule(tmp_path):
    audience = [{"transaction": "customers", "field": "txt_segment", "formula": {"eq": "x"}}]
    config = rules_config(
        tmp_path, experiments=[{"name": "gb", "type": "AB", "variants": ["a"], "audience": audience}]
    )
    build_world(tmp_path, config)
    with connect(config.warehouse_path) as con, pytest.raises(DecisionError) as e:
        decide(con, config, DAY)
    assert str(e.value).startswith(
        "experiments[0].audience[0].field: the customer data has no column 'txt_segment'"
    )
    assert "txt_country" in str(e.value)
    with connect(config.warehouse_path, read_only=True) as con:  # nothing was written
        assert con.execute("SELECT count(*) FROM results").fetchall() == [(0,)]


# --- the compiled SQL agrees with rules.evaluate() on random customer rows --------------------------

COLUMNS = {
    "txt_country": st.sampled_from(["GB", "gb", "FR", "G", "", "B'%"]),
    "num_age": st.floats(-5, 90, allow_nan=False, width=32).map(float) | st.integers(0, 3).map(float),
    "goal_news": st.booleans(),
    "goal_news_timestamp": st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 1, 0, 0, 4)),
}
OPS_BY_TYPE = {
    FieldType.String: ["gt", "gte", "lt", "lte", "eq", "neq", "eqi", "in", "contains", "startswith"],
    FieldType.Float: ["gt", "gte", "lt", "lte", "eq", "neq", "in"],
    FieldType.Bool: ["eq", "neq", "in"],
    FieldType.Timestamp: ["gt", "gte", "lt", "lte", "eq", "neq", "in"],
}


@st.composite
def customer_rules(draw):
    field = draw(st.sampled_from(sorted(COLUMNS)))
    op = draw(st.sampled_from(OPS_BY_TYPE[customer_field_type(field)]))
    value = draw(st.lists(COLUMNS[field], min_size=1, max_size=3)) if op == "in" else draw(COLUMNS[field])
    if isinstance(value, dt.datetime) or (isinstance(value, list) and isinstance(value[0], dt.datetime)):
        value = (
            [v.isoformat() for v in value] if isinstance(value, list) else value.isoformat()
        )  # as YAML gives it
    return Rule(transaction="customers", field=field, formula={op: value})


ROWS = st.lists(st.fixed_dictionaries({k: st.one_of(st.none(), v) for k, v in COLUMNS.items()}), max_size=10)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=st.lists(customer_rules(), min_size=1, max_size=3), rows=ROWS)
def test_compiled_customer_rules_agree_with_python(rules, rows):
    con = duckdb.connect()
    cols = list(COLUMNS)
    # the column types ingestion gives these names (pipeline.ingest.customer_column)
    con.execute(
        "CREATE TABLE customers (customuid VARCHAR, "
        + ", ".join(f"{c} {customer_column(c).sql_type}" for c in cols)
        + ")"
    )
    con.execute("CREATE TABLE _people AS SELECT 'C' || range AS customer_id FROM range($n)", {"n": len(rows)})
    if rows:
        con.executemany(
            f"INSERT INTO customers VALUES (?, {', '.join('?' for _ in cols)})",
            [[f"C{n}"] + [r[c] for c in cols] for n, r in enumerate(rows)],
        )
    params = Params()
    where = " AND ".join(customer_rule_sql(con, r, params, "p.customer_id", "rule") for r in rules)
    got = {
        r[0]
        for r in con.execute(f"SELECT p.customer_id FROM _people p WHERE {where}", params.values).fetchall()
    }
    conds = [rule_condition(r, {}, customers=True) for r in rules]
    want = {f"C{n}" for n, r in enumerate(rows) if all(evaluate(c, r[c.field]) for c in conds)}
    assert got == want


def test_customer_column_types_follow_ingestion():
    sql_of = {
        FieldType.String: "VARCHAR",
        FieldType.Float: "DOUBLE",
        FieldType.Bool: "BOOLEAN",
        FieldType.Timestamp: "TIMESTAMP",
    }
    for name in (
        "customuid",
        "emailsha256",
        "idfa",
        "dmpid",
        "txt_city",
        "num_age",
        "goal_x",
        "goal_x_timestamp",
    ):
        assert sql_of[customer_field_type(name)] == customer_column(name).sql_type, name
    assert customer_field_type("goal_timestamp") == FieldType.Bool  # a goal named "timestamp", not its time
    for name, message in [
        ("country", "not a customer data column"),
        ("attr_hobbies", "multi-value attr_*"),
        ("txt_", "not a customer data column"),
    ]:
        with pytest.raises(RuleError, match=message):
            customer_field_type(name)


# --- config errors name the key path ----------------------------------------------------------------


def errors(change) -> list[tuple[str, str]]:
    data = copy.deepcopy(example_dict())
    change(data)
    with pytest.raises(ConfigError) as e:
        parse_config(data, "nightjar.yaml", Path("."))
    return e.value.problems


def _audience(rule):
    return lambda d: d["experiments"][0].__setitem__("audience", [rule])


@pytest.mark.parametrize(
    "change, path, message",
    [
        (
            _audience({"transaction": "customers", "field": "country", "formula": {"eq": "GB"}}),
            "experiments[0].audience[0].field",
            "'country' is not a customer data column",
        ),
        (
            lambda d: d["variants"][1].__setitem__(
                "rules", [{"transaction": "customers", "field": "attr_hobbies", "formula": {"contains": "x"}}]
            ),
            "variants[1].rules[0].field",
            "multi-value attr_*",
        ),
        (
            _audience({"transaction": "customers", "field": "num_age", "formula": {"gt": "old"}}),
            "experiments[0].audience[0].formula",
            "'old' is not a Float value",
        ),
        (
            _audience({"transaction": "customers", "field": "txt_city", "formula": {"gt": [1, 2]}}),
            "experiments[0].audience[0].formula",
            "needs one String value",
        ),
        (
            lambda d: d["conversions"]["definitions"][0].__setitem__(
                "rules", [{"transaction": "customers", "field": "txt_city", "formula": {"eq": "x"}}]
            ),
            "conversions.definitions[0].rules[0].transaction",
            "customer attributes are for experiment audiences",
        ),
        (
            lambda d: (
                d.pop("customers"),
                _audience({"transaction": "customers", "field": "txt_city", "formula": {"eq": "x"}})(d),
            ),
            "experiments[0].audience[0].transaction",
            "needs customer data",
        ),
    ],
)
def test_wrong_customer_rules_are_config_errors_naming_the_key(change, path, message):
    problems = errors(change)
    assert len(problems) == 1, problems
    assert problems[0][0] == path and message in problems[0][1], problems


def test_a_good_customer_rule_is_typed_by_the_column():
    data = copy.deepcopy(example_dict())
    _audience({"transaction": "customers", "field": "num_age", "formula": {"in": ["30", 40]}})(data)
    config = parse_config(data, "nightjar.yaml", Path("."))
    cond = rule_condition(config.experiments[0].audience[0], {}, customers=True)
    assert (cond.field, cond.op, cond.value) == ("num_age", "in", [30.0, 40.0])
