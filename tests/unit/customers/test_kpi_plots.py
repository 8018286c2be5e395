"""A KPI's plot is drawn again only when the rows it plots changed (kept in ``built_kpi_plots``)."""

from __future__ import annotations

import duckdb

from pipeline.core.plots import daily_plot
from pipeline.core.sql import sql
from pipeline.customers.kpis import KPIS, PARAMS, plot

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
