"""The `events` table: every transaction feed's rows of one day, mapped to customers and event types."""

from __future__ import annotations

import datetime as dt

import duckdb

from pipeline.core.catalog import CUSTOMER_ID, register_customer_table
from pipeline.core.sql import bind, ident, sql
from pipeline.core.warehouse import table_exists, transaction
from pipeline.customers.config import CustomersConfig
from pipeline.customers.identity import resolve_keys
from pipeline.ingest.config import TransactionSpec

EVENTS = "events"
UTM_KEYS = ("source", "medium", "campaign", "term", "content")
# A range run builds events this many days at a time (one pass per feed and batch; progress per batch).
EVENT_BATCH_DAYS = 30


def _column(spec: TransactionSpec, field: str | None, cast: str = "VARCHAR") -> str:
    return f"CAST(t.{ident(field)} AS {cast})" if field else f"NULL::{cast}"


def feed_select(spec: TransactionSpec) -> str:
    """SQL selecting a feed's rows of the days $a..$b as events (parameters $ds, $type, $from, $to, $currency, $a,
    $b, $context)."""
    ev = spec.event
    if ev.type_field:
        raw = f"CAST(t.{ident(ev.type_field)} AS VARCHAR)"
        event_type = f"coalesce(list_extract($to, list_position($from, {raw})), {raw}, $ds)"
    else:
        event_type = "$type"
    mapped = {spec.customer_field, spec.time_field}
    props = ", ".join(f"{ident(f.name)} := t.{ident(f.name)}" for f in spec.fields if f.name not in mapped)
    utm = ", ".join(f"{_column(spec, getattr(ev.utm, k))} AS utm_{k}" for k in UTM_KEYS)
    return f"""
        SELECT $ds || ':' || t._load_id || ':' || t._row_number AS event_id,
               k.customer_id, CAST(t.{ident(spec.customer_field)} AS VARCHAR) AS customer_key,
               k.kind AS customer_key_kind, {event_type} AS type, $context AS context,
               CAST(t.{ident(spec.time_field)} AS TIMESTAMP) AS occurred_at,
               {_column(spec, ev.value, "DECIMAL(18,4)")} AS value,
               CASE WHEN {_column(spec, ev.value, "DECIMAL(18,4)")} IS NOT NULL THEN $currency END AS currency,
               {utm}, {_column(spec, ev.channel)} AS channel,
               {"to_json(struct_pack(" + props + "))" if props else "NULL::JSON"} AS properties,
               $ds AS source, t._load_id AS load_id, t._partition_date
        FROM {ident(spec.table)} t JOIN _keys k ON k.key = t.{ident(spec.customer_field)}
        WHERE t._partition_date BETWEEN $a AND $b AND NOT k.excluded"""


def build_events(
    con: duckdb.DuckDBPyConnection, config: CustomersConfig, first: dt.date, last: dt.date | None = None
) -> dict[str, int]:
    """Replace the partitions ``first``..``last`` (default: ``first`` alone) of `events` from every feed's
    partitions, in one transaction and one pass per feed; returns rows per feed."""
    last = last or first
    window = {"a": first, "b": last}
    con.execute(sql("customers/events/create_events"))
    # An event belongs to its customer_id; an anonymous one (NULL) is found by the identifier it holds.
    register_customer_table(con, EVENTS, "customer_id", CUSTOMER_ID)
    for kind in sorted({k for spec in config.transactions for k in spec.customer_keys}):
        register_customer_table(con, EVENTS, "customer_key", kind)
    con.execute(sql("customers/identity/create_identities"))
    con.execute(sql("customers/identity/resolved_from_table"))
    counts = {}
    with transaction(con):
        con.execute(f"DELETE FROM {EVENTS} WHERE _partition_date BETWEEN $a AND $b", window)
        for spec in config.transactions:
            if not table_exists(con, spec.table):
                continue
            resolve_keys(con, config, spec, where="_partition_date BETWEEN $a AND $b", params=window)
            query = f"INSERT INTO {EVENTS} {feed_select(spec)}"
            counts[spec.name] = con.execute(
                query,
                bind(
                    query,
                    {
                        "ds": spec.name,
                        "type": spec.event_type or spec.name,
                        "from": list(spec.event.type_map) or ["-"],
                        "to": list(spec.event.type_map.values()) or ["-"],
                        "currency": spec.event.currency,
                        "context": spec.context.value,
                        **window,
                    },
                ),
            ).fetchall()[0][0]
    return counts
