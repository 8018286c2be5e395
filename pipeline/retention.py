"""Retention: delete the events older than their type's policy (months to keep)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from pipeline.resources.warehouse import table_exists
from pipeline.sql import sql


def cutoff(today: dt.date, months: int) -> dt.datetime:
    """The oldest moment kept: the end of ``today`` (UTC) minus ``months`` calendar months.

    With today = 2026-03-31 and 1 month, events from 2026-03-01 00:00 on are kept (the month
    before the end of 2026-03-31 is 2026-03-01); month ends clamp (2026-03-31 - 1 month = 2026-02-28).
    """
    end = pd.Timestamp(today) + pd.Timedelta(days=1)
    return (end - pd.DateOffset(months=months)).to_pydatetime()


def apply_retention(con: duckdb.DuckDBPyConnection, policy: dict[str, int], today: dt.date) -> dict[str, int]:
    """Delete, in one transaction, every event older than its type's policy; rows deleted per type."""
    if not table_exists(con, "events"):
        return {t: 0 for t in policy}
    deleted = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for event_type, months in sorted(policy.items()):
            rows = con.execute(sql("events/retention"), {"type": event_type, "cutoff": cutoff(today, months)}).fetchall()
            deleted[event_type] = rows[0][0] if rows else 0
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return deleted
