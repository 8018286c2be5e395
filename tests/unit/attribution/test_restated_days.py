"""Which attributed days an identity change restates (sql/attribution/restated_days.sql): the change's
own day, the days its customers convert after it (the built-in Last Click (Infinite) looks back for
ever), with a data-driven model every day of its learning window; only days already attributed,
never the run's own."""

from __future__ import annotations

import datetime as dt

import duckdb

from pipeline.attribution.restate import clear_changes, consecutive, restated_days
from pipeline.core.sql import sql
from tests.unit.attribution.helpers import DAY, config, load_events, spec, ts


def _day(offset: int) -> dt.date:
    return DAY + dt.timedelta(days=offset)


def _warehouse() -> duckdb.DuckDBPyConnection:
    """c1 orders on days 0, 5, 40 and 100, c2 on day 3; days 0 to 60 attributed; a change of c1's
    events on day 0 (identity rebuild 1)."""
    con = duckdb.connect()
    con.execute(sql("core/schema"))
    orders = [(f"o{d}", "c1", "order", ts(d), None, 10) for d in (0, 5, 40, 100)]
    load_events(con, [*orders, ("p", "c2", "order", ts(3), None, 10)])
    con.execute(sql("customers/identity/create_event_changes"))
    con.execute("INSERT INTO identity_event_changes VALUES (1, ?, 'c1')", [DAY])
    con.execute(sql("attribution/create_tables"))
    con.execute("INSERT INTO attribution_days SELECT ?::DATE + i::INTEGER FROM range(61) t(i)", [DAY])
    return con


def test_the_days_a_change_reaches_are_restated_once():
    con = _warehouse()
    rules = config(spec())
    days, rebuild = restated_days(con, rules, [_day(5)])  # the run's own day 5 is attributed anyway
    assert (days, rebuild) == ([_day(0), _day(40)], 1)  # day 100 was never attributed, c2 never changed
    markov = config(spec([{"name": "Markov", "modelType": "markov", "lookbackDays": 7}]))
    days, _ = restated_days(con, markov, [_day(5)])
    assert days == [_day(d) for d in (0, 1, 2, 3, 4, 6, 40)]  # everyone's paths of days 0 to 6 changed
    clear_changes(con, rebuild)
    assert restated_days(con, markov, []) == ([], 0)


def test_consecutive_days_are_cut_into_runs():
    days = [_day(0), _day(1), _day(3), _day(4), _day(5), _day(9)]
    assert consecutive(days) == [[_day(0), _day(1)], [_day(3), _day(4), _day(5)], [_day(9)]]
