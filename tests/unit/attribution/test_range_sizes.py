"""A backfill's days cut into ranges that fit DuckDB's memory (pipeline/attribution/ranges.py): each day's
size counted in one statement, consecutive days grouped within a share of the connection's memory_limit,
and every day's credits the same whatever the cut."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from pipeline.attribution import ranges
from pipeline.attribution.credits import attribute_days, build_attribution
from pipeline.attribution.models import all_models
from pipeline.attribution.touches import learning_days, prepare
from tests.unit.attribution.helpers import config, spec
from tests.unit.attribution.test_attribution_range import DAYS, MODELS, _events, _tables, _warehouse

D = [dt.date(2026, 3, 1) + dt.timedelta(days=i) for i in range(10)]


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("476.8 MiB", int(476.8 * 2**20)),
        ("1.8 GiB", int(1.8 * 2**30)),
        ("2 KiB", 2048),
        ("512 bytes", 512),
        ("500MB", 500_000_000),
    ],
)
def test_duckdb_sizes_in_bytes(text, size):
    assert ranges.size_bytes(text) == size


def test_not_a_size():
    with pytest.raises(ValueError, match="not a DuckDB memory size"):
        ranges.size_bytes("plenty")


def test_the_budget_is_a_share_of_the_connections_memory_limit():
    con = duckdb.connect()
    con.execute("SET memory_limit = '1GiB'")
    assert ranges.memory_budget(con) == int(2**30 * ranges.MEMORY_SHARE)
    con.execute("SET memory_limit = '4GiB'")
    assert ranges.memory_budget(con) == int(2**32 * ranges.MEMORY_SHARE)


def test_days_are_grouped_greedily_within_the_budget(monkeypatch):
    monkeypatch.setattr(ranges, "BYTES_PER_CANDIDATE", 1)
    monkeypatch.setattr(ranges, "BYTES_PER_TOUCH", 1)
    # day 3 does not fit beside another, day 4 not even alone (it is a range of its own all the same)
    got = ranges.group_days(D, [3, 3, 3, 9, 20, 1, 1, 1, 1, 1], [0] * 10, 0, 10)
    assert got == [(D[0], D[2]), (D[3], D[3]), (D[4], D[4]), (D[5], D[9])]
    # never more than RANGE_DAYS at once
    assert ranges.group_days(D, [0] * 10, [0] * 10, 0, 10) == [(D[0], D[6]), (D[7], D[9])]


def test_short_ranges_share_a_connection_up_to_range_days():
    cut = [(D[0], D[0]), (D[1], D[3]), (D[4], D[6]), (D[7], D[7]), (D[8], D[8]), (D[9], D[9])]
    assert ranges.per_connection(cut) == [cut[:3], cut[3:]]
    cut = [(D[0], D[0]), (D[1], D[3]), (D[4], D[7]), (D[8], D[8]), (D[9], D[9])]
    assert ranges.per_connection(cut) == [cut[:2], cut[2:]]
    week = [(D[0], D[6]), (D[7], D[9])]
    assert ranges.per_connection(week) == [[week[0]], [week[1]]]
    assert ranges.per_connection([]) == []


def test_a_ranges_learning_window_counts_the_touches_it_reads(monkeypatch):
    monkeypatch.setattr(ranges, "BYTES_PER_CANDIDATE", 1)
    monkeypatch.setattr(ranges, "BYTES_PER_TOUCH", 1)
    monkeypatch.setattr(ranges, "PAIR_OVER", 1)  # the budget alone: no range beyond it
    # learning 3 days: the touches are those of the partitions from 2 days before D[0]; the one of
    # D[2] (index 4) is read by every range starting from D[0] to D[4]
    touches = [0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0]
    got = ranges.group_days(D, [1] * 10, touches, 3, 5)
    assert got == [(D[0], D[1]), (D[2], D[2]), (D[3], D[3]), (D[4], D[4]), (D[5], D[9])]
    # without a data-driven model no touch is held
    assert ranges.group_days(D, [1] * 10, touches, 0, 5) == [(D[0], D[4]), (D[5], D[9])]


@pytest.mark.parametrize("seed", [3, 7])
def test_each_days_size_is_what_the_range_reads(monkeypatch, seed):
    monkeypatch.setattr(ranges, "SAMPLE", 1)  # every customer counted: exact
    att = spec(MODELS)
    models = all_models(att)
    con = _warehouse(_events(seed))
    candidates, touches = ranges.day_sizes(con, att, models, DAYS)
    prepare(con, att, models, DAYS[0], DAYS[-1])
    per_day = "SELECT v.day, count(*) FROM _att_ranked r JOIN _att_conversions v USING (cix) GROUP BY v.day"
    ranked = dict(con.execute(per_day).fetchall())
    assert candidates == [ranked.get(d, 0) for d in DAYS]
    assert sum(candidates) > 0
    since = DAYS[0] - dt.timedelta(days=learning_days(models) - 1)
    events = dict(
        con.execute(
            "SELECT _partition_date, count(*) FROM events WHERE type = 'visit' GROUP BY ALL"
        ).fetchall()
    )
    assert touches == [events.get(since + dt.timedelta(days=i), 0) for i in range(len(touches))]
    assert len(touches) == (DAYS[-1] - since).days + 1


def test_a_small_memory_limit_gives_more_shorter_ranges_with_the_same_credits(monkeypatch):
    monkeypatch.setattr(ranges, "SAMPLE", 1)
    project = config(spec(MODELS, perTouchCredits=False))
    models = all_models(project.attribution)
    rows = _events(3)
    alone, together = _warehouse(rows), _warehouse(rows)
    for day in DAYS:
        build_attribution(alone, project, day)
    assert ranges.sized_ranges(together, project.attribution, models, DAYS) == [(DAYS[0], DAYS[-1])]
    # a candidate weighing what it would in a world 10^5 times larger: 1 GiB holds about two days
    candidates, touches = ranges.day_sizes(together, project.attribution, models, DAYS)
    together.execute("SET memory_limit = '1GiB'")
    budget = ranges.memory_budget(together)
    monkeypatch.setattr(ranges, "BYTES_PER_CANDIDATE", int(budget * len(DAYS) / (2.5 * sum(candidates))))
    monkeypatch.setattr(ranges, "BYTES_PER_TOUCH", 0)
    monkeypatch.setattr(ranges, "PAIR_OVER", 1)  # the budget alone
    cut = [(a, b) for a, b, _ in attribute_days(together, project, DAYS)]
    assert cut == ranges.group_days(DAYS, candidates, touches, learning_days(models), budget)
    assert len(cut) >= 3 and all((b - a).days < 3 for a, b in cut)
    assert _tables(together) == _tables(alone)


def test_a_day_that_would_be_alone_takes_the_next_when_it_reads_a_learning_window(monkeypatch):
    monkeypatch.setattr(ranges, "BYTES_PER_CANDIDATE", 1)
    monkeypatch.setattr(ranges, "BYTES_PER_TOUCH", 0)
    # each day 8 within a budget of 10, two days (16) over it: paired all the same (within 25)
    got = ranges.group_days(D[:5], [8] * 5, [0] * 7, 3, 10)
    assert got == [(D[0], D[1]), (D[2], D[3]), (D[4], D[4])]
    # days 0 and 1 fit together (the budget), days 2 and 3 do not (paired)
    assert ranges.group_days(D[:4], [4, 4, 8, 8], [0] * 6, 3, 10) == [(D[0], D[1]), (D[2], D[3])]
    # each day 12 over a budget of 10: paired while two days (24) stay within PAIR_OVER budgets (25)
    got = ranges.group_days(D, [12] * 10, [0] * 12, 3, 10)
    assert got == [(D[0], D[1]), (D[2], D[3]), (D[4], D[5]), (D[6], D[7]), (D[8], D[9])]
    # the pair over PAIR_OVER budgets: each day alone
    assert ranges.group_days(D[:3], [12, 14, 10], [0] * 5, 3, 10) == [(D[0], D[0]), (D[1], D[2])]
    # no learning window to share (rule-based models only): a day over the budget stays alone
    assert ranges.group_days(D[:2], [12, 12], [0] * 2, 0, 10) == [(D[0], D[0]), (D[1], D[1])]
    # the last day has no next
    assert ranges.group_days(D[:3], [12] * 3, [0] * 5, 3, 10) == [(D[0], D[1]), (D[2], D[2])]
