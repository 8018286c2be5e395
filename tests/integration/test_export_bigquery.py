"""Exports to a BigQuery table, against the BigQuery emulator the BigQuery source is tested against
(tests/integration/conftest.py), through the real google-cloud-bigquery client: a day's rows are the
rows of `nightjar export` of that day, a re-run leaves one copy, other days are kept."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from assets.activation import build_export_asset
from pipeline.activation.bigquery import as_utc, replace_day
from pipeline.activation.config import ExportSpec
from pipeline.activation.exports import ExportError, export_to
from pipeline.cli import main
from pipeline.core.partitions import daily_partitions
from pipeline.core.warehouse import WarehouseResource
from pipeline.core.warehouse import connect as wconnect
from pipeline.experiments.decisions import decide
from pipeline.ingest.sources.resources import source_resources
from tests.assets.customers.test_customer_rules import DAY, build_world, rules_config

PROJECT = "nightjar-test"
NIGHT = DAY - dt.timedelta(days=1)  # the night whose `results` partition decided DAY


def client_of(url: str) -> bigquery.Client:
    return bigquery.Client(
        project=PROJECT, credentials=AnonymousCredentials(), client_options={"api_endpoint": url}
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory, bigquery_emulator):
    """A warehouse with a night of results; its config declares the emulator as BigQuery source `bq`."""
    folder = tmp_path_factory.mktemp("export_bigquery")
    data = rules_config(folder)
    source = {"name": "bq", "kind": "bigquery", "project": PROJECT, "endpoint": bigquery_emulator}
    config = rules_config(folder, sources=[*[s.model_dump(mode="json") for s in data.sources], source])
    build_world(folder, config)
    with wconnect(config.warehouse_path) as con:
        assert decide(con, config, DAY) > 10
    client = client_of(bigquery_emulator)
    client.create_dataset("out", exists_ok=True)
    return config, client


def table_rows(client, table: str, day: dt.date | None = None) -> list[dict]:
    where = "WHERE date = @day" if day else ""
    params = [bigquery.ScalarQueryParameter("day", "DATE", day)] if day else []
    job = client.query(
        f"SELECT * FROM `{PROJECT}.out.{table}` {where}",
        job_config=bigquery.QueryJobConfig(query_parameters=params),
    )
    return job.result().to_arrow(create_bqstorage_client=False).to_pylist()


def key(row: dict) -> tuple:
    return tuple(str(v) for v in row.values())


def test_a_day_of_results_lands_as_the_rows_of_nightjar_export_and_a_rerun_leaves_one_copy(world, tmp_path):
    config, client = world
    local = tmp_path / "results.parquet"
    rows, _ = export_to(config, config.warehouse_path, DAY, str(local), fmt="parquet")
    expected = sorted(as_utc(pq.read_table(local)).to_pylist(), key=key)
    assert rows == len(expected) > 10 and {"code", "category", "message"} <= set(expected[0])

    n, where = export_to(config, config.warehouse_path, DAY, "bigquery://bq/out.results")
    assert (n, where) == (rows, f"bigquery://{PROJECT}.out.results")
    assert sorted(table_rows(client, "results"), key=key) == expected
    assert client.get_table(f"{PROJECT}.out.results").time_partitioning.field == "date"

    # another day's row is left alone; the export asset re-runs the day: still one copy of it
    other = {**expected[0], "date": str(DAY - dt.timedelta(days=1)), "customer_id": "OTHER"}
    assert client.insert_rows_json(f"{PROJECT}.out.results", [other]) == []
    spec = ExportSpec(name="to_bq", table="results", destination="bigquery://bq/out.results")
    partitions = daily_partitions(config.start_date)
    resources = {
        "warehouse": WarehouseResource(path=str(config.warehouse_path)),
        **source_resources(config, config.sources),
    }
    result = dg.materialize(
        [build_export_asset(config, spec, partitions)], partition_key=NIGHT.isoformat(), resources=resources
    )
    assert result.success
    assert sorted(table_rows(client, "results", DAY), key=key) == expected
    assert [r["customer_id"] for r in table_rows(client, "results", DAY - dt.timedelta(days=1))] == ["OTHER"]
    # re-run with a `where` no row of the day holds for: the day's rows go (they stayed), the other day's stay
    where = [{"field": "customer_id", "formula": {"eq": "nobody"}}]
    empty = build_export_asset(config, ExportSpec(**{**spec.model_dump(), "where": where}), partitions)
    assert dg.materialize([empty], partition_key=NIGHT.isoformat(), resources=resources).success
    assert table_rows(client, "results", DAY) == []
    assert [r["customer_id"] for r in table_rows(client, "results", DAY - dt.timedelta(days=1))] == ["OTHER"]
    # no staging table is left behind
    assert [t.table_id for t in client.list_tables("out")] == ["results"]


def test_typed_columns_round_trip_and_a_day_is_replaced_whole(world, tmp_path):
    _, client = world
    day = dt.date(2026, 1, 3)
    table = pa.table(
        {
            "date": pa.array([day, day], pa.date32()),
            "customer_id": ["C1", "C2"],
            "items": pa.array([["P1", "P2"], []], pa.list_(pa.string())),
            "value": pa.array([Decimal("10.50"), None], pa.decimal128(18, 2)),
            "score": [0.25, None],
            "n": pa.array([3, None], pa.int64()),
            "ok": [True, None],
            "send_at": pa.array([dt.datetime(2026, 1, 3, 9), None], pa.timestamp("us")),
        }
    )
    path = tmp_path / "typed.parquet"
    pq.write_table(table, path)
    assert replace_day(client, "bq", PROJECT, "out.typed", path, day) == 2
    got = sorted(table_rows(client, "typed"), key=lambda r: r["customer_id"])
    want = as_utc(table).to_pylist()
    assert [{**r, "value": r["value"] and Decimal(r["value"])} for r in got] == want
    assert got[0]["send_at"] == dt.datetime(2026, 1, 3, 9, tzinfo=dt.UTC)

    pq.write_table(table.slice(0, 1), path)  # the day now has one row: the other one goes
    assert replace_day(client, "bq", PROJECT, "out.typed", path, day) == 1
    assert [r["customer_id"] for r in table_rows(client, "typed")] == ["C1"]

    pq.write_table(table.slice(0, 0), path)  # a night without rows (an export asset's re-run): none stay
    assert replace_day(client, "bq", PROJECT, "out.typed", path, day) == 0
    assert table_rows(client, "typed") == []


def test_errors_name_the_destination_and_leave_the_table_as_it_was(world, capsys, tmp_path):
    config, client = world
    client.create_table(
        bigquery.Table(
            f"{PROJECT}.out.other",
            schema=[bigquery.SchemaField("date", "DATE"), bigquery.SchemaField("customer_id", "INTEGER")],
        ),
        exists_ok=True,
    )
    cases = [
        ("bigquery://bq/results", "name a table as <dataset>.<table>"),
        ("bigquery://bq/out.re-sults", "name a table as <dataset>.<table>"),
        ("bigquery://nobody/out.results", "there is no source 'nobody' in the config"),
        ("bigquery://bq/out.other", "exists without the export's column(s) customer_id STRING"),
        ("bigquery://bq/missing.results", f"there is no dataset {PROJECT}.missing: create it"),
    ]
    for to, message in cases:
        with pytest.raises(ExportError) as e:
            export_to(config, config.warehouse_path, DAY, to)
        assert message in str(e.value), (to, str(e.value))
    assert table_rows(client, "other") == []
    with pytest.raises(ExportError, match="a table's day is always replaced"):
        export_to(config, config.warehouse_path, DAY, "bigquery://bq/out.results", overwrite=False)
    args = ["export", "results", "--date", DAY.isoformat(), "--to", "bigquery://bq/out.cli"]
    assert main([*args, "--config", str(config.base_dir / "nightjar.yaml")]) == 0
    n, _ = export_to(config, config.warehouse_path, DAY, str(tmp_path / "r.csv"))
    assert capsys.readouterr().out == f"results {DAY}: {n} decisions -> bigquery://{PROJECT}.out.cli\n"
    assert len(table_rows(client, "cli", DAY)) == n
    with pytest.raises(ExportError, match="a BigQuery export needs the 'date' column"):
        export_to(config, config.warehouse_path, DAY, "bigquery://bq/out.nodate", columns=["customer_id"])
