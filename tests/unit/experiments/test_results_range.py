"""A range of days decided in one call of run_results (one single-run backfill of `results`, then of
`conversions`) equals the same days run one night at a time (each night its results, then its
conversions, as the nightly job orders them): every decision and its logged probability. The policies
learn from `conversions`; before, a range's later days learned nothing of its earlier ones.
Built through the real path: customers, `tx_pos` rows with their events, `loads`, run_results and
run_conversions over a warehouse in memory."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import duckdb
import pytest

from pipeline.core.sql import sql
from pipeline.experiments import learned
from pipeline.experiments.runs import read_days, run_conversions, run_results
from tests.unit.experiments.test_learned_decisions import DAY, learned_config, warehouse
from tests.unit.experiments.test_learned_rerun import every_match

CUSTOMERS = 900  # 810 treated a night: 270 a variant, past the 50 a learned policy waits for
LAST = DAY + dt.timedelta(days=19)  # the last pos file of the world
ONE = dt.timedelta(days=1)


def world(customers: int = CUSTOMERS, loaded_through: dt.date = LAST) -> duckdb.DuckDBPyConnection:
    """The customers of ``warehouse``; every 4th buys the offer's product on one of the 12 days from
    DAY - 3 on (10 + i % 30) and again 3 days later (200); the pos files from DAY - 20 through
    ``loaded_through`` loaded (``load_through``)."""
    con = warehouse({}, customers=customers)
    con.execute(sql("core/schema"))
    con.execute(sql("customers/events/create_events"))
    con.execute(
        """CREATE TABLE tx_pos AS
           SELECT 'k' || i AS customer_id, $s::DATE - 3 + ((i // 4) % 12)::INT + p.after AS _partition_date,
                  _partition_date + INTERVAL 10 HOUR AS purchased_at, 'PROMO-OFFER' AS product,
                  coalesce(p.amount, 10 + i % 30)::DECIMAL(18, 2) AS amount, 1 AS _load_id,
                  row_number() OVER (ORDER BY i, p.after) AS _row_number
           FROM range($n) t(i), (VALUES (0, NULL), (3, 200)) p(after, amount) WHERE i % 4 = 0""",
        {"s": DAY, "n": customers},
    )
    load_through(con, loaded_through)
    return con


def load_through(con: duckdb.DuckDBPyConnection, last: dt.date) -> None:
    """The pos files from DAY - 20 through ``last`` loaded: their events built and their loads recorded."""
    con.execute("DELETE FROM events")
    con.execute(
        """INSERT INTO events (event_id, customer_id, customer_key, customer_key_kind, type, context,
                               occurred_at, value, source, load_id, _partition_date)
           SELECT 'pos:' || _load_id || ':' || _row_number, customer_id, customer_id, 'customuid',
                  'completedOrder', 'RETAIL', purchased_at, amount, 'pos', _load_id, _partition_date
           FROM tx_pos WHERE _partition_date <= $last""",
        {"last": last},
    )
    con.execute("DELETE FROM loads")
    con.execute(
        """INSERT INTO loads
           SELECT 100 + k, 'landing', 'pos', NULL, NULL, NULL, $s::DATE - 20 + k::INT, 0, 0, 0, 'LOADED',
                  NULL, now(), now()
           FROM range(datediff('day', $s::DATE - 20, $last) + 1) r(k)""",
        {"s": DAY, "last": last},
    )


def days(first: dt.date, n: int) -> list[dt.date]:
    return [first + dt.timedelta(days=k) for k in range(n)]


def nightly(con: duckdb.DuckDBPyConnection, config, nights: list[dt.date]) -> None:
    """A run of `results` (deciding the day after the night), then of `conversions`, per night."""
    for night in nights:
        run_results(con, config, [night], lambda _: None)
        run_conversions(con, config, [night], lambda _: None)


def backfill(con: duckdb.DuckDBPyConnection, config, nights: list[dt.date]) -> int:
    """One run of `results`, then of `conversions`, over ``nights``; the presentation days `results`
    measured before deciding."""
    measured = run_results(con, config, nights, lambda _: None)["conversions_measured_first"]
    run_conversions(con, config, nights, lambda _: None)
    assert isinstance(measured, int)
    return measured


def decisions(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """The decisions, their floating-point values (scores, probabilities) to 12 decimals: DuckDB's
    parallel sums may differ in the last bit between two runs of the same night."""
    return [rounded(r) for r in con.execute("SELECT * FROM results ORDER BY date, customer_id").fetchall()]


def rounded(row: tuple) -> tuple:
    return tuple(round(x, 12) if isinstance(x, float) else x for x in row)


def conversions(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("SELECT * FROM conversions ORDER BY date, customer_id").fetchall()


@pytest.mark.parametrize("policy", ["thompson", "propensity", "uplift"])
def test_a_range_decides_every_day_as_the_nights_one_at_a_time_do(policy):
    """4 days: from the second on, each night learns from the presentations of the nights before
    (open 5-day windows with the conversions landed before it). Before, the range decided its last 3
    days from nothing of the range: 829 (thompson), 1,461 (propensity) and 1,505 (uplift) of their
    2,700 decisions got another arm, 2,406, 2,406 and 2,700 another logged probability."""
    config = learned_config(policy)
    one_run, one_at_a_time = world(), world()
    assert backfill(one_run, config, days(DAY, 4)) == 4 + 4  # DAY - 4 .. DAY + 3
    nightly(one_at_a_time, config, days(DAY, 4))
    got, want = decisions(one_run), decisions(one_at_a_time)
    assert len(want) == 4 * CUSTOMERS
    assert got == want  # every column: variant, score, reason, assignment_probability, ...
    assert conversions(one_run) == conversions(one_at_a_time)
    warming = f"{policy}: warming up"
    learned = [r for r in want if r[0] > DAY + ONE and not r[5] and not r[7].startswith(warming)]
    assert policy == "thompson" or learned  # the later nights did learn (not all still warming up)


@pytest.mark.parametrize("policy", ["propensity", "uplift"])
def test_a_range_builds_the_features_of_a_cut_off_once_and_decides_as_the_nights_do(policy, monkeypatch):
    """The nights after the first learn from the first night's presentations (DAY + 1) on, the first
    warms up: the training features as of DAY + 1 every night, and those of the day decided. A range
    builds each cut-off's once; before, it built DAY + 1's 3 times, as the nights one at a time still
    do: nothing is kept from one run to the next (a late file may restate the past between them)."""
    built: Counter[dt.date] = Counter()
    build = learned.customer_features

    def counted(con, spec, cutoff, *args, **kwargs):
        built[cutoff] += 1
        return build(con, spec, cutoff, *args, **kwargs)

    monkeypatch.setattr(learned, "customer_features", counted)
    config = learned_config(policy)
    one_run, one_at_a_time = world(), world()
    backfill(one_run, config, days(DAY, 4))
    in_range = dict(built)
    built.clear()
    nightly(one_at_a_time, config, days(DAY, 4))
    assert in_range == {DAY + ONE: 1, DAY + 2 * ONE: 1, DAY + 3 * ONE: 1, DAY + 4 * ONE: 1}
    assert dict(built) == {DAY + ONE: 3, DAY + 2 * ONE: 1, DAY + 3 * ONE: 1, DAY + 4 * ONE: 1}
    assert decisions(one_run) == decisions(one_at_a_time)


@pytest.mark.parametrize("policy", ["propensity", "thompson"])
def test_a_range_over_loaded_data_decides_as_the_nights_did_with_their_own_data(policy):
    """The nights as the nightly job runs them: each night's pos file loaded first, then its results
    and its conversions; the range afterwards, every file loaded (through DAY + 19). The range measures
    its earlier days with the purchases after the night deciding too, but a policy learns only what
    landed before the night: the first conversions and the closed windows, and with count: all (here)
    no value of an open window, which sums the purchases 3 days later (200) as well (learning it, the
    range logged another score and reason, the expected value, for all 3,600 decisions after DAY; with
    nothing of the range measured, 1,927 (propensity) and 1,226 (thompson) of them got another arm)."""
    config = every_match(policy)
    one_run, one_at_a_time = world(), world(loaded_through=DAY - dt.timedelta(days=1))
    backfill(one_run, config, days(DAY, 5))
    for night in days(DAY, 5):
        load_through(one_at_a_time, night)
        nightly(one_at_a_time, config, [night])
    assert decisions(one_run) == decisions(one_at_a_time)


def test_a_uniform_range_longer_than_the_window_reads_the_windows_closed_in_it():
    """The uniform policy draws by the propensities of the windows closed before the night (5 days):
    a 7-day range's days 6 and 7 read days 1 and 2. Before, they read nothing of the range: 44 of their
    1,800 decisions got another variant, 1,604 another logged probability."""
    config = learned_config("uniform")
    one_run, one_at_a_time = world(), world()
    assert backfill(one_run, config, days(DAY, 7)) == 4 + 3  # DAY - 4 .. DAY + 2: closed by DAY + 7
    nightly(one_at_a_time, config, days(DAY, 7))
    assert decisions(one_run) == decisions(one_at_a_time)
    assert conversions(one_run) == conversions(one_at_a_time)


def test_a_range_after_a_late_load_reads_the_earlier_windows_as_the_nights_measure_them_again():
    """Two nights run before the range while day DAY - 1's file had failed (the windows over it
    incomplete); the file is then loaded. The nights from DAY on measure DAY - 2 and DAY - 1 again
    (complete now), and DAY + 3 learns from DAY - 2's window, closed there: the range measures them
    again too before its second day (measuring only the range's own days, DAY + 3 gave 319 of its 900
    decisions another arm; before, nothing was measured: 1,738 of the range's 2,700 after DAY)."""
    config = learned_config("propensity")
    worlds = world(), world()
    for con in worlds:
        con.execute(
            "UPDATE loads SET status = 'FAILED' WHERE partition_date = $d", {"d": DAY - dt.timedelta(1)}
        )
        nightly(con, config, days(DAY - dt.timedelta(days=2), 2))
        con.execute("UPDATE loads SET status = 'LOADED'")
    one_run, one_at_a_time = worlds
    backfill(one_run, config, days(DAY, 4))
    nightly(one_at_a_time, config, days(DAY, 4))
    assert decisions(one_run) == decisions(one_at_a_time)
    assert conversions(one_run) == conversions(one_at_a_time)


def test_the_days_measured_before_a_night_of_a_range():
    """5-day windows from the example's start date; night D decides D + 1 with the data through D, so
    it measures the days whose windows D's data reaches, from DAY - 4 (the range's first night's
    earliest open window) through D: a learned policy reads all of them, a uniform one the windows
    closed before D + 1 only. A one-night run measures them as well: the nightly `conversions` run of
    the night measures after `results`, and the day before's measured without D's data."""
    d = DAY + dt.timedelta(days=3)
    learned, uniform = learned_config("thompson"), learned_config("uniform")
    assert read_days(learned, DAY, DAY) == days(DAY - dt.timedelta(days=4), 5)
    assert read_days(uniform, DAY, DAY) == [DAY - dt.timedelta(days=4)]  # closed: x + 5 <= DAY + 1
    assert read_days(learned, DAY, d) == days(DAY - dt.timedelta(days=4), 8)
    assert read_days(uniform, DAY, d) == days(DAY - dt.timedelta(days=4), 4)
    ended = learned.model_copy(
        update={"experiments": [e.model_copy(update={"end": d}) for e in learned.experiments]}
    )
    assert read_days(ended, DAY, d) == []  # no experiment decides the day after
    early = learned.model_copy(update={"start_date": DAY - dt.timedelta(days=1)})
    assert read_days(early, DAY, d)[0] == DAY - dt.timedelta(days=1)  # nothing before the start date
