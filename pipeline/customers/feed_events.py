"""A feed's rows as `events` rows: the insert both the events of a day and the identity map use.

:func:`insert_feed_events` writes a feed's rows of the days $a..$b whose key is in `_keys` (the keys
resolved by :func:`pipeline.customers.identity.resolve_keys`) as events, leaving out excluded keys'
rows (sql/customers/events/insert_feed.sql). The events of a day (pipeline/customers/events.py) write
every key of the day's rows; the identity map writes back the rows of keys no longer excluded, on the
days whose events were built (``built_days``).
"""

from __future__ import annotations

import datetime as dt

import duckdb

from pipeline.core.settings import FieldType
from pipeline.core.sql import bind, ident, sql
from pipeline.ingest.config import TransactionSpec

UTM_KEYS = ("source", "medium", "campaign", "term", "content")
# A feed row `t` of a day whose events were built (_built_days: sql/customers/identity/built_days.sql).
BUILT_DAYS = "t._partition_date IN (SELECT b.day FROM _built_days AS b)"


def _column(field: str | None, cast: str = "VARCHAR") -> str:
    return f"CAST(t.{ident(field)} AS {cast})" if field else f"NULL::{cast}"


def event_type_sql(spec: TransactionSpec) -> str:
    """SQL: the event type of a feed row `t` (its type field through the type map, or the feed's type),
    with the parameters of :func:`feed_params`."""
    ev = spec.event
    if ev.type_field:
        raw = f"CAST(t.{ident(ev.type_field)} AS VARCHAR)"
        return f"coalesce(list_extract($to, list_position($from, {raw})), {raw}, $ds)"
    return "$type"


def feed_params(spec: TransactionSpec) -> dict[str, object]:
    """The bound values of a feed's event mapping (:func:`feed_insert`, :func:`event_type_sql`)."""
    return {
        "ds": spec.name,
        "type": spec.event_type or spec.name,
        "from": list(spec.event.type_map) or ["-"],
        "to": list(spec.event.type_map.values()) or ["-"],
        "currency": spec.event.currency,
        "feed_context": spec.context.value,
    }


def feed_insert(spec: TransactionSpec, built_days: bool = False) -> str:
    """The insert of a feed's rows of the days $a..$b into `events` (sql/customers/events/insert_feed.sql,
    its expressions generated from the feed's event mapping with every identifier quoted); with
    ``built_days``, only the rows of the days whose events were built (:data:`BUILT_DAYS`)."""
    ev = spec.event
    event_type = event_type_sql(spec)
    is_float = bool(ev.value) and spec.field(str(ev.value)).type == FieldType.Float
    mapped = {spec.customer_field, spec.time_field}
    props = ", ".join(f"{ident(f.name)} := t.{ident(f.name)}" for f in spec.fields if f.name not in mapped)
    return sql(
        "customers/events/insert_feed",
        idents={"table": spec.table, "customer_field": spec.customer_field, "time_field": spec.time_field},
        fragments={
            "event_type": event_type,
            # a Float beyond what 18 decimals hold is kept in float_value only
            "event_value": f"TRY_CAST(t.{ident(ev.value)} AS DECIMAL(38,18))"
            if is_float and ev.value
            else _column(ev.value, "DECIMAL(38,18)"),
            "event_float_value": _column(ev.value if is_float else None, "DOUBLE"),
            "utm": ", ".join(f"{_column(getattr(ev.utm, k))} AS utm_{k}" for k in UTM_KEYS),
            "channel_value": _column(ev.channel),
            "properties_value": f"to_json(struct_pack({props}))" if props else "NULL::JSON",
            "days": BUILT_DAYS if built_days else "TRUE",
        },
    )


def insert_feed_events(
    con: duckdb.DuckDBPyConnection,
    spec: TransactionSpec,
    first: dt.date,
    last: dt.date,
    built_days: bool = False,
) -> int:
    """Insert a feed's rows of the days ``first``..``last`` whose key is in `_keys` as events (see
    :func:`feed_insert`); returns how many."""
    query = feed_insert(spec, built_days)
    params = {**feed_params(spec), "a": first, "b": last}
    return int(con.execute(query, bind(query, params)).fetchall()[0][0])
