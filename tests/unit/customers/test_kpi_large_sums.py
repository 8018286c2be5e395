"""KPI money past what an exact sum holds: each order's value is under 1e20 (ingestion keeps no value
from 1e20 on) but several add up past what DECIMAL(38,18) holds. Such a revenue or total spending is
NULL ("too large to hold exactly"), named in the run's log and metadata; the run and the incremental
updates go on, every total under 1e20 stays exact, and the sums taken apart give the bits of the plain
ones."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, localcontext
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from pipeline.core.warehouse import exact_sum
from pipeline.customers import kpis
from pipeline.customers.kpis import KPIS, materialize, materialize_all, reconcile, summary
from tests.unit.attribution.helpers import ts
from tests.unit.customers.test_kpi_updates import (
    NAMES,
    _add_events,
    _events,
    _full_rebuild_equals,
    _tables,
    _update_all,
    _world,
)
from tests.unit.ingest.test_feeds_without_crm import THIRD, _run

BY_NAME = {k.name: k for k in KPIS}


@pytest.fixture
def mid_month():
    """A warehouse built up to 2026-01-19 (its KPIs built), 2026-01-20 not loaded yet."""
    return _world(dt.date(2026, 1, 20))


def _exact_sum(con: duckdb.DuckDBPyConnection, where: str) -> Decimal:
    """The exact sum (in Python) of the values of the order events ``where``."""
    values = con.execute(f"SELECT value FROM events WHERE type = 'completedOrder' AND {where}").fetchall()
    with localcontext() as exact:
        exact.prec = 60  # 38 digits and more: no rounding
        return sum((v for (v,) in values if v is not None), Decimal(0))


def _day_revenue(con: duckdb.DuckDBPyConnection, day: dt.date) -> list[tuple]:
    return con.execute(
        "SELECT orders, revenue FROM kpi_purchases WHERE grain = 'day' AND period_start = ? AND orders > 0",
        [day],
    ).fetchall()


def test_ingested_orders_adding_up_past_1e20_leave_the_days_revenue_null(tmp_path: Path) -> None:
    """Three orders of a day (6e19, 7e19, 9e19) add up to 2.2e20: the KPI build failed (an overflow of
    DuckDB's DECIMAL sum); the day's, week's and month's revenue is now NULL, the check passes and the
    run's log and metadata name those periods."""
    cm, con = _run(tmp_path, (6e19, 7e19, 9e19))  # ingests, builds the events and the KPIs
    try:
        day = ts(0).date()
        assert _day_revenue(con, day) == [(3, None)]
        run = materialize(con, BY_NAME["kpi_purchases"])
        assert all(c.passed for c in run.checks)
        assert f"day {day} " in run.log_line("kpi_purchases") and "too large" in run.log_line("kpi_purchases")
        periods = run.metadata[kpis.TOO_LARGE_KEY].value
        assert f"day {day}" in periods and "month" in periods and "week" in periods
        assert "revenue" not in run.metadata and run.metadata["orders"].value == 3  # left out, not wrong
    finally:
        cm.__exit__(None, None, None)


@pytest.mark.parametrize("values", [(6e19, 3.9e19, 0.1 / 3), (6e19, 7e19, -3.5e19 - THIRD)])
def test_orders_that_could_add_up_past_1e20_but_do_not_are_summed_exactly(tmp_path: Path, values) -> None:
    """Orders whose magnitudes add up past 9e19 (the sums are taken apart) but whose total is under 1e20:
    the day's revenue is their exact sum."""
    cm, con = _run(tmp_path, values)
    try:
        day = ts(0).date()
        exact = _exact_sum(con, f"occurred_at::DATE = DATE '{day}'")
        assert abs(exact) < Decimal("1e20") and exact != int(exact)
        assert _day_revenue(con, day) == [(3, exact)]
        assert reconcile(con, "kpi_purchases").passed
    finally:
        cm.__exit__(None, None, None)


def _big_orders(con: duckdb.DuckDBPyConnection, rng, day: dt.date, load: int, values: list[float]) -> None:
    """Orders of customer c1 in context RETAIL on ``day`` with ``values``."""
    rows = _events(rng, [day], load, 60, types=[("completedOrder", "RETAIL")]).slice(0, len(values))
    rows = rows.set_column(rows.column_names.index("value"), "value", pa.array(values, pa.float64()))
    one = pa.array(["c1"] * len(values))
    _add_events(con, rows.set_column(rows.column_names.index("customer_id"), "customer_id", one))


def _spending(con: duckdb.DuckDBPyConnection, customer: str) -> tuple:
    query = (
        "SELECT orders, total_spending, average_order_value FROM kpi_customer_behaviour WHERE customer_id = ?"
    )
    return con.execute(query, [customer]).fetchall()[0]


def test_a_customers_spending_past_1e20_is_null_and_the_updates_stay_incremental(mid_month) -> None:
    """c1's two orders of the new day (6e19, 7e19) take their spending past 1e20: the KPI run failed;
    now their total spending (and its average) is NULL, named in the log and metadata, every other
    total exact, the update only the new day's periods and customers as before (a full rebuild's
    tables), and the next day's update too."""
    con, rng, last = mid_month
    _big_orders(con, rng, last, 2, [6e19, 7e19])
    runs = {k.name: run for k, run in materialize_all(con, KPIS)}
    assert {runs[n].done for n in NAMES} == {f"updated from {last - dt.timedelta(days=1)}"}
    assert all(c.passed for run in runs.values() for c in run.checks)
    query = "SELECT count(*) FROM events WHERE customer_id = 'c1' AND type = 'completedOrder'"
    orders = con.execute(query).fetchall()[0][0]
    assert _spending(con, "c1") == (orders, None, None)
    assert _spending(con, "c2")[1] == _exact_sum(con, "customer_id = 'c2'")
    behaviour = runs["kpi_customer_behaviour"]
    assert behaviour.metadata[kpis.TOO_LARGE_KEY].value == "customers: 1"
    assert "total_spending" not in behaviour.metadata  # left out, not wrong
    assert "customers: 1" in behaviour.log_line("kpi_customer_behaviour")
    assert kpis.TOO_LARGE_KEY not in runs["kpi_events"].metadata
    _full_rebuild_equals(con)
    _add_events(con, _events(rng, [last + dt.timedelta(days=1)], 3, 60))
    assert _update_all(con)["kpi_customer_behaviour"] == f"updated from {last}"
    assert _spending(con, "c1")[1] is None
    _full_rebuild_equals(con)


def test_a_kpi_table_built_when_its_money_could_not_be_null_is_migrated(mid_month) -> None:
    """A warehouse whose revenue and total spending are NOT NULL (as they were created before) lets them
    be NULL on the next run, which stores the too large totals as NULL."""
    con, rng, last = mid_month
    for table, column in (("kpi_purchases", "revenue"), ("kpi_customer_behaviour", "total_spending")):
        con.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL")
    _big_orders(con, rng, last, 2, [6e19, 7e19])
    _update_all(con)
    assert _day_revenue(con, last) == [(2 + _ordinary_orders(con, last), None)]
    assert _spending(con, "c1")[1] is None


def _ordinary_orders(con: duckdb.DuckDBPyConnection, day: dt.date) -> int:
    query = "SELECT count(*) FROM _kpi_order_rows WHERE day = ? AND context = 'RETAIL' AND value < 1e19"
    return con.execute(query, [day]).fetchall()[0][0]


def _everything(con: duckdb.DuckDBPyConnection) -> tuple:
    """The KPI tables, their summaries and their checks' rows."""
    summaries = {name: summary(con, name) for name in NAMES}
    checks = {name: reconcile(con, name).metadata["compared"] for name in NAMES}
    return _tables(con), summaries, checks


def test_the_wide_sums_give_the_bits_of_the_plain_ones(mid_month, monkeypatch) -> None:
    """On ordinary values the sums taken apart (as when the orders could add up to 1e20) give the KPI
    tables, summaries and checks of the plain exact sums, bit for bit."""
    con, rng, last = mid_month
    want = _everything(con)
    assert any(r[4] != int(r[4]) for r in want[0]["kpi_purchases"])  # revenues with fractions
    monkeypatch.setattr(kpis, "EXACT_SUM_LIMIT", 0.0)  # every sum taken apart
    assert kpis.wide_sums(con)
    con.execute("DELETE FROM built_kpis")
    assert set(_update_all(con).values()) == {"rebuilt whole"}
    assert _everything(con) == want


@pytest.mark.parametrize(
    "values",
    [
        ["60000000000000000000", "40000000000000000000", "-0.5"],  # whole parts 1e20, total under it
        ["-60000000000000000000", "-40000000000000000000", "0.25"],
        ["60000000000000000000", "39999999999999999999.5", "0.25"],
        ["99999999999999999999.999999999999999999", "-0.000000000000000001", "1.5", "-1.5"],
        ["0.5", "0.75", "-3.125"],
        ["60000000000000000000", "40000000000000000000"],  # 1e20: too large
        ["60000000000000000000", "39999999999999999999.75", "0.25"],
        ["99999999999999999999.999999999999999999", "0.000000000000000001"],
        [],
    ],
)
def test_the_wide_exact_sum_is_the_exact_sum_under_1e20_and_null_from_it_on(values: list[str]) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE v (value DECIMAL(38,18))")
    for v in values:
        con.execute("INSERT INTO v VALUES (?::DECIMAL(38,18))", [v])
    with localcontext() as exact:
        exact.prec = 60  # no rounding (abs() too)
        want = sum((Decimal(v) for v in values), Decimal(0))
        held = abs(want) < Decimal("1e20")
    (got,) = con.execute(f"SELECT {exact_sum('value', True)} FROM v").fetchall()[0]
    assert got == (want if held else None)
    if got is not None:
        assert con.execute(f"SELECT {exact_sum('value', False)} FROM v").fetchall()[0][0] == got
