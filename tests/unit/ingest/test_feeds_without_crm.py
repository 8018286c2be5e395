"""Feeds alone, no customer data: a touch feed and a conversion feed (range files, Float values of
1/3) go through ingestion, events and attribution. Each key is its own customer (identity
unknown_keys: own_id, the default without customer data), every conversion is credited in full,
and the Float values reach attribution_credits and attribution_summary as the doubles they are."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.attribution.credits import CREDITS, SUMMARY, build_attribution
from pipeline.config import parse_config
from pipeline.core.sql import sql
from pipeline.core.warehouse import connect
from pipeline.customers.events import build_events
from pipeline.ingest.ranges import ingest_range_file
from pipeline.ingest.sources.local_files import landed_file
from tests.unit.attribution.helpers import CHANNELS, DAY, ts

THIRD = 1 / 3
VISITS = "visitor,at,channel\nV1,{a},Search\nV1,{b},Email\nv2,{b},Display\nV3,{b},Direct\n"
ORDERS = "visitor,at,value\nV1,{c},{x!r}\nV2,{c},{y!r}\nV9,{c},{z!r}\n"


def _config(root: Path, **identity) -> dict:
    def feed(name: str, fields: list, event: dict) -> dict:
        return {
            "name": name,
            "source": "landing",
            "file_name": name,
            "files": "range",
            "customer_field": "visitor",
            "time_field": "at",
            "event": event,
            "fields": [{"name": "visitor", "type": "String"}, {"name": "at", "type": "Timestamp"}, *fields],
        }

    data = {
        "start_date": "2026-01-01",
        "warehouse": "w.duckdb",
        "sources": [{"name": "landing", "kind": "local_files", "folder": "files"}],
        "transactions": [
            feed("visits", [{"name": "channel", "type": "String"}], {"type": "visit", "channel": "channel"}),
            feed("orders", [{"name": "value", "type": "Float"}], {"type": "order", "value": "value"}),
        ],
        "attribution": {
            "channels": CHANNELS,
            "touchpoints": [{"type": "visit"}],
            "conversions": [{"name": "order", "type": "order"}],
        },
    }
    if identity:
        data["identity"] = identity
    return data


def _run(tmp_path: Path, **identity):
    config = parse_config(_config(tmp_path, **identity), "t.yaml", tmp_path)
    folder = tmp_path / "files"
    folder.mkdir(exist_ok=True)
    times = {"a": ts(-3).isoformat(), "b": ts(-1).isoformat(), "c": ts(0).isoformat()}
    (folder / "visits.csv").write_text(VISITS.format(**times))
    (folder / "orders.csv").write_text(ORDERS.format(**times, x=THIRD, y=2 * THIRD, z=0.1 / 3))
    con_cm = connect(config.warehouse_path)
    con = con_cm.__enter__()
    for spec in config.transactions:
        path = folder / f"{spec.file_name}.csv"
        results = ingest_range_file(con, spec, "landing", landed_file(path, DAY))
        assert all(r.rows_read == r.rows_loaded + r.rows_rejected for r in results)
    build_events(con, config, ts(-3).date(), DAY)
    build_attribution(con, config, DAY)
    return con_cm, con


def test_touch_and_conversion_feeds_without_customer_data_are_attributed(tmp_path: Path) -> None:
    cm, con = _run(tmp_path)
    try:
        # each conversion is credited in full to its own visitor's touches (v2 and V2 are one key)
        by_conversion = con.execute(
            f"""SELECT customer_id, model, sum(credit_share), sum(credited_value), any_value(conversion_value)
                FROM {CREDITS} GROUP BY ALL ORDER BY ALL"""
        ).fetchall()
        assert {r[0] for r in by_conversion} == {"v1", "v2", "v9"}
        for customer, model, share, credited, value in by_conversion:
            assert share == pytest.approx(1.0, rel=1e-12), (customer, model)
            assert credited == pytest.approx(value, rel=1e-12), (customer, model)
        values = {c: v for c, _, _, _, v in by_conversion}
        assert abs(values["v1"] - THIRD) / THIRD < 1e-12
        assert abs(values["v2"] - 2 * THIRD) / (2 * THIRD) < 1e-12
        assert abs(values["v9"] - 0.1 / 3) / (0.1 / 3) < 1e-12
        # last click: v1's third goes to Email, v2's two thirds to Display; the summary keeps them
        summary = dict(
            con.execute(f"SELECT channel, value FROM {SUMMARY} WHERE model = 'Last Click'").fetchall()
        )
        assert abs(summary["Email"] - THIRD) / THIRD < 1e-12
        assert abs(summary["Display"] - 2 * THIRD) / (2 * THIRD) < 1e-12
        events = con.execute("SELECT float_value FROM events WHERE type = 'order' ORDER BY 1").fetchall()
        assert [v for (v,) in events] == sorted([THIRD, 2 * THIRD, 0.1 / 3])  # the doubles, bit for bit
    finally:
        cm.__exit__(None, None, None)


def test_anonymous_unknown_keys_leave_the_feeds_unattributed(tmp_path: Path) -> None:
    cm, con = _run(tmp_path, unknown_keys="anonymous")
    try:
        assert con.execute("SELECT count(*) FROM events WHERE customer_id IS NOT NULL").fetchall() == [(0,)]
        assert con.execute(f"SELECT count(*) FROM {CREDITS}").fetchall() == [(0,)]
    finally:
        cm.__exit__(None, None, None)


def test_events_built_before_float_value_gain_it(tmp_path: Path) -> None:
    """A warehouse whose `events` predates float_value (value DECIMAL(18,4)) still builds events."""
    config = parse_config(_config(tmp_path), "t.yaml", tmp_path)
    with connect(config.warehouse_path) as con:
        old = sql("customers/events/create_events").split("ALTER TABLE")[0]
        old = old.replace("DECIMAL(38,18)", "DECIMAL(18,4)").replace("float_value       DOUBLE,", "")
        con.execute(old)
    cm, con = _run(tmp_path)
    try:
        got = con.execute("SELECT value, float_value FROM events WHERE customer_id = 'v1' AND type = 'order'")
        value, exact = got.fetchall()[0]
        assert str(value) == "0.3333" and exact == THIRD  # the old column rounds; float_value is exact
    finally:
        cm.__exit__(None, None, None)
