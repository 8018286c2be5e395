"""KPI updates: after the nightly run's new day or the last day re-run (incremental), a late file,
retention, forgetting or excluding a customer (whole; incremental for one created on the last day),
every KPI table equals a full rebuild on the same data, over simulated worlds whose new days cross
week and month boundaries."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from pipeline.core.sql import sql
from pipeline.customers.kpis import KPIS, materialize_all, prepare, rebuild, reconcile

NAMES = [k.name for k in KPIS]
TYPES = [
    ("completedOrder", "RETAIL"),
    ("completedOrder", "WEB"),
    ("web_sessions", "WEB"),
    ("campaignSent", "EMAIL"),
]


def _events(
    rng: np.random.Generator, days: list[dt.date], load: int, customers: int, types=TYPES
) -> pa.Table:
    n = 40 * len(days)
    kind = rng.integers(0, len(types), n)
    day = np.asarray(days)[rng.integers(0, len(days), n)]
    who = rng.integers(0, customers + customers // 5, n)  # a fifth anonymous
    ids = [f"tx:{load}:{i}" for i in range(n)]
    return pa.table(
        {
            "event_id": ids,
            "customer_id": [f"c{w}" if w < customers else None for w in who],
            "customer_key": [f"k{w}" for w in who],
            "customer_key_kind": ["customuid"] * n,
            "type": [types[k][0] for k in kind],
            "context": [types[k][1] for k in kind],
            "occurred_at": [
                dt.datetime.combine(d, dt.time(8)) + dt.timedelta(minutes=int(m))
                for d, m in zip(day, rng.integers(0, 600, n), strict=True)
            ],
            "value": pa.array([float(v) for v in rng.integers(1, 20000, n) / 100], pa.float64()),
            "properties": [
                '{"purchased": true, "page_views": 3}' if p else '{"page_views": 2}'
                for p in rng.random(n) < 0.2
            ],
            "source": ["tx"] * n,
            "load_id": [load] * n,
            "_partition_date": day,
        }
    )


def _add_events(con: duckdb.DuckDBPyConnection, rows: pa.Table) -> None:
    con.register("_new_events", rows)
    con.execute(f"INSERT INTO events BY NAME SELECT {', '.join(rows.column_names)} FROM _new_events")
    con.unregister("_new_events")


def _add_customers(con: duckdb.DuckDBPyConnection, first: int, last: int, day: dt.date) -> None:
    con.execute(
        "INSERT INTO customers SELECT 'c' || i, $d FROM range($a, $b) t(i)", {"a": first, "b": last, "d": day}
    )
    con.execute(
        """INSERT INTO customer_identities
           SELECT 'c' || i, kind, kind || i, 'customers', FALSE, FALSE
           FROM range($a, $b) t(i), (VALUES ('customuid'), ('emailsha256'), ('idfa')) k(kind)
           WHERE kind = 'customuid' OR (kind = 'emailsha256' AND i % 2 = 0)
              OR (kind = 'idfa' AND i % 3 = 0)""",
        {"a": first, "b": last},
    )


def _update_all(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    prepare(con)
    return {name: rebuild(con, name)[1].describe() for name in NAMES}


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {name: con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall() for name in NAMES}


def _full_rebuild_equals(con: duckdb.DuckDBPyConnection) -> None:
    """The tables as they are equal a full rebuild on the same data (on a copy of it)."""
    got = _tables(con)
    con.execute("DELETE FROM built_kpis")
    assert set(_update_all(con).values()) == {"rebuilt whole"}
    assert _tables(con) == got


@pytest.fixture(params=[dt.date(2026, 1, 20), dt.date(2026, 2, 26)], ids=["mid-month", "month-end"])
def world(request):
    return _world(request.param)


@pytest.fixture
def mid_month():
    return _world(dt.date(2026, 1, 20))


def _world(last: dt.date):
    """A warehouse built up to the day before ``last`` (its KPIs built), ``last`` not loaded yet."""
    rng = np.random.default_rng(last.toordinal())
    con = duckdb.connect()
    con.execute(sql("customers/events/create_events"))
    con.execute(sql("customers/identity/create_identities"))
    con.execute("CREATE TABLE customers (customuid VARCHAR, _first_seen_at DATE)")
    days = [last - dt.timedelta(days=d) for d in range(30, 0, -1)]
    _add_customers(con, 0, 60, days[0])
    _add_events(con, _events(rng, days, 1, 60))
    assert set(_update_all(con).values()) == {"rebuilt whole"}
    return con, rng, last


def test_a_new_day_updates_its_periods_and_equals_a_full_rebuild(world):
    con, rng, last = world
    assert set(_update_all(con).values()) == {"unchanged"}
    _add_customers(con, 60, 65, last)
    _add_events(con, _events(rng, [last], 2, 65))
    assert set(_update_all(con).values()) == {f"updated from {last - dt.timedelta(days=1)}"}
    _full_rebuild_equals(con)
    # the next day, after a day without any data, and the same day re-run with more of it
    later = last + dt.timedelta(days=2)
    _add_events(con, _events(rng, [later], 3, 65))
    assert set(_update_all(con).values()) == {f"updated from {last}"}
    _add_events(con, _events(rng, [later], 4, 65))
    assert set(_update_all(con).values()) == {f"updated from {later}"}
    _full_rebuild_equals(con)


def _rerun_day(con: duckdb.DuckDBPyConnection, day: dt.date, load: int, moved: tuple[str, str]) -> None:
    """Day ``day`` loaded again (load ``load``): the same events, those of customer ``moved[0]`` now
    ``moved[1]``'s."""
    con.execute("CREATE OR REPLACE TEMP TABLE _day AS FROM events WHERE _partition_date = $d", {"d": day})
    con.execute("DELETE FROM events WHERE _partition_date = $d", {"d": day})
    con.execute(
        """UPDATE _day SET load_id = $l, event_id = 'tx:' || $l || ':' || split_part(event_id, ':', 3),
                  customer_id = CASE customer_id WHEN $a THEN $b ELSE customer_id END""",
        {"l": load, "a": moved[0], "b": moved[1]},
    )
    con.execute("INSERT INTO events BY NAME FROM _day")


