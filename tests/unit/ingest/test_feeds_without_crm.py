"""Feeds alone, no customer data: a touch feed and a conversion feed (range files, Float values of
1/3) go through ingestion, events, attribution, an experiment's conversions and the KPIs. Each key is
its own customer (identity unknown_keys: own_id, the default without customer data), every conversion
is credited in full, the Float values reach attribution_credits and attribution_summary as the doubles
they are and conversions and the KPIs to 18 decimals, and Decimal values add up exactly."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.attribution.credits import CREDITS, SUMMARY, build_attribution
from pipeline.config import parse_config
from pipeline.core.sql import sql
from pipeline.core.warehouse import EXACT_SUM_LIMIT, connect
from pipeline.customers.events import build_events
from pipeline.customers.kpis import prepare, rebuild
from pipeline.experiments import conversions
from pipeline.experiments.conversions import loaded_days, measure
from pipeline.experiments.report import build_report
from pipeline.ingest.ranges import ingest_range_file
from pipeline.ingest.sources.local_files import landed_file
from tests.conftest import UPLOADED_CONVERSIONS
from tests.unit.attribution.helpers import CHANNELS, DAY, ts

THIRD = 1 / 3
ORDER = "completedOrder"  # the KPIs' order type
FLOAT = {"type": "Float"}
VISITS = "visitor,at,channel\nV1,{a},Search\nV1,{b},Email\nv2,{b},Display\nV3,{b},Direct\n"
ORDERS = "visitor,at,value\nV1,{c},{x}\nV2,{c},{y}\nV9,{c},{z}\n"


def _config(
    root: Path, value: dict | None = None, uploads: bool = False, count: str = "first", **identity
) -> dict:
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
            feed("orders", [{"name": "value", **(value or FLOAT)}], {"type": ORDER, "value": "value"}),
        ],
        "attribution": {
            "channels": CHANNELS,
            "touchpoints": [{"type": "visit"}],
            "conversions": [{"name": "order", "type": ORDER}],
        },
        # an experiment whose conversion is an order, valued by the order's value
        "variants": [{"name": "a", "message": "A"}],
        "experiments": [{"name": "ab", "type": "AB", "variants": ["a"], "control_share": 0}],
        "conversions": {
            "definitions": [
                {
                    "name": "bought",
                    "experiment": "ab",
                    "value_field": "value",
                    "count": count,
                    "rules": [{"transaction": "orders", "field": "visitor", "formula": {"neq": ""}}],
                }
            ]
        },
    }
    if uploads:  # uploaded conversions of the experiment, Float values
        data["transactions"].append({**UPLOADED_CONVERSIONS, "source": "landing", "files": "range"})
        data["transactions"][-1]["fields"][-1] = {"name": "conversion_value", "type": "Float"}
        data["conversions"]["uploaded"] = UPLOADED_CONVERSIONS["name"]
    if identity:
        data["identity"] = identity
    return data


def _run(
    tmp_path: Path,
    values: tuple = (THIRD, 2 * THIRD, 0.1 / 3),
    value: dict | None = None,
    uploads: str | None = None,
    more_orders: str = "",
    count: str = "first",
    kpis: bool = True,
    **identity,
):
    """Ingest, build the events, attribute, measure the conversions (the definition counting ``count``)
    and the KPIs (unless not ``kpis``); ``more_orders``: lines added to the orders."""
    data = _config(tmp_path, value, uploads is not None, count, **identity)
    config = parse_config(data, "t.yaml", tmp_path)
    folder = tmp_path / "files"
    folder.mkdir(exist_ok=True)
    times = {"a": ts(-3).isoformat(), "b": ts(-1).isoformat(), "c": ts(0).isoformat()}
    if uploads is not None:
        (folder / f"{UPLOADED_CONVERSIONS['file_name']}.csv").write_text(uploads)
    (folder / "visits.csv").write_text(VISITS.format(**times))
    x, y, z = values
    (folder / "orders.csv").write_text(ORDERS.format(**times, x=x, y=y, z=z) + more_orders.format(**times))
    con_cm = connect(config.warehouse_path)
    con = con_cm.__enter__()
    for spec in config.transactions:
        path = folder / f"{spec.file_name}.csv"
        results = ingest_range_file(con, spec, "landing", landed_file(path, DAY))
        assert all(r.rows_read == r.rows_loaded + r.rows_rejected for r in results)
    build_events(con, config, ts(-3).date(), DAY)
    build_attribution(con, config, DAY)
    # each visitor was shown the experiment the day before their order; its conversions and the KPIs
    con.execute(sql("experiments/create_results"))
    con.execute(
        """INSERT INTO results (date, customer_id, experiment, variant, is_control, score, reason)
           SELECT $d, k, 'ab', 'a', FALSE, 0, 'test' FROM unnest(['v1', 'v2', 'v9']) t(k)""",
        {"d": ts(-1).date()},
    )
    measure(con, config, ts(-1).date(), loaded_days(con, config))
    if kpis:
        prepare(con)
        for kpi in ("kpi_purchases", "kpi_events"):
            rebuild(con, kpi)
    return con_cm, con


def _relative_error(got, want: float) -> float:
    return abs(float(got) - want) / want


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
        events = con.execute(f"SELECT float_value FROM events WHERE type = '{ORDER}' ORDER BY 1").fetchall()
        assert [v for (v,) in events] == sorted([THIRD, 2 * THIRD, 0.1 / 3])  # the doubles, bit for bit
        # the experiment's conversions and the KPIs' revenue keep them too (no rounding to 4 decimals)
        converted = dict(con.execute("SELECT customer_id, value FROM conversions").fetchall())
        for customer, want in (("v1", THIRD), ("v2", 2 * THIRD), ("v9", 0.1 / 3)):
            assert _relative_error(converted[customer], want) < 1e-12, customer
        revenue = con.execute(
            "SELECT revenue, average_order_value FROM kpi_purchases WHERE grain = 'month'"
        ).fetchall()
        assert _relative_error(revenue[0][0], THIRD + 2 * THIRD + 0.1 / 3) < 1e-12
        assert _relative_error(revenue[0][1], (THIRD + 2 * THIRD + 0.1 / 3) / 3) < 1e-12
    finally:
        cm.__exit__(None, None, None)


def test_anonymous_unknown_keys_leave_the_feeds_unattributed(tmp_path: Path) -> None:
    cm, con = _run(tmp_path, unknown_keys="anonymous")
    try:
        assert con.execute("SELECT count(*) FROM events WHERE customer_id IS NOT NULL").fetchall() == [(0,)]
        assert con.execute(f"SELECT count(*) FROM {CREDITS}").fetchall() == [(0,)]
    finally:
        cm.__exit__(None, None, None)


def test_decimal_values_add_up_exactly_in_conversions_and_kpis(tmp_path: Path) -> None:
    """Decimal values at their declared scale (6) reach conversions and the KPIs' revenue exactly."""
    values = ("0.000001", "0.1", "1234567.123456")
    cm, con = _run(tmp_path, tuple(Decimal(v) for v in values), {"type": "Decimal", "scale": 6})
    try:
        converted = dict(con.execute("SELECT customer_id, value FROM conversions").fetchall())
        assert [converted[c] for c in ("v1", "v2", "v9")] == [Decimal(v) for v in values]
        revenue = con.execute("SELECT revenue FROM kpi_purchases WHERE grain = 'week'").fetchall()
        assert sum(r for (r,) in revenue) == Decimal("1234567.223457")
    finally:
        cm.__exit__(None, None, None)


