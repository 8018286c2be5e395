"""Delimited dialects per dataset (delimiter, quote, escape, header/columns, skip_rows, null_values,
decimal_separator) and Parquet files: each case loads with its options, and the same file breaks
when they are left out."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.config import parse_config
from pipeline.core.settings import ConfigError
from pipeline.ingest.write import FAILED, LOADED
from tests.unit.ingest.malformed_corpus import DAY, World, check_failed, check_load, check_rejects
from tests.unit.ingest.malformed_tx_dialects import DIALECT_CASES, DialectCase, row, sales_config


def _load(tmp_path: Path, sub: str, options: dict, ext: str, data: bytes):
    w = World(tmp_path / sub, sales_config(**options))
    return w, w.load_tx("sales", ext, data)


@pytest.mark.parametrize("case", DIALECT_CASES, ids=[c.id for c in DIALECT_CASES])
def test_dialect(tmp_path: Path, case: DialectCase) -> None:
    w, r = _load(tmp_path, "with", case.options, case.ext, case.data)
    try:
        if case.status == FAILED:
            check_failed(w, r, f"sales_20260131.{case.ext}", case.failed_words)
            return
        check_load(w, r, case.status, case.read, case.loaded, case.rejected)
        check_rejects(w, r, case.rejects)
        assert w.partition("sales") == case.rows
    finally:
        w.close()
    if not (case.ignored_words or case.ignored_rejected):
        return
    # the same file without the options: it does not load the same
    w, r = _load(tmp_path, "without", {}, case.ext, case.data)
    try:
        if case.ignored_words:
            check_failed(w, r, "sales_20260131.csv", case.ignored_words)
        else:
            assert r.status == LOADED and r.rows_rejected == case.ignored_rejected, (r.status, r.error)
            assert w.partition("sales") != case.rows
    finally:
        w.close()


def test_parquet_file(tmp_path: Path) -> None:
    """A Parquet file in a local folder loads through the same typing (typed columns as text)."""
    table = pa.table(
        {
            "order_id": ["o1", "o2", None],
            "customer_id": ["c1", "c2", "c3"],
            "sold_at": [DAY, DAY, DAY],
            "amount": pa.array([3.5, 1.25, 2.0], pa.float64()),
            "qty": pa.array([2, None, 1], pa.int64()),
        }
    )
    w = World(tmp_path, sales_config())
    try:
        path = tmp_path / "x.parquet"
        pq.write_table(table, path)
        r = w.load_tx("sales", "parquet", path.read_bytes())
        check_load(w, r, LOADED, 3, 2, 1)
        check_rejects(w, r, {3: ("order_id", ("missing (required)",))})
        assert w.partition("sales") == [row(1, "o1", "c1", "3.5", 2), row(2, "o2", "c2", "1.25", None)]
        # a CSV reader would fail on these bytes: the extension decides
        bad = w.load_tx("sales", "csv", path.read_bytes(), day=DAY - dt.timedelta(days=1))
        assert bad.status == FAILED
    finally:
        w.close()


def test_parquet_numbers_under_decimal_comma(tmp_path: Path) -> None:
    """``decimal_separator: ","`` is of delimited files: a Parquet file's numbers (text with a ``.``
    once read) still load."""
    table = pa.table(
        {
            "order_id": ["o1", "o2"],
            "customer_id": ["c1", "c2"],
            "sold_at": [DAY, DAY],
            "amount": pa.array([1.5, 2.0], pa.float64()),
            "qty": pa.array([1, 1], pa.int64()),
        }
    )
    w = World(tmp_path, sales_config(decimal_separator=","))
    try:
        path = tmp_path / "x.parquet"
        pq.write_table(table, path)
        check_load(w, w.load_tx("sales", "parquet", path.read_bytes()), LOADED, 2, 2, 0)
        assert w.partition("sales") == [row(1, "o1", "c1", "1.5", 1), row(2, "o2", "c2", "2", 1)]
    finally:
        w.close()


def test_parquet_whole_doubles_in_an_int_field(tmp_path: Path) -> None:
    """pandas writes an integer column with a missing value as doubles (2.0, NaN): a whole number is
    the Int; a fraction, NaN or a number beyond 64 bits is still rejected. Every row was rejected
    ('2.0' is not an Int)."""
    qty = pa.array([2.0, None, 3.5, float("nan"), 1e20, -4.0], pa.float64())
    n = len(qty)
    table = pa.table(
        {
            "order_id": [f"o{i}" for i in range(1, n + 1)],
            "customer_id": ["c1"] * n,
            "sold_at": [DAY] * n,
            "amount": pa.array([1.5] * n, pa.float64()),
            "qty": qty,
        }
    )
    w = World(tmp_path, sales_config())
    try:
        path = tmp_path / "x.parquet"
        pq.write_table(table, path)
        check_load(w, w.load_tx("sales", "parquet", path.read_bytes()), LOADED, 6, 3, 3)
        assert [(r[0], r[-1]) for r in w.partition("sales")] == [(1, 2), (2, None), (6, -4)]
        reasons = w.q("SELECT row_number, reason FROM rejects ORDER BY row_number")
        assert reasons == [
            (3, "qty: '3.5' is not an Int"),
            (4, "qty: 'nan' is not an Int"),
            (5, "qty: '1e+20' is not an Int"),
        ]
    finally:
        w.close()


@pytest.mark.parametrize(
    "options, words",
    [
        ({"delimiter": ";;"}, "one character"),
        ({"header": False}, "header: false needs columns"),
        ({"columns": ["order_id"]}, "set header: false"),
        ({"header": False, "columns": ["order_id", "x"]}, "not fields: ['x']"),
        ({"quote": "ab"}, "one character"),
        ({"skip_rows": -1}, "greater than or equal to 0"),
    ],
)
def test_dialect_config_errors(tmp_path: Path, options: dict, words: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(sales_config(**options), "test.yaml", tmp_path)
    assert "transactions[0]" in str(e.value) and words in str(e.value), str(e.value)


def test_decimal_keeps_its_declared_scale(tmp_path: Path) -> None:
    from decimal import Decimal

    config = sales_config()
    fields = [dict(f) for f in config["transactions"][0]["fields"]]
    fields[3]["scale"] = 9  # amount
    config["transactions"][0]["fields"] = fields
    w = World(tmp_path, config)
    try:
        data = b"order_id,customer_id,sold_at,amount,qty\no1,c1,2026-01-31,0.1234567891,1\n"
        check_load(w, w.load_tx("sales", "csv", data), LOADED, 1, 1, 0)
        assert w.q("SELECT amount FROM tx_sales") == [(Decimal("0.123456789"),)]
    finally:
        w.close()
    with pytest.raises(ConfigError, match="scale is only for Decimal"):
        fields[4]["scale"] = 2
        parse_config(config, "test.yaml", tmp_path)
