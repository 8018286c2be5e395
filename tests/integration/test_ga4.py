"""GA4 export source: a hand-built export day (nested repeated event_params, traffic sources,
ecommerce, items) in bqemulator, read through the real BigQuery client, becomes exactly the
expected page views, sessions and purchase, each with its channel."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from pipeline.core.warehouse import connect
from pipeline.ingest.sources.ga4 import FIELDS, flatten
from tests.conftest import example_dict, make_config, run_nightly
from tests.integration.helpers import failure_text

PROJECT, DATASET = "nightjar-test", "analytics_123456"
DAY = dt.date(2026, 1, 5)
ORDERS_DAY = dt.date(2026, 1, 7)  # a day of purchases only (see ORDERS)
T0 = int(dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC).timestamp() * 1_000_000)
SF = bigquery.SchemaField
VALUE = SF(
    "value",
    "RECORD",
    fields=[
        SF("string_value", "STRING"),
        SF("int_value", "INT64"),
        SF("float_value", "FLOAT64"),
        SF("double_value", "FLOAT64"),
    ],
)
SCHEMA = [
    SF("event_date", "STRING"),
    SF("event_timestamp", "INT64"),
    SF("event_name", "STRING"),
    SF("event_params", "RECORD", mode="REPEATED", fields=[SF("key", "STRING"), VALUE]),
    SF("user_id", "STRING"),
    SF("user_pseudo_id", "STRING"),
    SF(
        "traffic_source",
        "RECORD",
        fields=[SF("name", "STRING"), SF("medium", "STRING"), SF("source", "STRING")],
    ),
    SF(
        "collected_traffic_source",
        "RECORD",
        fields=[
            SF("manual_source", "STRING"),
            SF("manual_medium", "STRING"),
            SF("manual_campaign_name", "STRING"),
        ],
    ),
    SF("ecommerce", "RECORD", fields=[SF("purchase_revenue", "FLOAT64"), SF("transaction_id", "STRING")]),
    SF(
        "items",
        "RECORD",
        mode="REPEATED",
        fields=[
            SF("item_id", "STRING"),
            SF("item_name", "STRING"),
            SF("quantity", "INT64"),
            SF("price", "FLOAT64"),
        ],
    ),
]


def p(key, s=None, i=None, f=None, d=None):
    return {"key": key, "value": {"string_value": s, "int_value": i, "float_value": f, "double_value": d}}


def ev(n, name, pseudo, params, user=None, cts=None, ts=None, ecommerce=None, items=None):
    return {
        "event_date": "20260105",
        "event_timestamp": T0 + n * 1_000_000,
        "event_name": name,
        "event_params": params,
        "user_id": user,
        "user_pseudo_id": pseudo,
        "traffic_source": ts or {"name": "(direct)", "medium": "(none)", "source": "(direct)"},
        "collected_traffic_source": cts,
        "ecommerce": ecommerce,
        "items": items or [],
    }


ROWS = [
    # u1: a session from a paid Google click, a page view, a purchase of 2 + 1 items
    ev(
        0,
        "session_start",
        "p1",
        [p("ga_session_id", i=111), p("page_location", "https://shop/x")],
        user="C1",
        cts={"manual_source": "google", "manual_medium": "cpc", "manual_campaign_name": "winter"},
    ),
    ev(
        1,
        "page_view",
        "p1",
        [p("ga_session_id", i=111), p("page_location", "https://shop/x")],
        user="C1",
        cts={"manual_source": "google", "manual_medium": "cpc", "manual_campaign_name": "winter"},
    ),
    ev(
        2,
        "purchase",
        "p1",
        [p("ga_session_id", i=111)],
        user="C1",
        cts={"manual_source": "google", "manual_medium": "cpc", "manual_campaign_name": "winter"},
        ecommerce={"purchase_revenue": 42.5, "transaction_id": "T1"},
        items=[
            {"item_id": "SKU1", "quantity": 2, "price": 15.0},
            {"item_id": "SKU2", "quantity": 1, "price": 12.5},
        ],
    ),
    # an anonymous visitor from a newsletter (event params carry the tags)
    ev(
        3,
        "session_start",
        "p2",
        [p("ga_session_id", i=222), p("source", "newsletter"), p("medium", "email"), p("campaign", "jan")],
    ),
    # scroll events are not read
    ev(4, "scroll", "p2", [p("ga_session_id", i=222)]),
    # direct traffic (first-touch traffic_source only)
    ev(5, "page_view", "p3", [p("ga_session_id", i=333), p("page_location", "https://shop/")]),
]


def order(n, pseudo, params, ecommerce=None, items=None):
    """A purchase on ORDERS_DAY, ``n`` seconds after 09:00."""
    row = ev(n, "purchase", pseudo, params, ecommerce=ecommerce, items=items)
    return {**row, "event_date": "20260107", "event_timestamp": row["event_timestamp"] + 2 * 86_400_000_000}


ORDERS = [
    # GA4 needs an item_id or an item_name: an item without an id is shown by its name, one with
    # neither as (not set), each with its quantity (1 when it has none)
    order(
        0,
        "p4",
        [],
        ecommerce={"purchase_revenue": 20.0, "transaction_id": "T2"},
        items=[
            {"item_id": "SKU1", "item_name": "Mug", "quantity": 2},
            {"item_id": None, "item_name": "Gift card", "quantity": 1},
            {"item_id": None, "item_name": None, "quantity": None},
        ],
    ),
    # no ecommerce.purchase_revenue: the revenue is the `value` parameter, in whichever of GA4's
    # value fields holds it (a number sent as text is a string_value)
    order(1, "p5", [p("value", f=19.5)]),
    order(2, "p6", [p("value", d=30.25)]),
    order(3, "p7", [p("value", i=7)]),
    order(4, "p8", [p("value", s=" 12.50")]),
    order(5, "p9", [p("value", s="n/a")]),  # not a number: the row is rejected, with its reason
    order(6, "p10", [p("value", d=99.0)], ecommerce={"purchase_revenue": 5.0, "transaction_id": "T3"}),
]


@pytest.fixture(scope="module")
def export(bigquery_emulator):
    client = bigquery.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": bigquery_emulator},
    )
    client.create_dataset(DATASET, exists_ok=True)
    table = client.create_table(
        bigquery.Table(f"{PROJECT}.{DATASET}.events_20260105", schema=SCHEMA), exists_ok=True
    )
    assert client.insert_rows_json(table, ROWS) == []
    intraday = client.create_table(
        bigquery.Table(f"{PROJECT}.{DATASET}.events_intraday_20260106", schema=SCHEMA), exists_ok=True
    )
    late = ev(
        0,
        "page_view",
        "p9",
        [p("page_location", "https://shop/late")],
        ts={"name": "spring", "medium": "referral", "source": "blog.example"},
    )
    late["event_timestamp"] += 86_400_000_000
    assert client.insert_rows_json(intraday, [late]) == []
    orders = client.create_table(
        bigquery.Table(f"{PROJECT}.{DATASET}.events_20260107", schema=SCHEMA), exists_ok=True
    )
    assert client.insert_rows_json(orders, ORDERS) == []
    return bigquery_emulator


def ga4_config(folder, url, **changes):
    data = example_dict()
    data["sources"].append(
        {"name": "ga4", "kind": "ga4", "project": PROJECT, "dataset": DATASET, "endpoint": url}
    )
    fields = [
        {"name": n, "type": t, **({"required": True} if n == "event_id" else {})} for n, t in FIELDS.items()
    ]
    data["transactions"].append(
        {
            "name": "ga4",
            "source": "ga4",
            "customer_field": "customer_id",
            "time_field": "event_time",
            "context": "WEB",
            "event": {
                "type_field": "event_type",
                "value": "revenue",
                "channel": "channel",
                "utm": {"source": "source", "medium": "medium", "campaign": "campaign"},
            },
            "fields": fields,
        }
    )
    return make_config(folder, sources=data["sources"], transactions=data["transactions"], **changes)


def test_a_hand_built_export_day_becomes_the_expected_events_and_channels(tmp_path, export):
    config = ga4_config(tmp_path, export)
    result = run_nightly(config, DAY, dt.date(2026, 1, 6), assets=["tx_ga4"])
    assert result.success, failure_text(result)
    with connect(config.warehouse_path, read_only=True) as con:
        got = con.execute(
            "SELECT event_time, customer_id, event_type, session_id, source, medium, campaign, channel, "
            "transaction_id, revenue, items, item_count FROM tx_ga4 ORDER BY event_time"
        ).fetchall()
    t = dt.datetime(2026, 1, 5, 9, 0)
    s = dt.timedelta(seconds=1)
    assert got == [
        (t, "C1", "startedSession", "111", "google", "cpc", "winter", "Paid Search", None, None, None, None),
        (t + s, "C1", "viewedPage", "111", "google", "cpc", "winter", "Paid Search", None, None, None, None),
        (
            t + 2 * s,
            "C1",
            "completedOrder",
            "111",
            "google",
            "cpc",
            "winter",
            "Paid Search",
            "T1",
            42.5,
            "SKU1 x2, SKU2 x1",
            3,
        ),
        (
            t + 3 * s,
            "p2",
            "startedSession",
            "222",
            "newsletter",
            "email",
            "jan",
            "Email",
            None,
            None,
            None,
            None,
        ),
        (
            t + 5 * s,
            "p3",
            "viewedPage",
            "333",
            "(direct)",
            "(none)",
            "(direct)",
            "Direct",
            None,
            None,
            None,
            None,
        ),
        # the next day has only an intraday table
        (
            t + dt.timedelta(days=1),
            "p9",
            "viewedPage",
            None,
            "blog.example",
            "referral",
            "spring",
            "Referral",
            None,
            None,
            None,
            None,
        ),
    ]


def _one(source, medium):
    return {
        "event_name": "page_view",
        "event_timestamp": T0,
        "user_id": None,
        "user_pseudo_id": "p",
        "event_params": [],
        "traffic_source": {"name": None, "medium": medium, "source": source},
    }


@pytest.mark.parametrize(
    "source, medium, channel",
    [
        ("google", "organic", "Organic Search"),
        ("bing", "cpc", "Paid Search"),
        ("facebook", "paid_social", "Paid Social"),
        ("m.facebook.com", "referral", "Organic Social"),
        ("instagram", "social", "Organic Social"),
        ("mailchimp", "email", "Email"),
        ("partner.example", "referral", "Referral"),
        ("(direct)", "(none)", "Direct"),
        ("gdn", "display", "Display"),
        ("awin", "affiliate", "Affiliates"),
        ("radio", "offline", "Other"),
    ],
)
def test_default_channel_grouping(tmp_path, source, medium, channel):
    raw = pa.Table.from_pylist([_one(source, medium)])
    out = tmp_path / "out.parquet"
    assert flatten(raw, out) == 1
    assert pq.read_table(out).column("channel").to_pylist() == [channel]


def test_an_event_with_a_user_id_and_no_pseudo_id_keeps_an_event_id(tmp_path):
    # consent mode: GA4 exports some events with user_pseudo_id NULL; event_id is required
    rows = [{**_one("(direct)", "(none)"), "user_id": "C1", "user_pseudo_id": None}]
    out = tmp_path / "out.parquet"
    assert flatten(pa.Table.from_pylist(rows), out) == 1
    got = pq.read_table(out).select(["event_id", "customer_id"]).to_pylist()
    assert got == [{"event_id": f"C1:{T0}:page_view", "customer_id": "C1"}]


def test_the_export_day_becomes_warehouse_events_with_channels(tmp_path, export):
    config = ga4_config(tmp_path, export)
    (tmp_path / "files" / "customers_20260105.csv").write_text("customuid,txt_name\nC1,Ann\n")
    result = run_nightly(config, DAY, assets=["customers", "customer_identities", "tx_ga4", "events"])
    assert result.success, failure_text(result)
    with connect(config.warehouse_path, read_only=True) as con:
        got = con.execute(
            "SELECT occurred_at, customer_id, customer_key, type, context, value::VARCHAR, utm_source, "
            "utm_medium, "
            "utm_campaign, channel FROM events WHERE source = 'ga4' ORDER BY occurred_at"
        ).fetchall()
    t, s = dt.datetime(2026, 1, 5, 9, 0), dt.timedelta(seconds=1)
    assert got == [
        (t, "C1", "C1", "startedSession", "WEB", None, "google", "cpc", "winter", "Paid Search"),
        (t + s, "C1", "C1", "viewedPage", "WEB", None, "google", "cpc", "winter", "Paid Search"),
        (
            t + 2 * s,
            "C1",
            "C1",
            "completedOrder",
            "WEB",
            "42.500000000000000000",
            "google",
            "cpc",
            "winter",
            "Paid Search",
        ),
        (t + 3 * s, None, "p2", "startedSession", "WEB", None, "newsletter", "email", "jan", "Email"),
        (t + 5 * s, None, "p3", "viewedPage", "WEB", None, "(direct)", "(none)", "(direct)", "Direct"),
    ]


def test_a_purchase_lists_each_item_by_its_id_else_its_name(tmp_path, export):
    config = ga4_config(tmp_path, export)
    result = run_nightly(config, ORDERS_DAY, assets=["tx_ga4"])
    assert result.success, failure_text(result)
    with connect(config.warehouse_path, read_only=True) as con:
        got = con.execute(
            "SELECT user_pseudo_id, transaction_id, revenue, items, item_count FROM tx_ga4 "
            "WHERE user_pseudo_id = 'p4'"
        ).fetchall()
    assert got == [("p4", "T2", 20.0, "SKU1 x2, Gift card x1, (not set) x1", 4)]


def test_the_revenue_is_the_value_parameter_in_whichever_field_holds_it(tmp_path, export):
    config = ga4_config(tmp_path, export, checks={"max_reject_rate": 0.5})
    result = run_nightly(config, ORDERS_DAY, assets=["tx_ga4"])
    assert result.success, failure_text(result)
    with connect(config.warehouse_path, read_only=True) as con:
        got = con.execute(
            "SELECT user_pseudo_id, revenue FROM tx_ga4 WHERE user_pseudo_id <> 'p4' ORDER BY event_time"
        ).fetchall()
        rejects = con.execute("SELECT row_number, field, reason FROM rejects").fetchall()
        loads = con.execute("SELECT rows_read, rows_loaded, rows_rejected FROM loads").fetchall()
    assert got == [("p5", 19.5), ("p6", 30.25), ("p7", 7.0), ("p8", 12.5), ("p10", 5.0)]
    assert rejects == [(6, "revenue", "revenue: 'n/a' is not a Float")]
    assert loads == [(7, 6, 1)]


def test_an_export_whose_items_have_no_item_name_still_flattens(tmp_path):
    # item_name is in every GA4 export; a hand-made table without it reads as items without names
    rows = [
        {
            **_one("(direct)", "(none)"),
            "event_name": "purchase",
            "items": [
                {"item_id": "SKU1", "quantity": 3},
                {"item_id": None, "quantity": None},
                {"item_id": "", "quantity": 2},  # an empty id is no id
            ],
        }
    ]
    out = tmp_path / "out.parquet"
    assert flatten(pa.Table.from_pylist(rows), out) == 1
    got = pq.read_table(out).select(["items", "item_count"]).to_pylist()
    assert got == [{"items": "SKU1 x3, (not set) x1, (not set) x2", "item_count": 6}]


def test_a_session_id_sent_as_text_is_kept(tmp_path):
    # ga_session_id is an int_value in GA4's schema, but some streams send it as string_value: it was NULL
    rows = [
        {**_one("(direct)", "(none)"), "event_params": [p("ga_session_id", i=1767600000)]},
        {**_one("(direct)", "(none)"), "event_params": [p("ga_session_id", s="1767600001")]},
        {**_one("(direct)", "(none)"), "event_params": [p("page_location", s="https://x.example/")]},
    ]
    out = tmp_path / "out.parquet"
    assert flatten(pa.Table.from_pylist(rows), out) == 3
    assert pq.read_table(out).column("session_id").to_pylist() == ["1767600000", "1767600001", None]
