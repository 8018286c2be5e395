"""Export assets to SFTP (OpenSSH's sshd) and GCS (fake-gcs-server): each destination receives the same
bytes as `nightjar export` for the same partition, a re-run leaves one copy, and a re-run of a night without
rows leaves a file without rows."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from assets.activation import build_export_asset
from pipeline.activation.config import ExportSpec
from pipeline.activation.exports import export_to
from pipeline.core.partitions import daily_partitions
from pipeline.core.warehouse import WarehouseResource
from pipeline.ingest.sources.resources import source_resources
from tests.assets.customers.test_customer_rules import DAY
from tests.integration.test_export_remote import (  # noqa: F401 - the servers and the world
    BUCKET,
    emulator,
    gcs,
    key,
    leftovers,
    read_back_sftp,
    sshd,
    world,
)

SPECS = [
    ExportSpec(
        name="to_sftp",
        table="results",
        destination="sftp://partner/out/nightly_{date}.parquet",
        format="parquet",
    ),
    ExportSpec(
        name="to_gcs", table="results", destination="gcs://lake/nightly/results_{date}.jsonl", format="jsonl"
    ),
]


def materialize(config, spec: ExportSpec) -> dg.ExecuteInProcessResult:
    asset = build_export_asset(config, spec, daily_partitions(config.start_date))
    return dg.materialize(
        [asset],
        partition_key=(DAY - dt.timedelta(days=1)).isoformat(),  # the night that decided DAY
        resources={
            "warehouse": WarehouseResource(path=str(config.warehouse_path)),
            **source_resources(config, config.sources),
        },
    )


def test_export_assets_write_what_nightjar_export_writes(world, sshd, key, gcs, tmp_path):  # noqa: F811
    config, remote, _, rows = world
    for spec in SPECS:
        assert materialize(config, spec).success
        local = tmp_path / f"local.{spec.format}"
        assert export_to(config, config.warehouse_path, DAY, str(local), fmt=spec.format)[0] == rows
        if spec.destination.startswith("sftp"):
            got = read_back_sftp(sshd, f"{remote}/out/nightly_{DAY:%Y%m%d}.parquet")
        else:
            got = gcs.get_blob(f"outgoing/nightly/results_{DAY:%Y%m%d}.jsonl").download_as_bytes()
        assert got == local.read_bytes(), spec.name
        assert materialize(config, spec).success  # a re-run replaces the file: one copy
    assert sorted(p.name for p in (remote / "out").glob("nightly_*")) == [f"nightly_{DAY:%Y%m%d}.parquet"]
    assert [b.name for b in gcs.client.list_blobs(BUCKET, prefix="outgoing/nightly/")] == [
        f"outgoing/nightly/results_{DAY:%Y%m%d}.jsonl"
    ]
    assert leftovers(remote) == []
    # the night re-run after its rows went (a `where` no row holds for): each file replaced, without rows
    nobody = [{"field": "customer_id", "formula": {"eq": "nobody"}}]
    for spec in SPECS:
        assert materialize(config, ExportSpec(**{**spec.model_dump(), "where": nobody})).success
    parquet = read_back_sftp(sshd, f"{remote}/out/nightly_{DAY:%Y%m%d}.parquet")
    assert pq.read_table(pa.BufferReader(parquet)).num_rows == 0
    assert gcs.get_blob(f"outgoing/nightly/results_{DAY:%Y%m%d}.jsonl").download_as_bytes() == b""
    assert leftovers(remote) == []
