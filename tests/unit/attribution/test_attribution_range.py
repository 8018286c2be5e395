"""A range of days attributed at once (every model's credits of the whole range in one pass, each
data-driven model's paths of every day in one statement) gives each day exactly what attributing that day
alone gives."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pytest

from pipeline.attribution import ranges
from pipeline.attribution.credits import _by_day, _paths, attribute_days, build_attribution
from pipeline.attribution.models import all_models
from pipeline.attribution.touches import is_data_driven, learning_days, prepare, set_key
from pipeline.core.sql import sql
from tests.unit.attribution.helpers import DAY, config, load_events, spec, ts

MODELS = [
    {"name": "M", "modelType": "markov", "lookbackDays": 5},
    {"name": "M2", "modelType": "markov", "lookbackDays": 8, "order": 2},
    {"name": "M3T", "modelType": "markov", "lookbackDays": 12, "order": 3, "allocation": "total"},
    {
        "name": "MX",
        "modelType": "markov",
        "lookbackDays": 5,
        "channelsMode": "exclude",
        "channels": ["Email"],
    },
    {"name": "S", "modelType": "shapley", "lookbackDays": 10},
    {"name": "S5", "modelType": "shapley", "lookbackDays": 5},
    {"name": "P", "modelType": "position", "channelsMode": "exclude", "channels": ["Direct"]},
    {"name": "T", "modelType": "time_decay", "halfLifeDays": 2, "lookbackDays": 7},
    {"name": "F3", "modelType": "first", "lookbackDays": 3},
]
DAYS = [DAY + dt.timedelta(days=i) for i in range(5)]
TABLES = ("attribution_credits", "attribution_summary")


def _events(seed: int) -> list[tuple]:
    """Customers touched over 20 days before and during the 5 days, some converting (once or twice) on
    those days: touches and conversions of the same day interleave."""
    rng = np.random.default_rng(seed)
    channels = ["Search", "Email", "Display", "Direct"]
    rows = []
    for c in range(80):
        for k in range(rng.integers(0, 8)):
            day, hour = int(rng.integers(-20, 5)), float(rng.uniform(0, 23))
            rows.append((f"v{c}-{k}", f"c{c}", "visit", ts(day, hour), channels[rng.integers(0, 4)], None))
        for k in range(rng.choice([0, 0, 1, 2])):
            rows.append(
                (
                    f"o{c}-{k}",
                    f"c{c}",
                    "order",
                    ts(int(rng.integers(0, 5)), float(rng.uniform(0, 23))),
                    None,
                    10 + c,
                )
            )
    return rows


def _warehouse(rows: list[tuple]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(sql("core/schema"))
    load_events(con, rows)
    # late touches: some arrive in the next day's partition (a day reads only the partitions up to it)
    con.execute(
        "UPDATE events SET _partition_date = _partition_date + 1 "
        "WHERE type = 'visit' AND hash(event_id) % 5 = 0"
    )
    return con


def _rows(table, channels) -> dict[dt.date, list[tuple]]:
    """Each day's (path, conversions, nulls) rows of a paths table."""
    by_day = _by_day(table, channels)
    return {d: list(zip(map(list, p.lists()), c.tolist(), n.tolist(), strict=True)) for d, p, c, n in by_day}


def _paths_rows(con, models, first, last, ordered=True) -> dict[tuple, dict[dt.date, list[tuple]]]:
    """Each touch set's paths of the days ``first`` to ``last``, day by day."""
    tables, channels = _paths(con, models, first, last, ordered)
    return {key: _rows(t, channels) for key, t in tables.items()}


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}


@pytest.mark.parametrize(
    ("seed", "per_touch"),
    # per touch: every touch compared, not only their sums; else the rows summed per channel as they
    # are computed (channel_credits.sql), each conversion's number (cix) counted over the whole range
    [(3, True), (11, True), (3, False)],
)
def test_a_range_gives_every_day_what_the_day_alone_gives(monkeypatch, seed, per_touch):
    monkeypatch.setattr(ranges, "RANGE_DAYS", 3)
    rows = _events(seed)
    project = config(spec(MODELS, perTouchCredits=per_touch))
    alone, together = _warehouse(rows), _warehouse(rows)
    for day in DAYS:
        build_attribution(alone, project, day)
    cut = [(a, b) for a, b, _ in attribute_days(together, project, DAYS)]
    assert cut == [(DAYS[0], DAYS[2]), (DAYS[3], DAYS[4])]  # RANGE_DAYS at a time
    want = _tables(alone)
    assert len({r[0] for r in want["attribution_credits"]}) == len(DAYS)  # every day has conversions
    assert _tables(together) == want
    # and re-attributing a range over days already attributed replaces them exactly
    list(attribute_days(together, project, DAYS[1:3]))
    assert _tables(together) == want
    # attributed without keeping the insertion order, the connection's setting is given back
    assert together.execute("SELECT current_setting('preserve_insertion_order')").fetchone() == (True,)


def test_with_bootstrap_intervals_every_day_of_a_range_gets_what_it_gets_alone(monkeypatch):
    """With `bootstrap` a backfill attributes day by day (each day's intervals need its own conversions
    and paths): the credits, the summary and every model's intervals, Markov and Shapley included, are
    the day's alone."""
    monkeypatch.setattr(ranges, "RANGE_DAYS", 3)
    rows = _events(3)
    project = config(spec(MODELS, bootstrap=15, bootstrapSeed=4))
    alone, together = _warehouse(rows), _warehouse(rows)
    for day in DAYS:
        build_attribution(alone, project, day)
    cut = [(a, b) for a, b, _ in attribute_days(together, project, DAYS)]
    assert cut == [(day, day) for day in DAYS]
    want = _tables(alone)
    assert _tables(together) == want
    summary = want["attribution_summary"]
    assert {r[1] for r in summary} >= {"M", "M3T", "S"} and all(None not in r[7:] for r in summary)


