"""A group's choice of experiment (sql/experiments/decide.sql) over a small warehouse in memory: it
never skews the variants' shares within an experiment away from their logged assignment_probability,
and the kept customers explore at the experiment's `exploration`."""

from __future__ import annotations

import copy
import datetime as dt
import math
from pathlib import Path

import duckdb

from pipeline.config import parse_config
from pipeline.core.sql import sql
from pipeline.experiments.decisions import decide
from tests.conftest import example_dict

DAY = dt.date(2026, 3, 1)
CUSTOMERS = 20_000
EXPLORATION = 0.5
TOLERANCE = 5  # standard errors: the draws are hashes of (customer, experiment, day), so fixed


def group_config():
    """Two uniform experiments in one group, exploring half the time, without control or reach."""
    data = copy.deepcopy(example_dict())
    data.pop("models", None)
    for variant in data["variants"]:
        variant.pop("reach", None)
    common = {"policy": "uniform", "control_share": 0.0, "exploration": EXPLORATION}
    data["experiments"] = [
        {"name": "offer", "type": "NBO", "variants": ["discount_10", "discount_20"], **common},
        {"name": "channel", "type": "NBC", "variants": ["email", "sms"], **common},
    ]
    data["groups"] = [{"name": "g", "experiments": ["offer", "channel"]}]
    definitions = data["conversions"]["definitions"]
    data["conversions"]["definitions"] = [d for d in definitions if d["experiment"] in ("offer", "channel")]
    return parse_config(data, "nightjar.yaml", Path("."))


def warehouse() -> duckdb.DuckDBPyConnection:
    """The customers, and closed windows in which each experiment's first variant converted 90% of
    1,000 presentations and its second 10% (propensities 0.899 and 0.101)."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE customers AS SELECT 'k' || i AS customuid, TIMESTAMP '2026-01-01' AS _first_seen_at "
        "FROM range($n) t(i)",
        {"n": CUSTOMERS},
    )
    con.execute(sql("experiments/create_conversions"))
    con.execute("""INSERT INTO conversions
                   SELECT DATE '2026-01-20', 'h' || v || i, e, v, FALSE, i < n, (i < n)::INT, 0, NULL,
                          TIMESTAMP '2026-01-20', TIMESTAMP '2026-02-19', TRUE, FALSE, v
                   FROM (VALUES ('offer', 'discount_10', 900), ('offer', 'discount_20', 100),
                                ('channel', 'email', 900), ('channel', 'sms', 100)) t(e, v, n),
                        range(1000) r(i)""")
    return con


def test_a_group_keeps_the_logged_variant_shares_and_the_exploration_rate():
    con = warehouse()
    assert decide(con, group_config(), DAY) == CUSTOMERS  # one experiment per customer
    shares = con.execute(
        """SELECT experiment, variant, n / sum(n) OVER (PARTITION BY experiment), logged,
                  sum(n) OVER (PARTITION BY experiment)
           FROM (SELECT experiment, variant, count(*) AS n, avg(assignment_probability) AS logged
                 FROM results GROUP BY experiment, variant)
           ORDER BY ALL"""
    ).fetchall()
    assert len(shares) == 4
    for _, variant, share, logged, kept in shares:
        assert kept > CUSTOMERS / 4  # the hash breaks the ties of equal expected values
        assert 0.25 < logged < 0.75 and (variant in ("discount_10", "email")) == (logged > 0.5)
        assert abs(share - logged) < TOLERANCE * math.sqrt(logged * (1 - logged) / kept)
    explored = con.execute(
        "SELECT experiment, avg((reason LIKE 'exploration%')::INT), count(*) FROM results GROUP BY ALL"
    ).fetchall()
    for _, rate, kept in explored:
        assert abs(rate - EXPLORATION) < TOLERANCE * math.sqrt(EXPLORATION * (1 - EXPLORATION) / kept)


def test_a_group_shares_its_cadence_so_a_customer_is_decided_once_in_every_n_nights_across_it():
    """cadence_days 3 on both experiments of the group: over six nights each customer gets one
    decision of the group every third night (the same night of the cycle for both experiments), never
    one of `offer` and another of `channel` fewer than 3 nights apart."""
    cadence = 3
    config = group_config()
    config = config.model_copy(
        update={"experiments": [e.model_copy(update={"cadence_days": cadence}) for e in config.experiments]}
    )
    con = warehouse()
    for k in range(2 * cadence):
        decide(con, config, DAY + dt.timedelta(days=k))
    gaps = con.execute(
        "SELECT customer_id, list(date ORDER BY date) FROM results GROUP BY customer_id"
    ).fetchall()
    assert len(gaps) == CUSTOMERS  # everyone qualifies: each customer is decided on its nights
    first_cycle = DAY + dt.timedelta(days=cadence)
    assert all(
        len(dates) == 2 and dates[0] < first_cycle and (dates[1] - dates[0]).days == cadence
        for _, dates in gaps
    )
    # the group still chooses between its experiments on the customer's night
    both = con.execute("SELECT experiment, count(*) FROM results GROUP BY ALL ORDER BY 1").fetchall()
    assert [e for e, _ in both] == ["channel", "offer"] and all(n > CUSTOMERS / 2 for _, n in both)
