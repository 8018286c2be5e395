"""A snapshot publishes whichever tables exist: the API reads a table it does not hold as no rows."""

from __future__ import annotations

import datetime as dt

import duckdb
from fastapi.testclient import TestClient

from pipeline.activation.api import create_app
from pipeline.activation.publish import publish
from pipeline.core.sql import sql
from pipeline.core.warehouse import published_folder

KEY = "k"
EMPTY = ["/v1/experiments", "/v1/models", "/v1/attribution/models", "/v1/attribution/summary"]
UNKNOWN = [
    "/v1/customers/c1/predictions",
    "/v1/customers/c1/recommendations",
    "/v1/customers/c1/decisions",
    "/v1/experiments/offer/report",
    "/v1/models/purchase_30d/trainings",
    "/v1/models/purchase_30d/trainings/2026-01-08/feature-impact",
    "/v1/models/purchase_30d/trainings/2026-01-08/waterfall/c1",
]


def test_a_table_the_snapshot_does_not_hold_reads_as_no_rows(tmp_path):
    # a pipeline without experiments, models or attribution publishes loads and rejects only: each of
    # these requests was a plain-text 500 ("Table with name results does not exist"), not the envelope
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(sql("core/schema"))
        version = publish(con, warehouse, dt.datetime(2026, 1, 8, 3, tzinfo=dt.UTC)).version
    app = create_app(published_folder(warehouse), (KEY,))
    with TestClient(app, headers={"X-API-Key": KEY}, raise_server_exceptions=False) as client:
        results = client.get("/v1/results", params={"date": "2026-01-08"})
        empty = {url: client.get(url) for url in EMPTY}
        unknown = {url: client.get(url) for url in UNKNOWN}
    assert results.status_code == 200
    assert results.json()["meta"]["page"] == {"number": 1, "size": 1000, "total": 0}
    assert results.json()["data"] == []
    assert {u: (r.status_code, r.json()["data"], r.json()["meta"]["snapshot"]) for u, r in empty.items()} == {
        u: (200, [], version) for u in EMPTY
    }
    assert {u: r.status_code for u, r in unknown.items()} == {u: 404 for u in UNKNOWN}
    assert all(r.json()["meta"]["errors"] for r in unknown.values())


def test_a_summary_range_that_ends_before_it_starts_is_refused(tmp_path):
    # it was 200 with no rows, while `nightjar attribution summary` refuses the same range
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(sql("core/schema"))
        publish(con, warehouse, dt.datetime(2026, 1, 8, 3, tzinfo=dt.UTC))
    app = create_app(published_folder(warehouse), (KEY,))
    with TestClient(app, headers={"X-API-Key": KEY}, raise_server_exceptions=False) as client:
        backwards = client.get("/v1/attribution/summary", params={"from": "2026-01-08", "to": "2026-01-01"})
        one_day = client.get("/v1/attribution/summary", params={"from": "2026-01-08", "to": "2026-01-08"})
    assert backwards.status_code == 422
    assert backwards.json()["meta"]["validation"] == [
        {"loc": ["query", "to"], "msg": "to (2026-01-01) is before from (2026-01-08)", "type": "value_error"}
    ]
    assert one_day.status_code == 200