def _range_paths(seed: int):
    """The data-driven models' spec, models, a warehouse of seed's events prepared for all of DAYS at
    once, and that range's paths rows."""
    att = spec(MODELS)
    models = [m for m in all_models(att) if is_data_driven(m)]
    con = _warehouse(_events(seed))
    prepare(con, att, models, DAYS[0], DAYS[-1])
    return att, models, con, _paths_rows(con, models, DAYS[0], DAYS[-1])


@pytest.mark.parametrize("seed", [5, 6, 7, 8])
def test_every_days_paths_of_a_range_are_the_day_alones(seed):
    att, models, con, together = _range_paths(seed)
    # unordered (as a range learns without intervals), the same rows
    unordered = _paths_rows(con, models, DAYS[0], DAYS[-1], ordered=False)
    assert {k: {d: sorted(r) for d, r in v.items()} for k, v in unordered.items()} == together
    for day in DAYS:
        prepare(con, att, models, day)
        alone = _paths_rows(con, models, day, day)
        for key, paths in alone.items():
            assert sum(n for _, n, _ in paths[day]) > 0 and sum(n for _, _, n in paths[day]) > 0
            assert together[key][day] == paths[day], (key, day)
    # the windows move: a day's non-converting paths are not the day before's
    first = together[next(iter(together))]
    assert first[DAYS[0]] != first[DAYS[1]]


def _defined_paths(con, m, learning: int, day: dt.date) -> list[tuple]:
    """A model's paths of ``day`` as defined, from the prepared touches in Python: each conversion's
    pairs in order, and each customer not converting that day with their touches of the model's window
    ending with the day (partitions of the ``learning`` days ending with it), counted."""
    converting: dict[tuple, list] = {}
    for conv, conv_id, pos, channel in con.execute(
        "SELECT c.conversion, c.conversion_id, p.pos, p.channel FROM _att_pairs AS p "
        "JOIN _att_conversions AS c USING (cix) WHERE p.model = $m AND p.day = $d",
        {"m": m.name, "d": day},
    ).fetchall():
        converting.setdefault((conv, conv_id), []).append((pos, channel))
    converters = {
        c
        for (c,) in con.execute(
            "SELECT customer_id FROM _att_conversions WHERE day = $d", {"d": day}
        ).fetchall()
    }
    held: dict[str, list] = {}
    for customer, at, touch, channel, part in con.execute(
        "SELECT customer_id, touched_at, touch_id, channel, touch_day FROM _att_touches"
    ).fetchall():
        shown = channel not in m.channels if m.channels_mode == "exclude" else True
        window = day - dt.timedelta(days=m.lookback_days - 1) <= at.date() <= day
        partition = day - dt.timedelta(days=learning - 1) <= part <= day
        if shown and window and partition and customer not in converters:
            held.setdefault(customer, []).append((at, touch, channel))
    counts: dict[tuple, list[int]] = {}
    for steps in converting.values():
        counts.setdefault(tuple(c for _, c in sorted(steps)), [0, 0])[0] += 1
    for touches in held.values():
        counts.setdefault(tuple(c for _, _, c in sorted(touches)), [0, 0])[1] += 1
    return sorted((list(p), c, n) for p, (c, n) in counts.items())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_ranges_paths_are_the_definitions(seed):
    # against the definition in Python (touches arriving a day late, a channel filter, four windows)
    _, models, con, got = _range_paths(seed)
    firsts = {set_key(m): m for m in reversed(models)}
    assert set(got) == set(firsts)
    for key, m in firsts.items():
        for day in DAYS:
            assert got[key].get(day, []) == _defined_paths(con, m, learning_days(models), day), (m.name, day)


def test_a_days_paths_by_hand():
    # c1 converts on day 0, c3 on day 1, c2 never: a customer's touches are a non-converting path on the
    # days they do not convert, within the model's 5 days ending with the day.
    rows = [
        ("v1", "c1", "visit", ts(-20), "Display", None),
        ("v2", "c1", "visit", ts(-2), "Search", None),
        ("v3", "c1", "visit", ts(-1), "Email", None),
        ("o1", "c1", "order", ts(0), None, 10),
        ("v4", "c2", "visit", ts(-6), "Direct", None),
        ("v5", "c2", "visit", ts(-3), "Search", None),
        ("v6", "c2", "visit", ts(-1), "Email", None),
        ("v7", "c3", "visit", ts(-1), "Direct", None),
        ("o2", "c3", "order", ts(1), None, 10),
    ]
    con = duckdb.connect()
    con.execute(sql("core/schema"))
    load_events(con, rows)
    models = [m for m in all_models(spec(MODELS[:1])) if is_data_driven(m)]
    prepare(con, spec(MODELS[:1]), models, DAYS[0], DAYS[1])
    (paths,) = _paths_rows(con, models, DAYS[0], DAYS[1]).values()
    assert paths == {
        DAYS[0]: [(["Direct"], 0, 1), (["Search", "Email"], 1, 1)],
        DAYS[1]: [(["Direct"], 1, 0), (["Search", "Email"], 0, 2)],
    }
