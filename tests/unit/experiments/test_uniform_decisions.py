"""The uniform policy's draw (sql/experiments/decide.sql) over a small warehouse in memory."""

from __future__ import annotations

import datetime as dt

import duckdb

from pipeline.core.sql import sql
from pipeline.experiments.decisions import decide
from tests.unit.experiments.test_group_decisions import group_config

DAY = dt.date(2026, 3, 1)
CUSTOMERS = 5000


def test_a_variant_added_to_a_running_experiment_is_drawn_at_the_others_mean_propensity():
    """`offer`'s discount_10 converted 3 % of 1,000 closed presentations and discount_20 4 %;
    free_shipping is new, without a closed window yet. It was drawn at the prior 0.5, as if it converted
    half the time: 0.5 / (0.031 + 0.041 + 0.5) of the draws, three quarters of every send for a
    whole conversion window. It now takes the mean of the others' propensities, a third."""
    config = group_config()
    offer = config.experiment("offer").model_copy(
        update={"variants": ["discount_10", "discount_20", "free_shipping"], "exploration": 0.0}
    )
    config = config.model_copy(update={"experiments": [offer], "groups": []})
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE customers AS SELECT 'k' || i AS customuid, TIMESTAMP '2026-01-01' AS _first_seen_at "
        "FROM range($n) t(i)",
        {"n": CUSTOMERS},
    )
    con.execute(sql("experiments/create_conversions"))
    con.execute("""INSERT INTO conversions
                   SELECT DATE '2026-01-20', 'h' || v || i, 'offer', v, FALSE, i < n, (i < n)::INT, 0, NULL,
                          TIMESTAMP '2026-01-20', TIMESTAMP '2026-02-19', TRUE, FALSE, v
                   FROM (VALUES ('discount_10', 30), ('discount_20', 40)) t(v, n), range(1000) r(i)""")
    decide(con, config, DAY)
    logged = dict(
        con.execute("SELECT variant, max(assignment_probability) FROM results GROUP BY ALL").fetchall()
    )
    rates = {"discount_10": 31 / 1002, "discount_20": 41 / 1002}
    rates["free_shipping"] = (rates["discount_10"] + rates["discount_20"]) / 2
    for variant, rate in rates.items():
        assert abs(logged[variant] - rate / sum(rates.values())) < 1e-12  # no control: the draw alone
    assert abs(logged["free_shipping"] - 1 / 3) < 1e-12
