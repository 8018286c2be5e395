"""The report's cumulative scope (pipeline/experiments/report.py) over a small `conversions` table in
memory: every variant has a row at every presentation date of its experiment from its own first date
on, also on a date without presentations of its own."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from pipeline.config import parse_config
from pipeline.core.sql import sql
from pipeline.experiments.report import build_report
from tests.conftest import example_dict

D1, D2 = dt.date(2026, 1, 1), dt.date(2026, 1, 2)
# (date, variant, presented, one in `every` converts): control (share 0.2) is presented on D1 only,
# discount_20 on D2 only
PRESENTATIONS = [
    (D1, "control", 200, 10),
    (D1, "discount_10", 800, 5),
    (D2, "discount_10", 4, 2),
    (D2, "discount_20", 4, 2),
]
INSERT = """INSERT INTO conversions (date, customer_id, experiment, variant, is_control, converted,
                conversions, value, window_start, window_end, window_complete)
            SELECT $date, $variant || i, 'offer', $variant, $variant = 'control', i % $every = 0,
                   (i % $every = 0)::INT, 0, $date::TIMESTAMP, $date::TIMESTAMP + INTERVAL 30 DAY, TRUE
            FROM range($presented) t(i)"""


def test_a_variant_without_presentations_on_a_date_keeps_its_cumulative_row():
    con = duckdb.connect()
    con.execute(sql("experiments/create_conversions"))
    for date, variant, presented, every in PRESENTATIONS:  # four aggregate rows, not customers
        con.execute(INSERT, {"date": date, "variant": variant, "presented": presented, "every": every})
    build_report(con, parse_config(example_dict(), "nightjar.yaml", Path(".")))
    cur = con.execute("SELECT * FROM experiment_report WHERE metric = 'primary' ORDER BY to_date, variant")
    names = [c[0] for c in cur.description]
    report = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    rows = {(r["scope"], r["to_date"], r["variant"]): r for r in report}
    assert ("cumulative", D1, "discount_20") not in rows  # no row before a variant's first date
    control = rows["cumulative", D2, "control"]  # carried over from D1
    assert (control["presented"], control["converted"], control["from_date"]) == (200, 20, D1)
    # on the last date the cumulative rows are the totals: lifts, p-values, corrections, SRM
    for variant in ("control", "discount_10", "discount_20"):
        cumulative, total = rows["cumulative", D2, variant], rows["total", D2, variant]
        assert {**cumulative, "scope": "total"} == total
    treated = rows["cumulative", D2, "discount_10"]
    assert treated["presented"] == 804 and treated["abs_lift"] is not None
    assert treated["p_value_adjusted"] is not None
    assert not treated["srm_mismatch"] and not control["srm_mismatch"]
