"""Who `decide` decides (pipeline/experiments/decisions.py) over a small warehouse in memory: the audience
(rules and cadence) selected once an experiment, each variant's rules and reach within it, and a day
without an active experiment, which only loses its rows."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from pathlib import Path

import duckdb

from pipeline.config import parse_config
from pipeline.core.sql import sql
from pipeline.experiments.decisions import decide, prepare_results
from tests.conftest import example_dict

DAY = dt.date(2026, 3, 1)
CUSTOMERS = 2000
CADENCE = 3


def config(**experiment):
    """One uniform NBC experiment (`channel`: email reaches the customers with an emailsha256, sms
    everyone) over the gold and silver customers, on a cadence, without control."""
    data = copy.deepcopy(example_dict())
    data.pop("models", None)
    for variant in data["variants"]:
        if variant["name"] == "sms":
            variant.pop("reach", None)
    data["experiments"] = [
        {
            "name": "channel",
            "type": "NBC",
            "variants": ["email", "sms"],
            "policy": "uniform",
            "control_share": 0.0,
            "exploration": 1.0,
            "cadence_days": CADENCE,
            "audience": [
                {"transaction": "customers", "field": "txt_segment", "formula": {"in": ["gold", "silver"]}}
            ],
            **experiment,
        }
    ]
    data["groups"] = []
    data["conversions"]["definitions"] = [
        d for d in data["conversions"]["definitions"] if d["experiment"] == "channel"
    ]
    return parse_config(data, "nightjar.yaml", Path("."))


def warehouse() -> duckdb.DuckDBPyConnection:
    """Customers k0.. in three segments; every fifth has an e-mail hash."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE customers AS SELECT 'k' || i AS customuid, TIMESTAMP '2026-01-01' AS _first_seen_at, "
        "['gold', 'silver', 'bronze'][i % 3 + 1] AS txt_segment FROM range($n) t(i)",
        {"n": CUSTOMERS},
    )
    con.execute(sql("customers/identity/create_identities"))
    con.execute(
        "INSERT INTO customer_identities SELECT 'k' || i, 'emailsha256', 'e' || i, 'customers', FALSE, FALSE "
        "FROM range($n) t(i) WHERE i % 5 = 0",
        {"n": CUSTOMERS},
    )
    return con


def unit(text: str) -> float:
    """sql/experiments/prepare_decisions.sql's _unit."""
    return (int(hashlib.md5(text.encode()).hexdigest()[:13], 16) + 0.5) / 2**52


def test_each_variant_s_reach_applies_within_the_audience_of_the_customer_s_night():
    con = warehouse()
    decided = decide(con, config(), DAY)
    rows = con.execute("SELECT customer_id, list_sort(eligible_variants) FROM results").fetchall()
    night = (DAY - dt.date(1970, 1, 1)).days % CADENCE
    expected = {
        f"k{i}"
        for i in range(CUSTOMERS)
        if i % 3 in (0, 1) and int(CADENCE * unit(f"k{i}|channel|cadence")) == night
    }
    assert decided == len(rows) == len(expected) > CUSTOMERS / 10
    assert {c for c, _ in rows} == expected
    for customer, eligible in rows:  # email only where the customer data holds an e-mail hash
        assert eligible == (["email", "sms"] if int(customer[1:]) % 5 == 0 else ["sms"])


def test_a_day_without_an_active_experiment_only_loses_its_rows():
    """The experiment ended on DAY: deciding DAY + 1 again deletes the rows it had (decided while the
    experiment ran) and writes none; DAY's rows stay."""
    con = warehouse()
    running = config(cadence_days=None)
    later = DAY + dt.timedelta(days=1)
    prepare_results(con)
    before = decide(con, running, DAY, prepared=True), decide(con, running, later, prepared=True)
    assert before[0] == before[1] == 2 * CUSTOMERS // 3 + (CUSTOMERS % 3 > 0)
    kept = con.execute("SELECT * FROM results WHERE date = $d ORDER BY ALL", {"d": DAY}).fetchall()
    ended = config(cadence_days=None, end=DAY.isoformat())
    assert decide(con, ended, later) == 0
    assert con.execute("SELECT DISTINCT date FROM results").fetchall() == [(DAY,)]
    assert con.execute("SELECT * FROM results WHERE date = $d ORDER BY ALL", {"d": DAY}).fetchall() == kept
