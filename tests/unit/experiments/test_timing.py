"""Next best time: the slot covering most of a customer's activity; everyone's busiest slot without any."""

import datetime as dt

import duckdb
import numpy as np

from pipeline.experiments.config import ExperimentSpec
from pipeline.experiments.timing import MINUTES, best_slots, covering_slot, send_times

SLOTS = ["18:00", "08:00", "12:30"]  # declared in any order


def _at(hour: int, minute: int = 0) -> int:
    return hour * 60 + minute


def test_each_minute_is_covered_by_the_slot_at_or_before_it_wrapping_round_midnight():
    cover = covering_slot(SLOTS)
    assert len(cover) == MINUTES
    assert cover[_at(3)] == 0 and cover[_at(7, 59)] == 0 and cover[_at(8)] == 1 and cover[_at(11)] == 1
    assert cover[_at(12, 29)] == 1 and cover[_at(12, 30)] == 2 and cover[_at(17, 59)] == 2
    assert cover[_at(18)] == 0 and cover[_at(23, 59)] == 0
    assert covering_slot(SLOTS, np.array([_at(12, 10), _at(12, 40)])).tolist() == [1, 2]


def test_the_customers_slot_follows_their_own_activity_and_is_always_declared():
    rng = np.random.default_rng(0)
    n = 3000
    peak = rng.integers(0, MINUTES, n)  # each customer's busiest minute
    noise = rng.integers(0, MINUTES, (n, 5))
    per_slot = np.zeros((n, 3))
    np.add.at(per_slot, (np.repeat(np.arange(n), 5), covering_slot(SLOTS, noise.ravel())), 1.0)
    np.add.at(per_slot, (np.arange(n), covering_slot(SLOTS, peak)), 6.0)
    per_slot[-100:] = 0  # no events: everyone's busiest slot
    slot = best_slots(per_slot, SLOTS)
    assert set(slot.tolist()) <= {0, 1, 2}
    active = slice(0, n - 100)
    assert (slot[active] == covering_slot(SLOTS, peak[active])).mean() > 0.95
    everyone = int(np.argmax(per_slot.sum(axis=0)))
    assert (slot[-100:] == everyone).all()


def test_an_event_within_the_hour_of_a_slot_counts_for_the_slot_covering_its_minute():
    """Slots 09:45 and 18:00: events at 09:50 are 09:45's (sent then), events at 09:10 18:00's (from
    18:00 round midnight to 09:45), though both are in hour 9."""
    con = duckdb.connect()
    con.execute(
        "CREATE TEMP TABLE _cand AS SELECT * FROM (VALUES ('a', 'nbt', 'v'), ('b', 'nbt', 'v')) "
        "AS t(customer_id, experiment, variant)"
    )
    con.execute(
        "CREATE TABLE events AS SELECT * FROM (VALUES "
        "('a', TIMESTAMP '2026-01-05 09:50:00', DATE '2026-01-05'), "
        "('a', TIMESTAMP '2026-01-06 09:50:30', DATE '2026-01-06'), "
        "('b', TIMESTAMP '2026-01-05 09:10:00', DATE '2026-01-05')) "
        "AS t(customer_id, occurred_at, _partition_date)"
    )
    exp = ExperimentSpec(name="nbt", type="NBT", variants=["v"], slots=["09:45", "18:00"])
    sent = send_times(con, exp, dt.date(2026, 1, 10)).set_index("customer_id")["send_at"]
    assert sent["a"] == dt.datetime(2026, 1, 10, 9, 45) and sent["b"] == dt.datetime(2026, 1, 10, 18, 0)