def test_a_warehouse_built_with_four_decimals_is_widened(tmp_path: Path) -> None:
    """A warehouse whose `events`, `conversions` and KPI tables hold values as DECIMAL(18,4) (before
    float_value, too) gets DECIMAL(38,18) columns: values loaded afterwards are no longer rounded."""
    config = parse_config(_config(tmp_path), "t.yaml", tmp_path)
    old_tables = {  # the table's statements, and what the old one had instead
        "customers/events/create_events": ("float_value       DOUBLE,", ""),
        "experiments/create_conversions": ("", ""),
        "customers/kpis/create/kpi_purchases": ("value DOUBLE", "value DECIMAL(18,4)"),
    }
    with connect(config.warehouse_path) as con:
        for name, (new, old) in old_tables.items():
            text = sql(name).split("ALTER TABLE")[0].split("CREATE OR REPLACE TEMP")[0]
            text = text.replace("DECIMAL(38,18)", "DECIMAL(18,4)")
            con.execute(text.replace(new, old) if new else text)
        assert con.execute(
            "SELECT count(*) FROM information_schema.columns WHERE data_type = 'DECIMAL(18,4)'"
        ).fetchall() == [(4,)]
    cm, con = _run(tmp_path)
    try:
        got = con.execute("SELECT value, float_value FROM events WHERE customer_id = 'v1' AND value > 0")
        value, exact = got.fetchall()[0]
        assert _relative_error(value, THIRD) < 1e-15 and exact == THIRD
        widened = con.execute(
            """SELECT table_name, column_name, data_type FROM information_schema.columns
               WHERE table_name IN ('events', 'conversions', 'guardrail_conversions', 'kpi_purchases')
                 AND column_name IN ('value', 'revenue', 'average_order_value') ORDER BY ALL"""
        ).fetchall()
        assert widened == [
            ("conversions", "value", "DECIMAL(38,18)"),
            ("events", "value", "DECIMAL(38,18)"),
            ("guardrail_conversions", "value", "DECIMAL(38,18)"),
            ("kpi_purchases", "average_order_value", "DOUBLE"),
            ("kpi_purchases", "revenue", "DECIMAL(38,18)"),
        ]
        converted = dict(con.execute("SELECT customer_id, value FROM conversions").fetchall())
        assert _relative_error(converted["v1"], THIRD) < 1e-12
    finally:
        cm.__exit__(None, None, None)


