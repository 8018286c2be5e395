"""Parquet exports: the warehouse's UTC timestamps are written as UTC, so readers take them so."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.activation.exports import write_export
from pipeline.core.sql import sql
from pipeline.core.warehouse import connect
from tests.conftest import make_config

DAY = dt.date(2026, 1, 9)
UTC = pa.timestamp("us", tz="UTC")


@pytest.fixture
def config(tmp_path: Path):
    config = make_config(tmp_path)
    with connect(config.warehouse_path) as con:
        con.execute(sql("experiments/create_results"))
        con.execute(
            "INSERT INTO results "
            "(date, customer_id, experiment, variant, is_control, score, reason, send_at) VALUES "
            "($day, 'C1', 'offer', 'discount_10', false, 0.5, 'r', TIMESTAMP '2026-01-10 09:30:00.25'), "
            "($day, 'C2', 'offer', 'discount_10', false, 0.5, 'r', NULL)",
            {"day": DAY},
        )
    return config


def export(config, path: Path, day: dt.date = DAY) -> int:
    with connect(config.warehouse_path, read_only=True) as con:
        return write_export(con, config, "results", day, path, "parquet", empty=True)


def test_timestamps_are_written_as_utc(config, tmp_path: Path):
    # they were timestamp[us] without a zone (isAdjustedToUTC=false): pandas read 09:30 as a naive
    # local time and BigQuery as a DATETIME, while the values are UTC
    path = tmp_path / "results.parquet"
    assert export(config, path) == 2
    schema = pq.read_schema(path)
    assert schema.field("send_at").type == UTC
    column = pq.ParquetFile(path).schema.column(schema.get_field_index("send_at"))
    assert "isAdjustedToUTC=true" in str(column.logical_type)
    assert schema.field("date").type == pa.date32()  # a day stays a day
    sent = pd.read_parquet(path).set_index("customer_id")["send_at"]
    assert sent["C1"] == pd.Timestamp("2026-01-10 09:30:00.25", tz="UTC") and pd.isna(sent["C2"])
    with duckdb.connect() as con:  # the same instant as the warehouse holds, whatever the reader's zone
        con.execute("SET TimeZone = 'America/New_York'")
        (instant,) = con.execute(
            "SELECT epoch_us(send_at) FROM read_parquet($p) WHERE customer_id = 'C1'", {"p": str(path)}
        ).fetchone()
    expected = dt.datetime(2026, 1, 10, 9, 30, 0, 250000, tzinfo=dt.UTC)
    assert instant == int(expected.timestamp() * 1_000_000)


def test_a_file_without_rows_has_the_utc_type_too(config, tmp_path: Path):
    path = tmp_path / "empty.parquet"
    assert export(config, path, DAY + dt.timedelta(days=1)) == 0
    assert pq.read_metadata(path).num_rows == 0 and pq.read_schema(path).field("send_at").type == UTC
