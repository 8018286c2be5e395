"""SQL Server source (pyodbc). No SQL Server runs here: the ODBC path (connect, parameters,
fetchmany batches into Arrow, window and watermark modes, errors) is tested for real through
unixODBC against PostgreSQL with its ODBC driver (psqlODBC); the SQL Server type mapping is
tested as pure functions on the values and descriptions pyodbc returns for SQL Server types."""

from __future__ import annotations

import datetime as dt
import decimal
import os
import shutil
import struct
import tempfile
import uuid
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyodbc
import pytest

from pipeline.ingest.sources import mssql
from pipeline.ingest.sources.files import SourceError
from pipeline.ops import postgres_server
from pipeline.ops.postgres_server import free_port
from tests.conftest import run_nightly
from tests.integration.helpers import D1, D2, D3, everything_said, failure_text, loads, remote_config, tx_rows

DRIVER = "/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so"
PG_PASSWORD = "pg-Secret-77q"


@pytest.fixture(scope="module")
def postgres():
    """PostgreSQL on a free port (password login over TCP), run as the postgres user."""
    assert os.path.exists(DRIVER), "psqlODBC is missing: `make system-deps` installs odbc-postgresql"
    d = Path(tempfile.mkdtemp(prefix="nightjar-pg-"))
    shutil.chown(d, "postgres", "postgres")  # the server runs as postgres
    port = free_port()
    postgres_server.start(d / "data", port, password=PG_PASSWORD)
    conn = f"Driver={DRIVER};Server=127.0.0.1;Port={port};Database=postgres;Uid=postgres;Pwd={PG_PASSWORD};"
    with pyodbc.connect(conn, autocommit=True) as con:
        con.execute(
            "CREATE TABLE crm_orders (order_id text, customer_id text, purchased_at timestamp, store text, "
            "product text, quantity integer, amount numeric(10,2))"
        )
        con.cursor().executemany(
            "INSERT INTO crm_orders VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                ("M0", "C0", dt.datetime(2026, 1, 4, 23, 59), "S1", "P1", 1, decimal.Decimal("1.00")),
                ("M1", "C1", dt.datetime(2026, 1, 5, 0, 0), "S1", "P1", 1, decimal.Decimal("10.50")),
                ("M2", "C2", dt.datetime(2026, 1, 5, 8, 30), "S1", "P2", 2, decimal.Decimal("3.00")),
                ("M3", "C3", dt.datetime(2026, 1, 5, 12, 0), "S2", "P2", 1, decimal.Decimal("7.25")),
                ("M4", "C4", dt.datetime(2026, 1, 5, 23, 59, 59), "S2", "P3", 5, decimal.Decimal("0.99")),
                ("M5", "C5", dt.datetime(2026, 1, 5, 18, 0), "S3", "P1", 1, decimal.Decimal("2.00")),
                ("M6", "C6", dt.datetime(2026, 1, 6, 9, 0), "S3", "P1", 3, decimal.Decimal("9.00")),
            ],
        )
    yield {"conn": conn, "port": port}
    postgres_server.stop(d / "data")
    shutil.rmtree(d, ignore_errors=True)


COLUMNS = "SELECT order_id, customer_id, purchased_at, store, product, quantity, amount FROM crm_orders"


def crm_source(query: str, watermark: str | None = None, **changes) -> dict:
    return {
        "name": "crm",
        "kind": "mssql",
        "connection_string_env": "CRM_ODBC",
        "batch_size": 2,
        "queries": {"pos": {"sql": query, **({"watermark": watermark} if watermark else {})}},
        **changes,
    }


@pytest.fixture
def crm_env(postgres, monkeypatch):
    monkeypatch.setenv("CRM_ODBC", postgres["conn"])
    return postgres


def test_window_mode_ingests_the_day_in_batches_and_a_rerun_changes_nothing(tmp_path, crm_env):
    q = f"{COLUMNS} WHERE purchased_at >= ? AND purchased_at < ? ORDER BY order_id"
    config = remote_config(tmp_path, crm_source(q), file_name=None)
    assert run_nightly(config, D1, assets=["tx_pos"]).success
    expected = [
        ("M1", "C1", D1, "S1", "P1", 1, "10.5000"),
        ("M2", "C2", D1, "S1", "P2", 2, "3.0000"),
        ("M3", "C3", D1, "S2", "P2", 1, "7.2500"),
        ("M4", "C4", D1, "S2", "P3", 5, "0.9900"),
        ("M5", "C5", D1, "S3", "P1", 1, "2.0000"),
    ]
    assert tx_rows(config) == expected
    assert run_nightly(config, D1, assets=["tx_pos"]).success
    assert tx_rows(config) == expected
    assert [(r[2], r[3]) for r in loads(config)] == [("LOADED", 5), ("LOADED", 5)]