def _last_day_built(con: duckdb.DuckDBPyConnection, rng: np.random.Generator, last: dt.date) -> None:
    """Day ``last`` loaded with customers c60-c64 created on it, and the KPIs updated."""
    _add_customers(con, 60, 65, last)
    _add_events(con, _events(rng, [last], 2, 65))
    _update_all(con)


def _behaviour_updated_as_a_full_rebuild(con: duckdb.DuckDBPyConnection, since: dt.date) -> None:
    assert _update_all(con)["kpi_customer_behaviour"] == f"updated from {since}"
    assert reconcile(con, "kpi_customer_behaviour").passed
    _full_rebuild_equals(con)


def test_a_rerun_of_the_last_day_moving_a_customers_orders_updates_both_customers(mid_month):
    """The last built day re-run, a customer's orders of it now another's: the update from that day
    recomputes the customer who lost them too, as a full rebuild."""
    con, rng, last = mid_month
    _last_day_built(con, rng, last)
    buyer = con.execute(
        """SELECT min(customer_id) FROM events
           WHERE _partition_date = $d AND type = 'completedOrder' AND customer_id IS NOT NULL""",
        {"d": last},
    ).fetchall()[0][0]
    _rerun_day(con, last, 3, (buyer, "c0" if buyer != "c0" else "c1"))
    _behaviour_updated_as_a_full_rebuild(con, last)