def test_a_float_beyond_what_a_decimal_holds_counts_as_no_value_everywhere(tmp_path: Path) -> None:
    """A Float value of 1e20 or more has no exact value: the events keep it in float_value only, and
    attribution and the experiment's conversions count it as none (0), the others as they are."""
    cm, con = _run(tmp_path, (1e21, 6e19, 1e20))
    try:
        converted = dict(con.execute("SELECT customer_id, value FROM conversions").fetchall())
        assert converted["v1"] == converted["v9"] == 0
        assert _relative_error(converted["v2"], 6e19) < 1e-15
        credited = con.execute(
            f"SELECT customer_id, conversion_value FROM {CREDITS} WHERE model = 'Last Click' ORDER BY 1"
        ).fetchall()
        assert credited == [("v1", 0.0), ("v2", 6e19), ("v9", 0.0)]
    finally:
        cm.__exit__(None, None, None)


def test_an_uploaded_float_beyond_what_a_decimal_holds_counts_as_no_value(tmp_path: Path) -> None:
    """An uploaded conversion (before V1's order: the one that counts) worth a Float of 1e21 is worth 0."""
    header = "customer_id,experiment,conversion_datetime,conversion_value"
    upload = f"{header}\nV1,ab,{ts(-1):%Y-%m-%d %H:%M:%S},1e21\n"
    cm, con = _run(tmp_path, uploads=upload)
    try:
        converted = dict(con.execute("SELECT customer_id, value FROM conversions").fetchall())
        assert converted["v1"] == 0
        assert _relative_error(converted["v2"], 2 * THIRD) < 1e-12
    finally:
        cm.__exit__(None, None, None)


def test_an_experiments_values_adding_up_beyond_what_a_decimal_holds_are_reported(tmp_path: Path) -> None:
    """Each value is under 1e20 but the variant's add up to 2.2e20: the report's exact sum of them
    failed (an overflow of DuckDB's DECIMAL sum); it now holds their sum."""
    cm, con = _run(tmp_path, (6e19, 7e19, 9e19), kpis=False)
    try:
        config = parse_config(_config(tmp_path), "t.yaml", tmp_path)
        build_report(con, config, include_incomplete=True)
        (presented, per_presented), *_ = con.execute(
            "SELECT presented, value_per_presented FROM experiment_report WHERE scope = 'total'"
        ).fetchall()
        assert presented == 3 and _relative_error(per_presented, 2.2e20 / 3) < 1e-15
    finally:
        cm.__exit__(None, None, None)


def test_matches_adding_up_beyond_what_a_decimal_holds_count_as_no_value(tmp_path: Path) -> None:
    """With count: all, V1's two orders (6e19 and 7e19) add up to more than the presentation's
    DECIMAL(38, 18) value holds: it counts as no value (0; the sum failed the conversions run), V9's
    (9e19 and 0.1 / 3) are summed exactly."""
    more = "V1,{c},7e19\nV9,{c},9e19\n"
    cm, con = _run(tmp_path, (6e19, 2 * THIRD, 0.1 / 3), more_orders=more, count="all", kpis=False)
    try:
        rows = con.execute("SELECT customer_id, conversions, value FROM conversions").fetchall()
        converted = {c: (n, v) for c, n, v in rows}
        exact = con.execute("SELECT sum(value) FROM events WHERE customer_id = 'v9' AND value > 0")
        assert converted == {"v1": (2, 0), "v2": (1, converted["v2"][1]), "v9": (2, exact.fetchall()[0][0])}
        assert _relative_error(converted["v2"][1], 2 * THIRD) < 1e-12
        assert _relative_error(converted["v9"][1], 9e19) < 1e-15
    finally:
        cm.__exit__(None, None, None)


def test_the_wide_sums_give_the_bits_of_the_exact_ones(tmp_path: Path, monkeypatch) -> None:
    """On ordinary values (two orders each, count: all) the conversions summed the wide way (as if
    they could reach 1e20) are those of the one exact sum, bit for bit."""
    more = "V1,{c},0.1\nV2,{c},1234567.891\nV9,{c},7.7e12\n"
    tables = []
    for limit in (EXACT_SUM_LIMIT, 0.0):
        monkeypatch.setattr(conversions, "EXACT_SUM_LIMIT", limit)
        (tmp_path / str(limit)).mkdir()
        cm, con = _run(tmp_path / str(limit), more_orders=more, count="all", kpis=False)
        try:
            tables.append(con.execute("SELECT * FROM conversions ORDER BY ALL").fetchall())
        finally:
            cm.__exit__(None, None, None)
    assert tables[0] == tables[1] and len(tables[0]) == 3