def test_fetchmany_batches_through_a_real_odbc_driver(postgres, tmp_path):
    with pyodbc.connect(postgres["conn"]) as con:
        cur = con.cursor()
        cur.execute(
            f"{COLUMNS} WHERE purchased_at >= ? AND purchased_at < ? ORDER BY order_id",
            dt.datetime(2026, 1, 5),
            dt.datetime(2026, 1, 6),
        )
        got = list(mssql.batches(cur, 2))
    assert [b.num_rows for b in got] == [2, 2, 1]
    t = pa.Table.from_batches(got)
    assert t.schema.field("amount").type == pa.decimal128(10, 2)
    assert t.schema.field("purchased_at").type == pa.timestamp("us")
    assert t.schema.field("quantity").type == pa.int64()
    assert t.column("order_id").to_pylist() == ["M1", "M2", "M3", "M4", "M5"]
    assert t.column("amount").to_pylist()[0] == decimal.Decimal("10.50")


def test_watermark_mode_asks_for_what_comes_after_the_loaded_days(tmp_path, crm_env, postgres):
    q = f"{COLUMNS} WHERE purchased_at > ? AND purchased_at < ? ORDER BY order_id"
    from tests.conftest import example_dict

    pos = next(t for t in example_dict()["transactions"] if t["name"] == "pos")
    fields = [
        ({"name": "purchased_at", "type": "Timestamp"} if f["name"] == "purchased_at" else f)
        for f in pos["fields"]
    ]
    config = remote_config(tmp_path, crm_source(q, watermark="purchased_at"), file_name=None, fields=fields)
    assert run_nightly(config, D1, assets=["tx_pos"]).success
    # first run: everything up to the end of D1; M0 (Jan 4) is outside the partition: rejected, kept
    assert [r[0] for r in tx_rows(config, D1)] == ["M1", "M2", "M3", "M4", "M5"]
    assert run_nightly(config, D2, assets=["tx_pos"]).success
    assert [r[0] for r in tx_rows(config, D2)] == ["M6"]
    with pyodbc.connect(postgres["conn"], autocommit=True) as con:  # a late row of D2, after M6
        con.execute("INSERT INTO crm_orders VALUES ('M7', 'C7', '2026-01-06 10:00', 'S1', 'P1', 1, 1.5)")
    try:
        assert run_nightly(config, D2, assets=["tx_pos"]).success  # the re-run asks from the same watermark
        assert [r[0] for r in tx_rows(config, D2)] == ["M6", "M7"]
        assert run_nightly(config, D3, assets=["tx_pos"]).success  # after M7: nothing new
        assert tx_rows(config, D3) == []
        from pipeline.core.warehouse import connect

        with connect(config.warehouse_path, read_only=True) as con:
            rejects = con.execute("SELECT partition_date, reason FROM rejects ORDER BY 1").fetchall()
        assert rejects == [(D1, "purchased_at: 2026-01-04 23:59:00 is outside the partition 2026-01-05")]
    finally:
        with pyodbc.connect(postgres["conn"], autocommit=True) as con:
            con.execute("DELETE FROM crm_orders WHERE order_id = 'M7'")


def test_wrong_password_is_one_clear_error_and_the_secret_is_never_shown(tmp_path, postgres, monkeypatch):
    wrong = "wr0ng-Pass-55"
    monkeypatch.setenv("CRM_ODBC", postgres["conn"].replace(PG_PASSWORD, wrong))
    config = remote_config(
        tmp_path, crm_source(f"{COLUMNS} WHERE purchased_at >= ? AND purchased_at < ?"), file_name=None
    )
    instance = dg.DagsterInstance.ephemeral()
    result = run_nightly(config, D1, assets=["tx_pos"], instance=instance)
    assert not result.success
    text = failure_text(result)
    assert "mssql source 'crm': cannot connect: [08001]" in text and "password authentication failed" in text
    assert "user and password)" in text
    said = everything_said(result, instance, config)
    assert wrong not in said and PG_PASSWORD not in said


def test_redact_takes_every_secret_out():
    conn = "Driver={ODBC Driver 18 for SQL Server};Server=db;UID=crm_reader;PWD={p;w=1};Encrypt=yes"
    assert (
        mssql.redact("Login failed for user 'crm_reader' (p;w=1)", conn)
        == "Login failed for user 'crm_reader' (***)"
    )


# ---- SQL Server types, as pyodbc describes and returns them --------------------------------------
# cursor.description entries: (name, type_code, display_size, internal_size, precision, scale, null_ok)
SQLSERVER_DESCRIPTION = [
    ("created", dt.datetime, None, 27, 27, 7, True),  # datetime2(7)
    ("amount", decimal.Decimal, None, 18, 18, 4, True),  # decimal(18,4)
    ("name", str, None, 50, 50, 0, True),  # nvarchar(50)
    ("active", bool, None, 1, 1, 0, True),  # bit
    ("guid", str, None, 36, 36, 0, True),  # uniqueidentifier (pyodbc default: text)
    ("guid2", uuid.UUID, None, 16, 16, 0, True),  # uniqueidentifier with pyodbc.native_uuid = True
    ("born", dt.date, None, 10, 10, 0, True),  # date
    ("score", float, None, 53, 53, 0, True),  # float
    ("qty", int, None, 10, 10, 0, True),  # int
]


