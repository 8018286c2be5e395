"""Hand-built events for the attribution tests: a tiny warehouse in memory, no files."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from pipeline.attribution.config import AttributionSpec
from pipeline.attribution.credits import CREDITS, SUMMARY, build_attribution
from pipeline.config import ProjectConfig
from pipeline.core.sql import sql

DAY = dt.date(2026, 3, 10)
CHANNELS = [
    {"id": 1, "name": "Search"},
    {"id": 2, "name": "Email"},
    {"id": 3, "name": "Display", "paid": True},
    {"id": 4, "name": "Direct"},
]


def ts(day_offset: float, hour: float = 12.0) -> dt.datetime:
    """A time ``day_offset`` days after DAY (negative: before), at ``hour``."""
    return dt.datetime.combine(DAY, dt.time()) + dt.timedelta(days=day_offset, hours=hour)


def spec(models: list[dict] | None = None, **changes) -> AttributionSpec:
    """The models' tests read the credits per touch (perTouchCredits: true) unless told otherwise."""
    data = {
        "perTouchCredits": True,
        "channels": CHANNELS,
        "touchpoints": [{"type": "visit"}],
        "conversions": [{"name": "order", "type": "order"}],
        "models": models or [],
        **changes,
    }
    return AttributionSpec.model_validate(data)


def config(att: AttributionSpec, warehouse: str = "w.duckdb") -> ProjectConfig:
    return ProjectConfig.model_validate(
        {"start_date": "2026-01-01", "warehouse": warehouse, "attribution": att.model_dump(by_alias=True)}
    )


def load_events(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    """rows: (event_id, customer_id, type, time, channel, value[, utm_campaign])."""
    con.execute(sql("customers/events/create_events"))
    con.execute("DELETE FROM events")
    cols = list(zip(*[(*r, None)[:7] if len(r) == 6 else r for r in rows], strict=True)) if rows else [[]] * 7
    t = pa.table(
        {
            "event_id": pa.array(cols[0], pa.string()),
            "customer_id": pa.array(cols[1], pa.string()),
            "type": pa.array(cols[2], pa.string()),
            "occurred_at": pa.array(cols[3], pa.timestamp("us")),
            "channel": pa.array(cols[4], pa.string()),
            "value": pa.array([None if v is None else float(v) for v in cols[5]], pa.float64()),
            "utm_campaign": pa.array(cols[6], pa.string()),
        }
    )
    con.register("_rows", t)
    con.execute("""INSERT INTO events (event_id, customer_id, customer_key, customer_key_kind, type, context,
                   occurred_at, value, utm_campaign, channel, source, load_id, _partition_date)
                   SELECT event_id, customer_id, customer_id, 'customuid', type, 'WEB', occurred_at, value,
                          utm_campaign, channel, type, 1, occurred_at::DATE FROM _rows""")
    con.unregister("_rows")


def attribute(
    rows: list[tuple], att: AttributionSpec, day: dt.date = DAY, con: duckdb.DuckDBPyConnection | None = None
) -> duckdb.DuckDBPyConnection:
    """Load the events and build the day's attribution on an in-memory warehouse; returns the connection."""
    con = con or duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(sql("core/schema"))
    load_events(con, rows)
    build_attribution(con, config(att), day)
    return con


def credits(con: duckdb.DuckDBPyConnection, model: str) -> list[tuple]:
    """(conversion_id, touch_id, channel, share, value) of a model, in a stable order."""
    return con.execute(
        f"""SELECT conversion_id, touch_id, channel, round(credit_share, 12), round(credited_value, 9)
            FROM {CREDITS}
            WHERE model = ? ORDER BY conversion_id, touched_at NULLS LAST, touch_id""",
        [model],
    ).fetchall()


def summary(con: duckdb.DuckDBPyConnection, model: str) -> dict[str, tuple[float, float]]:
    return {
        ch: (round(c, 12), round(v, 9))
        for ch, c, v in con.execute(
            f"SELECT channel, conversions, value FROM {SUMMARY} WHERE model = ?", [model]
        ).fetchall()
    }