def test_a_rerun_of_the_last_day_moving_orders_of_the_evening_before_updates_both_customers(mid_month):
    """The last built day's file holds a customer's orders of the evening before (their time a day
    before their partition day), then re-run with them now another's: the customer who lost them is
    recomputed too (their stored last purchase is before that day), as a full rebuild."""
    con, rng, last = mid_month
    _add_customers(con, 60, 65, last)
    _add_events(con, _events(rng, [last], 2, 65))
    buyer = con.execute(
        """SELECT min(customer_id) FROM events
           WHERE _partition_date = $d AND type = 'completedOrder' AND customer_id IS NOT NULL""",
        {"d": last},
    ).fetchall()[0][0]
    con.execute(
        """UPDATE events SET occurred_at = CAST($d AS DATE) - INTERVAL 2 HOUR
           WHERE _partition_date = $d AND customer_id = $c""",
        {"d": last, "c": buyer},
    )
    _update_all(con)
    _rerun_day(con, last, 3, (buyer, "c0" if buyer != "c0" else "c1"))
    _behaviour_updated_as_a_full_rebuild(con, last)


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE customer_identities SET excluded = TRUE WHERE customer_id = 'c62'",  # an exclusion
        "DELETE FROM customers WHERE customuid = 'c62'",  # dropped from the customer data
    ],
    ids=["excluded", "dropped"],
)
def test_a_customer_created_on_the_last_day_then_gone_leaves_customer_behaviour(mid_month, change):
    """A customer created on the last built day, then excluded or dropped: the update from that day
    deletes their row, as a full rebuild."""
    con, rng, last = mid_month
    _last_day_built(con, rng, last)
    con.execute(change)
    _behaviour_updated_as_a_full_rebuild(con, last)
    assert not con.execute("FROM kpi_customer_behaviour WHERE customer_id = 'c62'").fetchall()


def test_a_late_file_retention_forget_and_exclusion_rebuild_whole(mid_month):
    con, rng, last = mid_month
    _add_events(con, _events(rng, [last], 2, 60))
    _update_all(con)
    late = last - dt.timedelta(days=9)
    con.execute("DELETE FROM events WHERE _partition_date = $d", {"d": late})  # a late file replaces a day
    _add_events(con, _events(rng, [late], 3, 60))
    assert set(_update_all(con).values()) == {"rebuilt whole"}
    _full_rebuild_equals(con)
    for change in (
        "DELETE FROM events WHERE _partition_date < DATE '2025-12-25'",  # retention
        "DELETE FROM events WHERE customer_id = 'c7'",  # forget (the customer's events, then the customer)
        "DELETE FROM customers WHERE customuid = 'c9'",
        "UPDATE customer_identities SET excluded = TRUE WHERE customer_id = 'c8'",  # an exclusion
    ):
        con.execute(change)
        assert set(_update_all(con).values()) == {"rebuilt whole"}, change
    _full_rebuild_equals(con)


def test_a_new_event_type_on_the_new_day_rebuilds_the_tables_with_a_row_per_type(mid_month):
    con, rng, last = mid_month
    _add_events(
        con, _events(rng, [last], 2, 60, types=[("pushOpened", "MOBILE"), ("completedOrder", "MOBILE")])
    )
    done = _update_all(con)
    assert done["kpi_events"] == done["kpi_purchases"] == "rebuilt whole"
    assert done["kpi_web"] == f"updated from {last - dt.timedelta(days=1)}"
    _full_rebuild_equals(con)


