"""A range of days attributed at once (the rule-based models' credits of the whole range in one pass,
the data-driven models' day by day) gives each day exactly what attributing that day alone gives."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np

from pipeline.attribution import credits
from pipeline.attribution.credits import attribute_days, build_attribution
from pipeline.core.sql import sql
from tests.unit.attribution.helpers import DAY, config, load_events, spec, ts

MODELS = [
    {"name": "M", "modelType": "markov", "lookbackDays": 5},
    {"name": "S", "modelType": "shapley", "lookbackDays": 10},
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
    return con


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}


def test_a_range_gives_every_day_what_the_day_alone_gives(monkeypatch):
    monkeypatch.setattr(credits, "RANGE_DAYS", 3)
    rows = _events(3)
    project = config(spec(MODELS, perTouchCredits=True))  # every touch compared, not only their sums
    alone, together = _warehouse(rows), _warehouse(rows)
    for day in DAYS:
        build_attribution(alone, project, day)
    ranges = [(a, b) for a, b, _ in attribute_days(together, project, DAYS)]
    assert ranges == [(DAYS[0], DAYS[2]), (DAYS[3], DAYS[4])]  # RANGE_DAYS at a time
    want = _tables(alone)
    assert len({r[0] for r in want["attribution_credits"]}) == len(DAYS)  # every day has conversions
    assert _tables(together) == want
    # and re-attributing a range over days already attributed replaces them exactly
    list(attribute_days(together, project, DAYS[1:3]))
    assert _tables(together) == want
