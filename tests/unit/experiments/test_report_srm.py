"""The report's sample-ratio check (pipeline/experiments/report.py) over a small `conversions` table in
memory: control membership is drawn per customer, so the split tested is of customers, however often
each was presented."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from pipeline.config import parse_config
from pipeline.core.sql import sql
from pipeline.experiments import stats
from pipeline.experiments.report import build_report
from tests.conftest import example_dict

D1 = dt.date(2026, 1, 1)
# one row per (date, customer): customers 0..control-1 held out, the others given discount_10
INSERT = """INSERT INTO conversions (date, customer_id, experiment, variant, is_control, converted,
                conversions, value, window_start, window_end, window_complete)
            SELECT d, 'k' || i, 'offer', CASE WHEN i < $control THEN 'control' ELSE 'discount_10' END,
                   i < $control, i % 7 = 0, (i % 7 = 0)::INT, 0, d::TIMESTAMP,
                   d::TIMESTAMP + INTERVAL 30 DAY, TRUE
            FROM range($customers) t(i),
                 (SELECT $first::DATE + k::INT AS d FROM range($nights) n(k)) AS days
            WHERE i >= $from_customer"""


def report(control: int, customers: int, nights: int, later: int = 0) -> duckdb.DuckDBPyConnection:
    """The report of `offer` (control share 0.2): ``customers`` presented on ``nights`` nights from D1,
    the first ``control`` held out; ``later`` more treated ones presented from the second night on."""
    con = duckdb.connect()
    con.execute(sql("experiments/create_conversions"))
    values = {"control": control, "customers": customers, "nights": nights, "first": D1, "from_customer": 0}
    con.execute(INSERT, values)
    if later:
        second = {"customers": customers + later, "nights": nights - 1, "first": D1 + dt.timedelta(1)}
        con.execute(INSERT, {**values, **second, "from_customer": customers})
    build_report(con, parse_config(example_dict(), "nightjar.yaml", Path(".")))
    return con


def srm_of(con: duckdb.DuckDBPyConnection, scope: str) -> list[tuple]:
    return con.execute(
        "SELECT DISTINCT to_date, srm_chi2, srm_p_value, srm_mismatch FROM experiment_report "
        "WHERE scope = $s ORDER BY 1",
        {"s": scope},
    ).fetchall()


def test_a_healthy_split_presented_every_night_is_not_a_mismatch():
    # 220 of 1,000 customers held out where 20% were asked (p = 0.11 over customers), each presented
    # on 30 nights: 6,600 of 30,000 presentations gave chi-square 75 and flagged a mismatch (with 5
    # presentations a customer, 14% of healthy experiments were flagged at the 0.001 level; with 28, 55%)
    con = report(control=220, customers=1000, nights=30)
    want = stats.srm(220, 780, 0.2)
    assert want.p_value == pytest.approx(0.1138, abs=1e-4)
    for scope in ("total", "cumulative"):
        for _, chi2, p, mismatch in srm_of(con, scope):
            assert (chi2, p, mismatch) == (
                pytest.approx(want.chi2, abs=1e-12),
                pytest.approx(want.p_value),
                False,
            )


def test_each_date_checks_the_customers_seen_up_to_it():
    # 300 of 1,000 held out on the first night where 20% were asked: a mismatch; from the second night
    # 500 more treated customers make it the asked 300 of 1,500, however often each was presented
    con = report(control=300, customers=1000, nights=3, later=500)
    cumulative = srm_of(con, "cumulative")
    assert [r[0] for r in cumulative] == [D1 + dt.timedelta(k) for k in range(3)]
    want = [stats.srm(300, 700, 0.2), stats.srm(300, 1200, 0.2), stats.srm(300, 1200, 0.2)]
    assert [r[1] for r in cumulative] == pytest.approx([w.chi2 for w in want], abs=1e-12)
    assert [r[3] for r in cumulative] == [True, False, False]
    assert srm_of(con, "total") == [
        (D1 + dt.timedelta(2), want[2].chi2, pytest.approx(want[2].p_value), False)
    ]