def test_an_event_type_gone_from_a_rerun_of_the_last_day_rebuilds_the_tables_without_its_rows(mid_month):
    """The last built day re-run without the only events of a type and context (and of an order
    context): kpi_events and kpi_purchases are rebuilt whole, without its rows; a re-run without
    the events of types that occur before it updates them from that day."""
    con, rng, last = mid_month
    mobile = [("pushOpened", "MOBILE"), ("completedOrder", "MOBILE")]
    _add_events(con, _events(rng, [last], 2, 60, types=TYPES + mobile))
    _update_all(con)
    con.execute("DELETE FROM events WHERE _partition_date = $d", {"d": last})
    _add_events(con, _events(rng, [last], 3, 60))
    done = _update_all(con)
    assert done["kpi_events"] == done["kpi_purchases"] == "rebuilt whole"
    assert done["kpi_web"] == f"updated from {last}"
    for table in ("kpi_events", "kpi_purchases"):
        assert not con.execute(f"FROM {table} WHERE context = 'MOBILE'").fetchall()
    _full_rebuild_equals(con)
    con.execute("DELETE FROM events WHERE _partition_date = $d", {"d": last})
    _add_events(con, _events(rng, [last], 4, 60, types=TYPES[:1]))
    assert set(_update_all(con).values()) == {f"updated from {last}"}
    _full_rebuild_equals(con)


def test_one_step_updating_every_kpi_reads_their_inputs_once_and_equals_each_table_alone():
    """The nightly step updates every KPI table on one connection with one fingerprint of their inputs
    (materialize_all): the same plans and tables as each table fingerprinting on its own, then a full
    rebuild; a late file still rebuilds every table whole."""
    last = dt.date(2026, 1, 31)
    (alone, rng_a, _), (shared, rng_s, _) = _world(last), _world(last)
    for con, rng in ((alone, rng_a), (shared, rng_s)):
        _add_customers(con, 60, 65, last)
        _add_events(con, _events(rng, [last], 2, 65))
    expected = _update_all(alone)
    runs = dict(materialize_all(shared, KPIS))
    assert {kpi.name: run.done for kpi, run in runs.items()} == expected
    assert set(expected.values()) == {f"updated from {last - dt.timedelta(days=1)}"}
    assert all(check.passed for run in runs.values() for check in run.checks)
    assert _tables(shared) == _tables(alone)
    _full_rebuild_equals(shared)
    late = last - dt.timedelta(days=9)
    shared.execute("DELETE FROM events WHERE _partition_date = $d", {"d": late})
    _add_events(shared, _events(rng_s, [late], 3, 65))
    assert {run.done for _, run in materialize_all(shared, KPIS)} == {"rebuilt whole"}
    _full_rebuild_equals(shared)


def test_the_web_check_after_an_update_reconciles_the_periods_it_wrote(mid_month):
    """After an update from a day, kpi_web's check compares every grain's periods from the one holding
    that day on with the events of those days: it passes as written and fails when a week row it
    wrote is off; from the first day on it compares the whole table."""
    con, rng, last = mid_month
    _add_events(con, _events(rng, [last], 2, 60))
    runs = dict(materialize_all(con, KPIS))
    web = next(run for kpi, run in runs.items() if kpi.name == "kpi_web")
    since = last - dt.timedelta(days=1)
    assert web.done == f"updated from {since}"
    assert all(check.passed for check in web.checks)
    assert reconcile(con, "kpi_web", since).passed and reconcile(con, "kpi_web").passed
    week = con.execute("SELECT date_trunc('week', $d)::DATE", {"d": since}).fetchall()[0][0]
    con.execute(
        "UPDATE kpi_web SET sessions = sessions + 1 WHERE grain = 'week' AND period_start = $w", {"w": week}
    )
    assert not reconcile(con, "kpi_web", since).passed
    assert not reconcile(con, "kpi_web").passed
    con.execute(
        "UPDATE kpi_web SET sessions = sessions - 1 WHERE grain = 'week' AND period_start = $w", {"w": week}
    )
    first = con.execute("SELECT min(period_start) FROM kpi_web WHERE grain = 'day'").fetchall()[0][0]
    con.execute(
        "UPDATE kpi_web SET page_views = page_views + 1 WHERE grain = 'day' AND period_start = $d",
        {"d": first},
    )
    assert reconcile(con, "kpi_web", since).passed  # a period it did not write
    assert not reconcile(con, "kpi_web").passed
