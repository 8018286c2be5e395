"""Retention: delete the events older than their type's policy (months to keep), and their source rows."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from pipeline.core.parts import refresh_parts
from pipeline.core.sql import sql
from pipeline.core.warehouse import scalar, table_exists, transaction


def cutoff(today: dt.date, months: int) -> dt.datetime:
    """The oldest moment kept: the end of ``today`` (UTC) minus ``months`` calendar months.

    With today = 2026-03-31 and 1 month, events from 2026-03-01 00:00 on are kept (the month
    before the end of 2026-03-31 is 2026-03-01); month ends clamp (2026-03-31 - 1 month = 2026-02-28).
    """
    end = pd.Timestamp(today) + pd.Timedelta(days=1)
    return (end - pd.DateOffset(months=months)).to_pydatetime()


def apply_retention(
    con: duckdb.DuckDBPyConnection, policy: dict[str, int], today: dt.date
) -> tuple[dict[str, int], dict[str, int]]:
    """Delete, in one transaction, every event older than its type's policy and the feed rows
    (``tx_<source>``) they came from, so that rebuilding a partition cannot bring them back.

    Returns (events deleted per type, source rows deleted per table).
    """
    if not table_exists(con, "events"):
        return {t: 0 for t in policy}, {}
    events: dict[str, int] = {}
    rows: dict[str, int] = {}
    with transaction(con):
        for event_type, months in sorted(policy.items()):
            params = {"type": event_type, "cutoff": cutoff(today, months)}
            con.execute(sql("customers/events/retention_doomed"), params)
            for (source,) in con.execute(sql("customers/events/retention_sources")).fetchall():
                table = f"tx_{source}"
                if table_exists(con, table):
                    query = sql("customers/events/retention_source_rows", idents={"table": table})
                    rows[table] = rows.get(table, 0) + scalar(con, query, {"source": source})
            events[event_type] = scalar(con, sql("customers/events/retention"), params)
        con.execute(sql("customers/events/retention_done"))
        refresh_parts(con, ["events", *sorted(rows)])  # any recorded fingerprints of their days
    return events, rows


def retention_rows(
    policy: dict[str, int], today: dt.date, deleted: dict[str, int]
) -> list[tuple[str, int, dt.datetime, int]]:
    """(event type, months kept, deleted before, events deleted) of one retention run."""
    return [(t, policy[t], cutoff(today, policy[t]), n) for t, n in deleted.items()]
