"""Attributed days an identity change made stale: found, attributed again, and cleared.

A conversion is attributed with the touches its customer has then. When a later identity rebuild
re-points stored events (a login links an anonymous web session's touches to the buyer, an
identifier moves to another customer, an excluded customer's events go or come back), the rebuild
records each changed event's day and the customers on both sides in ``identity_event_changes``
(pipeline/customers/identity.py). The next attribution run finds the days already attributed whose
credits those changes can reach (sql/attribution/restated_days.sql: the changed day itself, the
conversion days of those customers within the longest lookback after it, and with Markov / Shapley
every day whose learning window holds it), attributes them again as a fresh run of those days would,
and then clears the changes it read. Each such day is what attributing it from scratch gives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb

from pipeline.attribution.config import AttributionConfig
from pipeline.attribution.models import all_models
from pipeline.attribution.touches import learning_days
from pipeline.core.sql import sql
from pipeline.core.warehouse import scalar, table_exists

EVENT_CHANGES = "identity_event_changes"  # written by pipeline/customers/identity.py


def restated_days(
    con: duckdb.DuckDBPyConnection, config: AttributionConfig, days: Sequence[dt.date]
) -> tuple[list[dt.date], int]:
    """The days attributed before, other than ``days``, whose credits the kept identity changes may
    change, and the last rebuild read (give it to :func:`clear_changes` once they are attributed)."""
    if not table_exists(con, EVENT_CHANGES):
        return [], 0
    con.execute(sql("attribution/create_tables"))  # nothing attributed yet: no day to restate
    rebuild = int(scalar(con, sql("attribution/last_rebuild")))
    if not rebuild:
        return [], 0
    spec = config.attribution
    models = all_models(spec)
    values = {
        "rebuild": rebuild,
        "types": sorted({c.type for c in spec.conversions}),
        "longest": max((m.lookback_days for m in models if m.lookback_days), default=1),
        "infinite": any(m.lookback_days is None for m in models),
        "learning": learning_days(models),
        "days": list(days),
    }
    found = con.execute(sql("attribution/restated_days"), values).fetchall()  # days, not rows
    return [d for (d,) in found], rebuild


def clear_changes(con: duckdb.DuckDBPyConnection, rebuild: int) -> None:
    """The identity changes up to ``rebuild`` are attributed: forget them."""
    if rebuild:
        con.execute(sql("attribution/clear_changes"), {"rebuild": rebuild})


def consecutive(days: Sequence[dt.date]) -> list[list[dt.date]]:
    """Sorted ``days`` cut into runs of consecutive days."""
    runs: list[list[dt.date]] = []
    for day in days:  # days, not rows
        if runs and day - runs[-1][-1] == dt.timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs
