"""A field whose declared type changed after its table was made: the load converts the column in its
transaction when every stored value converts, else it fails with one line naming the dataset, the
field, both types and what to do, and the warehouse stays as it was."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.core.warehouse import connect
from pipeline.ingest.ranges import ingest_range_file
from pipeline.ingest.sources.local_files import landed_file
from pipeline.ingest.transactions import ingest_transactions
from pipeline.ingest.write import FAILED, LOADED, LoadResult
from tests.unit.ingest.malformed_corpus import DAY, PREV, World
from tests.unit.ingest.malformed_tx_dialects import SALES_FIELDS, sales_config

HEADER = b"order_id,customer_id,sold_at,amount,qty,note\n"


def _world(root: Path, note: dict | None = None, amount: dict | None = None, **options) -> World:
    """The `sales` dataset with a `note` field and `amount` declared as given (String by default)."""
    fields = [dict(f) for f in SALES_FIELDS]
    fields[3] = {"name": "amount", "type": "Decimal", **(amount or {})}
    fields.append({"name": "note", "type": "String", **(note or {})})
    return World(root, sales_config(fields=fields, **options))


def _row(order: str, day: dt.date, amount: str, note: str) -> bytes:
    return f"{order},c1,{day},{amount},1,{note}\n".encode()


def _load(w: World, data: bytes, day: dt.date) -> LoadResult:
    return w.load_tx("sales", "csv", HEADER + data, day)


def _column_type(w: World, column: str) -> str:
    rows = w.q(
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'tx_sales' AND column_name = ?",
        [column],
    )
    return rows[0][0]


def _notes(w: World) -> list[tuple]:
    return w.q("SELECT _partition_date, order_id, note FROM tx_sales ORDER BY _partition_date, order_id")


CONVERSIONS = {
    # id: (old declaration, new declaration, stored text, stored value after, new text, new value, SQL type)
    # a String field declared Decimal: its text is typed as a file's value would be
    "string_to_decimal": (
        {},
        {"type": "Decimal"},
        " 3.50",
        Decimal("3.5"),
        "7.25",
        Decimal("7.25"),
        "DECIMAL(18,4)",
    ),
    # an Int declared Decimal (the old table stored 7.25 as 7, its column's type)
    "int_to_decimal": (
        {"type": "Int"},
        {"type": "Decimal"},
        "3",
        Decimal(3),
        "7.25",
        Decimal("7.25"),
        "DECIMAL(18,4)",
    ),
    # a Decimal declared Int: 3.0000 is 3 exactly
    "decimal_to_int": ({"type": "Decimal"}, {"type": "Int"}, "3", 3, "7", 7, "BIGINT"),
    # a Decimal declared String: its SQL text; the new value as the file writes it
    "decimal_to_string": ({"type": "Decimal"}, {}, "3.5", "3.5000", "n/a", "n/a", "VARCHAR"),
    # a String declared a Timestamp with a format: the format reads the stored text
    "string_to_timestamp": (
        {},
        {"type": "Timestamp", "format": "dd.mm.yyyy hh:mm"},
        "30.01.2026 09:15",
        dt.datetime(2026, 1, 30, 9, 15),
        "31.01.2026 10:00",
        dt.datetime(2026, 1, 31, 10, 0),
        "TIMESTAMP",
    ),
    # a Decimal given a larger scale (the old table rounded 0.123456 to 0.1235)
    "decimal_scale": (
        {"type": "Decimal"},
        {"type": "Decimal", "scale": 6},
        "3.5",
        Decimal("3.5"),
        "0.123456",
        Decimal("0.123456"),
        "DECIMAL(20,6)",
    ),
}


@pytest.mark.parametrize("case", list(CONVERSIONS), ids=list(CONVERSIONS))
def test_a_field_declared_with_another_type_converts_its_column(tmp_path: Path, case: str) -> None:
    old, new, stored, stored_after, text, value, sql_type = CONVERSIONS[case]
    w = _world(tmp_path, note=old)
    first = _load(w, _row("o1", PREV, "1", stored), PREV)
    assert first.status == LOADED, first.error
    w.close()
    w = _world(tmp_path, note=new)
    try:
        r = _load(w, _row("o2", DAY, "1", text), DAY)
        assert (r.status, r.rows_loaded, r.error) == (LOADED, 1, None)
        assert _column_type(w, "note") == sql_type
        assert _notes(w) == [(PREV, "o1", stored_after), (DAY, "o2", value)]
        assert r.retyped == {"note": f"{_words(old)} -> {_words(new)}"}
    finally:
        w.close()


def _words(field: dict) -> str:
    """How the message names a declared type, e.g. ``Decimal (DECIMAL(18,4))``."""
    t = field.get("type", "String")
    if t == "Decimal":
        scale = field.get("scale", 4)
        return f"Decimal (DECIMAL({14 + scale},{scale}))"
    sql = {"String": "VARCHAR", "Int": "BIGINT", "Timestamp": "TIMESTAMP", "Date": "DATE", "Bool": "BOOLEAN"}
    return f"{t} ({sql[t]})"


def test_a_stored_value_that_does_not_convert_fails_the_load_and_changes_nothing(tmp_path: Path) -> None:
    w = _world(tmp_path)  # note: String
    first = _load(w, _row("o1", PREV, "1", "3.50") + _row("o2", PREV, "1", "soon"), PREV)
    assert first.status == LOADED, first.error
    before = _notes(w)
    w.close()
    w = _world(tmp_path, note={"type": "Decimal"})
    try:
        r = _load(w, _row("o3", DAY, "1", "7.25"), DAY)
        assert r.status == FAILED
        assert r.error == (
            "sales: field 'note' changed type from String (VARCHAR) to Decimal (DECIMAL(18,4)), "
            "but 1 value(s) stored in tx_sales do not convert (day(s) 2026-01-30): load those days again "
            "with the new type in one run (their rows are replaced), or declare it String again; nothing "
            "was loaded"
        )
        assert _column_type(w, "note") == "VARCHAR"
        assert _notes(w) == before
        assert w.q("SELECT status, error FROM loads WHERE load_id = ?", [r.load_id]) == [(FAILED, r.error)]
        # as it says: the two days loaded again in one run (their rows replaced, 'soon' now rejected)
        with connect(w.warehouse) as con:
            spec = w.cfg.transaction("sales")
            days = [
                (PREV, w.land("sales", "csv", HEADER + _row("o1", PREV, "1", "3.50"), PREV)),
                (DAY, w.land("sales", "csv", HEADER + _row("o3", DAY, "1", "soon"), DAY)),
            ]
            again = ingest_transactions(con, spec, "landing", days)
        assert [(x.status, x.rows_loaded, x.rows_rejected) for x in again] == [(LOADED, 1, 0), (LOADED, 0, 1)]
        assert _column_type(w, "note") == "DECIMAL(18,4)"
        assert _notes(w) == [(PREV, "o1", Decimal("3.5"))]
    finally:
        w.close()


@pytest.mark.parametrize(
    ("old", "new", "stored"),
    [
        ({"type": "Decimal"}, {"type": "Int"}, "3.5"),  # 3.5 is no Int (a cast would round it to 4)
        ({"type": "Decimal", "scale": 4}, {"type": "Decimal", "scale": 2}, "3.125"),  # would be rounded
        ({"type": "Timestamp"}, {"type": "Date"}, "2026-01-30T09:00:00"),  # would lose its time
        ({"type": "Date"}, {"type": "Bool"}, "2026-01-30"),  # no cast between them at all
    ],
    ids=["decimal_to_int", "smaller_scale", "timestamp_to_date", "date_to_bool"],
)
def test_a_value_that_would_change_does_not_convert(
    tmp_path: Path, old: dict, new: dict, stored: str
) -> None:
    w = _world(tmp_path, note=old)
    assert _load(w, _row("o1", PREV, "1", stored), PREV).status == LOADED
    kept = (_column_type(w, "note"), _notes(w))
    w.close()
    w = _world(tmp_path, note=new)
    try:
        r = _load(w, _row("o2", DAY, "1", ""), DAY)
        assert r.status == FAILED
        assert r.error is not None and "\n" not in r.error
        assert r.error.startswith(
            f"sales: field 'note' changed type from {_words(old)} to {_words(new)}, but 1 "
        )
        assert (_column_type(w, "note"), _notes(w)) == kept
    finally:
        w.close()


RANGE = b"order_id,customer_id,sold_at,amount,qty,note\n"


def _load_range(w: World, name: str, data: bytes) -> list[LoadResult]:
    path = w.folder / name
    path.write_bytes(RANGE + data)
    with connect(w.warehouse) as con:
        return ingest_range_file(con, w.cfg.transaction("sales"), "landing", landed_file(path, PREV))


@pytest.mark.parametrize("replaces", ["covered_days", "none"])
def test_a_range_file_converts_the_column_too(tmp_path: Path, replaces: str) -> None:
    options = {
        "files": "range",
        "replaces": replaces,
        **({"key": ["order_id"]} if replaces == "none" else {}),
    }
    w = _world(tmp_path, note={"type": "Int"}, **options)
    assert [
        r.status
        for r in _load_range(w, "sales_a.csv", _row("o1", PREV, "1", "3") + _row("o2", DAY, "1", "4"))
    ] == [LOADED, LOADED]
    w.close()
    w = _world(tmp_path, note={"type": "Decimal"}, **options)
    try:
        results = _load_range(w, "sales_b.csv", _row("o2", DAY, "1", "4.5"))
        assert [(r.status, r.error) for r in results] == [(LOADED, None)]
        assert results[0].retyped == {"note": "Int (BIGINT) -> Decimal (DECIMAL(18,4))"}
        assert _notes(w) == [(PREV, "o1", Decimal(3)), (DAY, "o2", Decimal("4.5"))]
    finally:
        w.close()


def test_a_dataset_upserted_by_key_says_what_to_do_in_its_terms(tmp_path: Path) -> None:
    options = {"files": "range", "replaces": "none", "key": ["order_id"]}
    w = _world(tmp_path, **options)
    assert _load_range(w, "sales_a.csv", _row("o1", PREV, "1", "soon"))[0].status == LOADED
    w.close()
    w = _world(tmp_path, note={"type": "Int"}, **options)
    try:
        results = _load_range(w, "sales_b.csv", _row("o2", DAY, "1", "4"))
        assert [r.status for r in results] == [FAILED]
        assert results[0].error is not None
        assert results[0].error.endswith(
            "(day(s) 2026-01-30): declare it String again and load rows of the same keys with values that "
            "convert, then change it; nothing was loaded"
        )
        assert _notes(w) == [(PREV, "o1", "soon")]
    finally:
        w.close()


def test_the_runs_metadata_lists_a_converted_column() -> None:
    from pipeline.ingest.runs import _summary

    r = LoadResult("landing", "sales", "sales_20260131.csv", DAY, status=LOADED, load_id=1)
    r.retyped = {"note": "String (VARCHAR) -> Decimal (DECIMAL(18,4))"}
    table = _summary([r])["schema_changes"].value
    assert "| sales_20260131.csv | note | type String (VARCHAR) -> Decimal (DECIMAL(18,4)) |" in table
