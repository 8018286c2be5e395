"""The `events` table: every transaction feed's rows of one day, mapped to customers and event types."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import duckdb

from pipeline.core.catalog import CUSTOMER_ID, register_customer_table
from pipeline.core.sql import bind, ident, sql
from pipeline.core.warehouse import EXACT_VALUE, migrate_column_types, scalar, table_exists, transaction
from pipeline.customers.config import CustomersConfig
from pipeline.customers.feed_events import insert_feed_events
from pipeline.customers.identity import IDENTITY_KEYS, normalize, resolve_keys
from pipeline.ingest.config import TransactionSpec

EVENTS = "events"
# A range run builds events this many days at a time (one pass per feed and batch; progress per batch).
EVENT_BATCH_DAYS = 30
WINDOW = "_partition_date BETWEEN $a AND $b"  # the rows of a feed of the days $a..$b
# A run of fewer days resolves only the identifiers its feeds' keys can point at; a longer one's keys
# hit most of them, and finding them costs more than it saves (SF1, 30 days: 0.25 s CPU against 0.14 s).
RESOLVE_DAYS = 7


def _key_values(config: CustomersConfig, specs: Sequence[TransactionSpec]) -> str:
    """The identifier values the keys of ``specs``' rows of the days $a..$b are compared as (one
    sql/customers/events/feed_key_values.sql per feed, joined by UNION ALL)."""
    return " UNION ALL ".join(
        sql(
            "customers/events/feed_key_values",
            idents={"table": spec.table, "key_column": spec.customer_field},
            fragments={"key_value": normalize(ident(spec.customer_field), config.identity.case_sensitive)},
        )
        .rstrip()
        .rstrip(";")
        for spec in specs
    )


def prepare_events(
    con: duckdb.DuckDBPyConnection, config: CustomersConfig, first: dt.date, last: dt.date
) -> None:
    """What every batch of build_events of the days ``first``..``last`` reads and nothing it writes
    changes: the `events` table (created, migrated, registered as a customer table) and `_resolved`,
    the customers' identifiers with their conflicts' winners (from `customer_identities`, which building
    events does not write); for fewer than RESOLVE_DAYS days only those the feeds' keys of those days
    can point at (a night's keys hit a tenth of the identifiers; their winners are the same)."""
    con.execute(sql("customers/events/create_events"))
    migrate_column_types(con, EVENTS, {"value": EXACT_VALUE})  # a warehouse built when it was DECIMAL(18,4)
    # An event belongs to its customer_id; an anonymous one (NULL) is found by the identifier it holds.
    register_customer_table(con, EVENTS, "customer_id", CUSTOMER_ID)
    for kind in sorted({k for spec in config.transactions for k in spec.customer_keys}):
        register_customer_table(con, EVENTS, "customer_key", kind)
    con.execute(sql("customers/identity/create_identities"))
    feeds = [spec for spec in config.transactions if table_exists(con, spec.table)]
    if not feeds or (last - first).days >= RESOLVE_DAYS:
        con.execute(sql("customers/identity/resolved_from_table"))
        return
    query = sql("customers/identity/resolved_of_values", fragments={"values": _key_values(config, feeds)})
    con.execute(query, bind(query, {"a": first, "b": last}))


def build_events(
    con: duckdb.DuckDBPyConnection,
    config: CustomersConfig,
    first: dt.date,
    last: dt.date | None = None,
    prepared: bool = False,
) -> dict[str, int]:
    """Replace the partitions ``first``..``last`` (default: ``first`` alone) of `events` from every feed's
    partitions, in one transaction and one pass per feed; returns rows per feed. ``prepared``: the
    caller ran prepare_events on this connection (a range's batches prepare once)."""
    last = last or first
    window = {"a": first, "b": last}
    if not prepared:
        prepare_events(con, config, first, last)
    counts = {}
    with transaction(con):
        con.execute(sql("customers/events/delete_days"), window)
        con.execute(sql("customers/events/record_days"), window)
        for spec in config.transactions:
            if not table_exists(con, spec.table):
                continue
            resolve_keys(con, config, spec, condition=WINDOW, params=window)
            if table_exists(con, IDENTITY_KEYS):
                con.execute(sql("customers/identity/forget_stale_keys"), {"ds": spec.name})
            counts[spec.name] = insert_feed_events(con, spec, first, last)
    return counts


def build_event_days(
    con: duckdb.DuckDBPyConnection,
    config: CustomersConfig,
    days: Sequence[dt.date],
    log: Callable[[str], object] = lambda message: None,
) -> dict[str, int]:
    """Replace the partitions ``days`` (consecutive) of `events` in batches of ``EVENT_BATCH_DAYS``
    (one pass per feed and batch instead of one per day), logging each batch; returns rows per feed."""
    totals: dict[str, int] = {}
    prepare_events(con, config, days[0], days[-1])
    for batch in (days[i : i + EVENT_BATCH_DAYS] for i in range(0, len(days), EVENT_BATCH_DAYS)):
        counts = build_events(con, config, batch[0], batch[-1], prepared=True)
        for feed, n in counts.items():
            totals[feed] = totals.get(feed, 0) + n
        span = f"{batch[0]}" if len(batch) == 1 else f"{batch[0]}..{batch[-1]}"
        log(f"events {span}: {sum(counts.values())} rows ({counts})")
    return totals


def events_by_type(con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date) -> list[tuple]:
    """(type, context, events, anonymous events) of the days ``first``..``last``, most events first."""
    return con.execute(sql("customers/events/by_type"), {"a": first, "b": last}).fetchall()


def unknown_customer_events(con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date) -> int:
    """Events of the days ``first``..``last`` whose customer_id is not a known customer (should be 0)."""
    return scalar(con, sql("customers/events/unknown_customers"), {"a": first, "b": last})
