"""A KPI's plot is drawn again only when the rows it plots changed (kept in ``built_kpi_plots``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import duckdb
import pytest

from pipeline.core.plots import daily_plot
from pipeline.core.sql import bind, sql
from pipeline.customers.kpis import KPIS, PARAMS, materialize_all, plot
from tests.unit.customers.test_kpi_updates import _add_events, _events, _world

KPI = next(k for k in KPIS if k.name == "kpi_events")
INSERT = "INSERT INTO kpi_events VALUES ('day', DATE '2026-03-01' + ?::INT, ?, 'WEB', ?, 0, 1)"
ROWS = sql("customers/kpis/plot/kpi_events")


def _drawn_anew(con: duckdb.DuckDBPyConnection) -> str:
    return daily_plot(con.execute(ROWS, {"days": PARAMS["days"]}).fetchall(), KPI.plot_title, bars=KPI.bars)


def test_a_plot_is_drawn_again_only_when_its_rows_changed():
    con = duckdb.connect()
    con.execute(sql("customers/kpis/create/kpi_events"))
    con.executemany(INSERT, [(d, t, 10 * d + len(t)) for d in range(5) for t in ("visit", "order")])
    first = plot(con, KPI)
    assert first == _drawn_anew(con) and first.startswith("![](data:image/png;base64,")
    # the kept plot is what a run with the same rows shows: marked, it comes back as it was kept
    con.execute("UPDATE built_kpi_plots SET plot = 'kept' WHERE kpi = 'kpi_events'")
    assert plot(con, KPI) == "kept"
    # a changed value, then a new day: drawn again, byte for byte what drawing it anew gives
    con.execute("UPDATE kpi_events SET events = events + 1 WHERE period_start = DATE '2026-03-03'")
    second = plot(con, KPI)
    assert second not in ("kept", first) and second == _drawn_anew(con)
    con.execute(INSERT, [5, "visit", 99])
    third = plot(con, KPI)
    assert third not in (first, second) and third == _drawn_anew(con)
    assert con.execute("SELECT count(*), any_value(plot) FROM built_kpi_plots").fetchall() == [(1, third)]
    # another KPI's plot is kept beside it
    other = next(k for k in KPIS if k.name == "kpi_web")
    con.execute(sql("customers/kpis/create/kpi_web"))
    plot(con, other)
    assert con.execute("SELECT count(*) FROM built_kpi_plots").fetchall() == [(2,)]


def test_the_step_gives_every_kpi_in_order_with_its_plot_drawn_beside_the_next_kpi():
    """materialize_all draws each plot on a thread while the next KPI's SQL runs: the runs come in
    the KPIs' order, each with the plot of its rows (what drawing it anew gives), each recorded."""
    con, rng, last = _world(dt.date(2026, 1, 31))
    _add_events(con, _events(rng, [last], 2, 60))
    runs = list(materialize_all(con, KPIS))
    assert [kpi.name for kpi, _ in runs] == [k.name for k in KPIS]
    for kpi, run in runs:
        text = sql(f"customers/kpis/plot/{kpi.name}")
        rows = con.execute(text, bind(text, PARAMS)).fetchall()
        assert rows and run.metadata["plot"].value == daily_plot(rows, kpi.plot_title, bars=kpi.bars)
    assert con.execute("SELECT count(*) FROM built_kpi_plots").fetchall() == [(len(KPIS),)]


def test_a_failing_kpi_comes_after_the_run_of_the_one_before_it():
    con, rng, last = _world(dt.date(2026, 1, 31))
    _add_events(con, _events(rng, [last], 2, 60))
    steps = materialize_all(con, [KPI, replace(KPI, name="kpi_missing")])
    kpi, run = next(steps)
    assert kpi == KPI and run.done == f"updated from {last - dt.timedelta(days=1)}"
    with pytest.raises(FileNotFoundError):
        next(steps)
