"""Retention: delete the events older than their type's policy (months to keep), and their source rows."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from pipeline.core.parts import refresh_parts
from pipeline.core.sql import bind, sql
from pipeline.core.warehouse import scalar, table_exists, transaction
from pipeline.customers.config import CustomersConfig
from pipeline.customers.feed_events import event_type_sql, feed_params
from pipeline.customers.identity import IDENTITY_KEYS
from pipeline.ingest.config import TransactionSpec


def cutoff(today: dt.date, months: int) -> dt.datetime:
    """The oldest moment kept: the end of ``today`` (UTC) minus ``months`` calendar months.

    With today = 2026-03-31 and 1 month, events from 2026-03-01 00:00 on are kept (the month
    before the end of 2026-03-31 is 2026-03-01); month ends clamp (2026-03-31 - 1 month = 2026-02-28).
    """
    end = pd.Timestamp(today) + pd.Timedelta(days=1)
    return (end - pd.DateOffset(months=months)).to_pydatetime()


def apply_retention(
    con: duckdb.DuckDBPyConnection,
    policy: dict[str, int],
    today: dt.date,
    config: CustomersConfig | None = None,
) -> tuple[dict[str, int], dict[str, int]]:
    """Delete, in one transaction, every event older than its type's policy and the feed rows
    (``tx_<source>``) they came from, so that rebuilding a partition cannot bring them back; with the
    ``config``'s feeds, also their rows of that type and age whose key points at an excluded customer
    (they have no event to follow).

    Returns (events deleted per type, source rows deleted per table).
    """
    if not table_exists(con, "events"):
        return {t: 0 for t in policy}, {}
    events: dict[str, int] = {}
    rows: dict[str, int] = {}
    with transaction(con):
        for event_type, months in sorted(policy.items()):
            before = cutoff(today, months)
            params = {"type": event_type, "cutoff": before}
            con.execute(sql("customers/events/retention_doomed"), params)
            for (source,) in con.execute(sql("customers/events/retention_sources")).fetchall():
                table = f"tx_{source}"
                if table_exists(con, table):
                    query = sql("customers/events/retention_source_rows", idents={"table": table})
                    rows[table] = rows.get(table, 0) + scalar(con, query, {"source": source})
            events[event_type] = scalar(con, sql("customers/events/retention"), params)
            for spec in config.transactions if config else []:
                if n := _excluded_rows(con, spec, event_type, before):
                    rows[spec.table] = rows.get(spec.table, 0) + n
        con.execute(sql("customers/events/retention_done"))
        refresh_parts(con, ["events", *sorted(rows)])  # any recorded fingerprints of their days
    return events, rows


def _excluded_rows(
    con: duckdb.DuckDBPyConnection, spec: TransactionSpec, event_type: str, before: dt.datetime
) -> int:
    """Delete a feed's rows of ``event_type`` from before ``before`` whose key points at an excluded
    customer (sql/customers/events/retention_excluded_rows.sql); returns how many."""
    if not table_exists(con, spec.table) or not table_exists(con, IDENTITY_KEYS):
        return 0
    query = sql(
        "customers/events/retention_excluded_rows",
        idents={"table": spec.table, "customer_field": spec.customer_field, "time_field": spec.time_field},
        fragments={"event_type": event_type_sql(spec)},
    )
    values = {**feed_params(spec), "retained": event_type, "cutoff": before}
    return int(scalar(con, query, bind(query, values)))


def retention_rows(
    policy: dict[str, int], today: dt.date, deleted: dict[str, int]
) -> list[tuple[str, int, dt.datetime, int]]:
    """(event type, months kept, deleted before, events deleted) of one retention run."""
    return [(t, policy[t], cutoff(today, policy[t]), n) for t, n in deleted.items()]