def test_sqlserver_types_map_to_arrow():
    assert [mssql.arrow_type(d[1], d[4], d[5]) for d in SQLSERVER_DESCRIPTION] == [
        pa.timestamp("us"),
        pa.decimal128(18, 4),
        pa.string(),
        pa.bool_(),
        pa.string(),
        pa.string(),
        pa.date32(),
        pa.float64(),
        pa.int64(),
    ]


def test_sqlserver_values_become_exact_arrow_values():
    g = uuid.UUID("6f9619ff-8b86-d011-b42d-00c04fc964ff")
    rows = [
        (
            dt.datetime(2026, 1, 5, 23, 59, 59, 999999),
            decimal.Decimal("12345678901234.5678"),
            "Zoë ✓",
            True,
            "6F9619FF-8B86-D011-B42D-00C04FC964FF",
            g,
            dt.date(1990, 2, 28),
            0.1,
            7,
        ),
        (None, None, None, False, None, None, None, None, None),
    ]
    b = mssql.to_batch(SQLSERVER_DESCRIPTION, rows)
    assert b.to_pylist() == [
        {
            "created": dt.datetime(2026, 1, 5, 23, 59, 59, 999999),
            "amount": decimal.Decimal("12345678901234.5678"),
            "name": "Zoë ✓",
            "active": True,
            "guid": "6F9619FF-8B86-D011-B42D-00C04FC964FF",
            "guid2": "6F9619FF-8B86-D011-B42D-00C04FC964FF",
            "born": dt.date(1990, 2, 28),
            "score": 0.1,
            "qty": 7,
        },
        {
            "created": None,
            "amount": None,
            "name": None,
            "active": False,
            "guid": None,
            "guid2": None,
            "born": None,
            "score": None,
            "qty": None,
        },
    ]


def test_an_empty_result_keeps_its_types():
    b = mssql.to_batch(SQLSERVER_DESCRIPTION, [])
    assert b.num_rows == 0 and b.schema.field("amount").type == pa.decimal128(18, 4)


def test_datetimeoffset_converter():
    raw = struct.pack("<6hI2h", 2026, 1, 5, 23, 30, 15, 123456700, 2, 0)  # 23:30:15.1234567 +02:00
    assert mssql.datetimeoffset(raw) == dt.datetime(2026, 1, 5, 21, 30, 15, 123456, tzinfo=dt.UTC)


def test_window_and_watermark_parameters():
    assert mssql.day_parameters(D1, None, False) == [dt.datetime(2026, 1, 5), dt.datetime(2026, 1, 6)]
    assert mssql.day_parameters(D1, None, True) == [dt.datetime(1900, 1, 1), dt.datetime(2026, 1, 6)]
    mark = dt.datetime(2026, 1, 4, 12)
    assert mssql.day_parameters(D1, mark, True) == [mark, dt.datetime(2026, 1, 6)]


def test_a_closed_port_is_a_clear_error(tmp_path):
    conn = f"Driver={DRIVER};Server=127.0.0.1;Port={free_port()};Database=x;Uid=u;Pwd=closed-Pw-1;"
    with pytest.raises(
        SourceError, match=r"^mssql source 'crm': cannot connect: \[.*\(tried 2 times\)$"
    ) as e:
        mssql.fetch_to_parquet("crm", conn, "SELECT 1", [], 10, tmp_path / "x.parquet", timeout=3, retries=1)
    assert "closed-Pw-1" not in str(e.value)


def test_a_dropped_connection_is_retried_and_the_day_completes(tmp_path, postgres, monkeypatch):
    from tests.integration.proxy import CuttingProxy

    proxy = CuttingProxy(postgres["port"])
    try:
        monkeypatch.setenv(
            "CRM_ODBC", postgres["conn"].replace(f"Port={postgres['port']}", f"Port={proxy.port}")
        )
        q = f"{COLUMNS} WHERE purchased_at >= ? AND purchased_at < ? ORDER BY order_id"
        config = remote_config(tmp_path, crm_source(q), file_name=None)
        proxy.cut_after = 900  # past the login, in the query's answer
        result = run_nightly(config, D1, assets=["tx_pos"])
        assert result.success, failure_text(result)
        assert proxy.cuts == 1
        assert [r[0] for r in tx_rows(config)] == ["M1", "M2", "M3", "M4", "M5"]
    finally:
        proxy.stop()
