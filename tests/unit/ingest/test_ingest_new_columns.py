"""Columns a file brings that no field declares (`new_columns`): `freeze` fails the load naming
them, `evolve` adds them to the table as Strings (recorded once in `schema_changes`), `discard`
leaves them out (recorded per load)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.ingest.write import LOADED
from tests.unit.ingest.malformed_corpus import DAY, World, check_failed, check_load
from tests.unit.ingest.malformed_tx_dialects import SALES_FIELDS, sales_config

WIDER = (
    b"order_id,customer_id,sold_at,amount,qty,Store Code\no1,c1,2026-01-31,1,1, S1 \no2,c2,2026-01-31,2,1,\n"
)
PREV = DAY - dt.timedelta(days=1)


def _changes(w: World) -> list[tuple]:
    if not w.has_table("schema_changes"):
        return []
    return w.q("SELECT dataset, column_name, change, file FROM schema_changes ORDER BY load_id")


def test_freeze_fails_naming_the_column_and_the_option(tmp_path: Path) -> None:
    w = World(tmp_path, sales_config())
    try:
        r = w.load_tx("sales", "csv", WIDER)
        check_failed(w, r, "sales_20260131.csv", ("['Store Code']", "new_columns: evolve"))
        assert _changes(w) == []
    finally:
        w.close()


def test_evolve_adds_a_string_column_once(tmp_path: Path) -> None:
    w = World(tmp_path, sales_config(new_columns="evolve"))
    try:
        check_load(w, w.load_tx("sales", "csv", WIDER), LOADED, 2, 2, 0)
        check_load(w, w.load_tx("sales", "csv", WIDER), LOADED, 2, 2, 0)  # again: nothing new
        assert w.q('SELECT order_id, "Store Code" FROM tx_sales ORDER BY 1') == [("o1", "S1"), ("o2", None)]
        assert w.q(
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'tx_sales' "
            "AND column_name = 'Store Code'"
        ) == [("VARCHAR",)]
        assert _changes(w) == [("sales", "Store Code", "added", "sales_20260131.csv")]  # once
        # a later file without the column loads; the column is empty for its rows
        r = w.load_tx(
            "sales", "csv", b"order_id,customer_id,sold_at,amount,qty\no3,c3,2026-01-30,1,1\n", PREV
        )
        check_load(w, r, LOADED, 1, 1, 0)
        assert w.q("SELECT \"Store Code\" FROM tx_sales WHERE order_id = 'o3'") == [(None,)]
    finally:
        w.close()


def test_discard_leaves_the_column_out_and_counts_it(tmp_path: Path) -> None:
    w = World(tmp_path, sales_config(new_columns="discard"))
    try:
        r = w.load_tx("sales", "csv", WIDER)
        check_load(w, r, LOADED, 2, 2, 0)
        assert r.schema_changes == {"Store Code": "discarded"}
        assert "Store Code" not in [
            c
            for (c,) in w.q(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'tx_sales'"
            )
        ]
        w.load_tx("sales", "csv", WIDER)
        assert [c[2] for c in _changes(w)] == ["discarded", "discarded"]
    finally:
        w.close()


def test_evolve_parquet_and_reserved_names(tmp_path: Path) -> None:
    w = World(tmp_path, sales_config(new_columns="evolve"))
    try:
        table = pa.table(
            {
                "order_id": ["o1"],
                "customer_id": ["c1"],
                "sold_at": [DAY],
                "amount": [1.5],
                "qty": [1],
                "n": [7],
            }
        )
        path = tmp_path / "x.parquet"
        pq.write_table(table, path)
        check_load(w, w.load_tx("sales", "parquet", path.read_bytes()), LOADED, 1, 1, 0)
        assert w.q("SELECT n FROM tx_sales") == [("7",)]
        bad = b"order_id,customer_id,sold_at,amount,qty,_load_id\no1,c1,2026-01-31,1,1,9\n"
        check_failed(w, w.load_tx("sales", "csv", bad), "sales_20260131.csv", ("_load_id", "Nightjar"))
    finally:
        w.close()


# --- JSON lines: the keys no field reads follow new_columns when the dataset sets it ---------------

JSON_WIDER = (
    b'{"order_id": "o1", "customer_id": "c1", "sold_at": "2026-01-31", "amount": 1, "qty": 1, '
    b'"Store Code": " S1 ", "meta": {"a": [1, 2]}}\n'
    b'{"order_id": "o2", "customer_id": "c2", "sold_at": "2026-01-31", "amount": 2, "qty": 1, '
    b'"tags": ["x"]}\n'
)


def test_json_keys_are_not_read_unless_new_columns_is_set(tmp_path: Path) -> None:
    w = World(tmp_path, sales_config())
    try:
        r = w.load_tx("sales", "jsonl", JSON_WIDER)
        check_load(w, r, LOADED, 2, 2, 0)
        assert r.schema_changes == {} and _changes(w) == []
    finally:
        w.close()


def test_json_freeze_fails_naming_the_keys(tmp_path: Path) -> None:
    w = World(tmp_path, sales_config(new_columns="freeze"))
    try:
        r = w.load_tx("sales", "jsonl", JSON_WIDER)
        check_failed(w, r, "sales_20260131.jsonl", ("['Store Code', 'meta', 'tags']", "new_columns: evolve"))
    finally:
        w.close()


def test_json_evolve_adds_each_key_as_a_string_column_once(tmp_path: Path) -> None:
    w = World(tmp_path, sales_config(new_columns="evolve"))
    try:
        check_load(w, w.load_tx("sales", "jsonl", JSON_WIDER), LOADED, 2, 2, 0)
        check_load(w, w.load_tx("sales", "jsonl", JSON_WIDER), LOADED, 2, 2, 0)  # again: nothing new
        assert w.q('SELECT order_id, "Store Code", meta, tags FROM tx_sales ORDER BY 1') == [
            ("o1", "S1", '{"a":[1,2]}', None),
            ("o2", None, None, '["x"]'),
        ]
        assert [c[1:3] for c in _changes(w)] == [
            ("Store Code", "added"),
            ("meta", "added"),
            ("tags", "added"),
        ]
    finally:
        w.close()


def test_json_discard_counts_the_keys_and_a_nested_field_reads_its_parent(tmp_path: Path) -> None:
    nested = [*SALES_FIELDS, {"name": "meta__a", "type": "String"}]
    w = World(tmp_path, sales_config(new_columns="discard", fields=nested))
    try:
        r = w.load_tx("sales", "jsonl", JSON_WIDER)
        check_load(w, r, LOADED, 2, 2, 0)
        assert r.schema_changes == {"Store Code": "discarded", "tags": "discarded"}  # meta is read
        assert w.q("SELECT meta__a FROM tx_sales ORDER BY order_id") == [("1, 2",), (None,)]
    finally:
        w.close()
