"""BigQuery source against bqemulator through the real google-cloud-bigquery client."""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from pipeline.ingest.sources import bigquery as bq
from tests.conftest import run_nightly
from tests.integration.helpers import D1, D2, everything_said, failure_text, loads, remote_config, tx_rows

PROJECT = "nightjar-test"
QUERY = (
    "SELECT order_id, customer_id, purchased_at, store, product, quantity, amount "
    "FROM `nightjar-test.shop.orders` WHERE purchased_at >= @start AND purchased_at < @end"
)


@pytest.fixture(scope="module")
def shop(bigquery_emulator):
    client = bigquery.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": bigquery_emulator},
    )
    client.create_dataset("shop", exists_ok=True)
    schema = [
        bigquery.SchemaField("order_id", "STRING"),
        bigquery.SchemaField("customer_id", "STRING"),
        bigquery.SchemaField("purchased_at", "TIMESTAMP"),
        bigquery.SchemaField("store", "STRING"),
        bigquery.SchemaField("product", "STRING"),
        bigquery.SchemaField("quantity", "INT64"),
        bigquery.SchemaField("amount", "NUMERIC"),
    ]
    table = client.create_table(bigquery.Table(f"{PROJECT}.shop.orders", schema=schema), exists_ok=True)
    errors = client.insert_rows_json(
        table,
        [
            {
                "order_id": "B1",
                "customer_id": "C1",
                "purchased_at": "2026-01-05T00:00:00Z",
                "store": "S1",
                "product": "P1",
                "quantity": 1,
                "amount": "10.50",
            },
            {
                "order_id": "B2",
                "customer_id": "C2",
                "purchased_at": "2026-01-05T23:59:59Z",
                "store": "S1",
                "product": "P2",
                "quantity": 2,
                "amount": "3",
            },
            {
                "order_id": "B3",
                "customer_id": "C3",
                "purchased_at": "2026-01-06T00:00:00Z",
                "store": "S2",
                "product": "P2",
                "quantity": 4,
                "amount": "4.25",
            },
            {
                "order_id": "B0",
                "customer_id": "C0",
                "purchased_at": "2026-01-04T23:59:59Z",
                "store": "S2",
                "product": "P2",
                "quantity": 4,
                "amount": "1",
            },
        ],
    )
    assert errors == []
    return bigquery_emulator


def bq_source(url: str, query: str = QUERY, **changes) -> dict:
    return {
        "name": "bq",
        "kind": "bigquery",
        "project": PROJECT,
        "endpoint": url,
        "queries": {"pos": {"sql": query}},
        **changes,
    }


def test_a_day_is_queried_with_its_window_as_parameters_and_a_rerun_changes_nothing(tmp_path, shop):
    config = remote_config(tmp_path, bq_source(shop), file_name=None)
    result = run_nightly(config, D1, D2, assets=["tx_pos"])
    assert result.success, failure_text(result)
    expected = [
        ("B1", "C1", D1, "S1", "P1", 1, "10.5000"),
        ("B2", "C2", D1, "S1", "P2", 2, "3.0000"),
        ("B3", "C3", D2, "S2", "P2", 4, "4.2500"),
    ]
    assert tx_rows(config) == expected
    assert run_nightly(config, D1, assets=["tx_pos"]).success
    assert tx_rows(config) == expected
    assert [(r[0], r[2], r[3]) for r in loads(config)] == [
        (D1, "LOADED", 2),
        (D2, "LOADED", 1),
        (D1, "LOADED", 2),
    ]


def test_a_bad_query_is_one_clear_error_naming_the_source(tmp_path, shop):
    config = remote_config(
        tmp_path, bq_source(shop, "SELECT nope FROM `nightjar-test.shop.missing`"), file_name=None
    )
    result = run_nightly(config, D1, assets=["tx_pos"])
    assert not result.success
    assert "bigquery source 'bq': the query failed" in failure_text(result)
    assert loads(config)[0][2] == "FAILED"


def test_bad_credentials_are_one_clear_error_and_the_key_is_never_shown(tmp_path, shop, monkeypatch):
    keyfile = tmp_path / "sa.json"
    keyfile.write_text(
        json.dumps({"type": "service_account", "private_key": "PRIVATE-Kq77-secret", "client_email": "a@b"})
    )
    monkeypatch.setenv("BQ_KEY_FILE", str(keyfile))
    config = remote_config(tmp_path, bq_source(shop, credentials_env="BQ_KEY_FILE"), file_name=None)
    instance = dg.DagsterInstance.ephemeral()
    result = run_nightly(config, D1, assets=["tx_pos"], instance=instance)
    assert not result.success
    assert (
        "bigquery source 'bq': cannot use the service-account key file named by credentials_env"
        in failure_text(result)
    )
    assert "PRIVATE-Kq77-secret" not in everything_said(result, instance, config)


def test_query_parameters_are_bound_not_formatted(shop, tmp_path):
    client = bq.make_client("bq", PROJECT, None, shop)
    path = tmp_path / "out.parquet"
    params = bq.window_parameters(dt.date(2026, 1, 5))
    n = bq.query_batches(client, "bq", "SELECT @day AS d, @start AS s, @end AS e", params, path)
    import pyarrow.parquet as pq

    t = pq.read_table(path).to_pylist()
    assert n == 1
    assert t[0]["d"] == dt.date(2026, 1, 5)
    assert t[0]["s"] == dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    assert t[0]["e"] == dt.datetime(2026, 1, 6, tzinfo=dt.UTC)


def test_validate_dry_runs_the_queries(tmp_path, shop, capsys):
    from pipeline.ingest.validate import check_remote_sources

    good = remote_config(tmp_path, bq_source(shop), file_name=None)
    errors, notes = check_remote_sources(good)
    assert errors == [] and any("query of 'pos' is valid (dry run" in n for n in notes)
    bad = remote_config(
        tmp_path, bq_source(shop, "SELECT nope FROM `nightjar-test.shop.missing`"), file_name=None
    )
    errors, _ = check_remote_sources(bad)
    assert len(errors) == 1 and errors[0].startswith("bigquery source 'bq': the dry run of the query failed")


def test_a_dropped_connection_is_retried_and_the_day_completes(tmp_path, shop):
    from tests.integration.proxy import CuttingProxy

    port = int(shop.rsplit(":", 1)[1])
    proxy = CuttingProxy(port)
    try:
        config = remote_config(tmp_path, bq_source(proxy.url), file_name=None)
        proxy.cut_after = 1500  # inside the first answers of the job
        result = run_nightly(config, D1, assets=["tx_pos"])
        assert result.success, failure_text(result)
        assert proxy.cuts == 1
        assert [r[0] for r in tx_rows(config)] == ["B1", "B2"]
    finally:
        proxy.stop()
