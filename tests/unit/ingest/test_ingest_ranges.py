"""Range files: a file of many days, each row into its time_field day's partition; re-loading it
changes nothing; an overlapping file replaces exactly its days (or upserts by key); one `loads`
row per file and day, rows_read = rows_loaded + rows_rejected for each."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline.core.warehouse import connect
from pipeline.ingest.ranges import covered_days, ingest_range_file
from pipeline.ingest.sources.local_files import landed_file
from pipeline.ingest.write import FAILED, LOADED, LoadResult
from tests.unit.ingest.malformed_corpus import World
from tests.unit.ingest.malformed_tx_dialects import sales_config

D1, D2, D3, D4 = (dt.date(2026, 1, d) for d in (10, 11, 12, 13))

# a retailer's log as it comes: whitespace between values, CRLF ends, a header, many days
LOG = (
    b"order_id   customer_id  sold_at     amount  qty\r\n"
    b"o1         c1           2026-01-10  3.50    2\r\n"
    b"o2         c2           2026-01-11  1.00    1\r\n"
    b"o3         c1           2026-01-11  x       1\r\n"
    b"o4         c3           2026-01-12  2.00    4\r\n"
    b"o5         c3           soon        2.00    4\r\n"
)
# overlaps the log on the 12th only, and adds the 13th
LATER = b"order_id customer_id sold_at amount qty\r\no6 c4 2026-01-12 9.00 1\r\no7 c4 2026-01-13 1.00 1\r\n"


def _world(tmp_path: Path, **options) -> World:
    return World(tmp_path, sales_config(files="range", delimiter="whitespace", **options))


def _load(w: World, name: str, data: bytes, window=None) -> list[LoadResult]:
    path = w.folder / name
    path.write_bytes(data)
    with connect(w.warehouse) as con:
        spec = w.cfg.transaction("sales")
        f = landed_file(path, D1)
        return ingest_range_file(con, spec, "landing", f, *([window] if window else []))


def _table(w: World) -> list[tuple]:
    return w.q("SELECT _partition_date, order_id, amount FROM tx_sales ORDER BY _partition_date, order_id")


def _loads(w: World, results: list[LoadResult]) -> list[tuple]:
    return w.q(
        "SELECT file, partition_date, status, rows_read, rows_loaded, rows_rejected FROM loads "
        "WHERE list_contains(?, load_id) ORDER BY partition_date NULLS LAST",
        [[r.load_id for r in results]],
    )


def test_range_file_lands_each_row_on_its_day_and_reloads_the_same(tmp_path: Path) -> None:
    w = _world(tmp_path)
    try:
        first = _load(w, "sales.txt", LOG)
        assert _loads(w, first) == [
            ("sales.txt", D1, LOADED, 1, 1, 0),
            ("sales.txt", D2, LOADED, 2, 1, 1),
            ("sales.txt", D3, LOADED, 1, 1, 0),
            ("sales.txt", None, LOADED, 1, 0, 1),  # o5: no day (its time cannot be read)
        ]
        assert all(r.rows_read == r.rows_loaded + r.rows_rejected for r in first)
        table = _table(w)
        assert [(d, o) for d, o, _ in table] == [(D1, "o1"), (D2, "o2"), (D3, "o4")]
        rejects = w.q("SELECT partition_date, row_number, field FROM rejects ORDER BY row_number")
        assert rejects == [(D2, 3, "amount"), (None, 5, "sold_at")]
        # loading it again changes nothing (rows, rejects), only adds its loads
        again = _load(w, "sales.txt", LOG)
        assert _table(w) == table
        assert w.q("SELECT partition_date, row_number, field FROM rejects ORDER BY row_number") == rejects
        assert [r.rows_read for r in again] == [r.rows_read for r in first]
        # an overlapping file replaces exactly the days it covers (the 12th), adds the 13th
        later = _load(w, "sales_later.txt", LATER)
        assert [(r.partition_date, r.rows_loaded) for r in later] == [(D3, 1), (D4, 1)]
        assert [(d, o) for d, o, _ in _table(w)] == [(D1, "o1"), (D2, "o2"), (D3, "o6"), (D4, "o7")]
        # the days it did not cover keep their rejects
        assert w.q("SELECT count(*) FROM rejects WHERE partition_date = ?", [D2]) == [(1,)]
    finally:
        w.close()


def test_range_file_window_loads_only_its_days(tmp_path: Path) -> None:
    w = _world(tmp_path)
    try:
        results = _load(w, "sales.txt", LOG, window=(D2, D2))
        assert [(r.partition_date, r.rows_read) for r in results] == [(D2, 2), (None, 1)]
        assert [(d, o) for d, o, _ in _table(w)] == [(D2, "o2")]
    finally:
        w.close()


def test_replaces_none_upserts_by_key(tmp_path: Path) -> None:
    w = _world(tmp_path, replaces="none", key=["order_id"])
    try:
        _load(w, "sales.txt", LOG)
        # o1 moves to the 13th with a new amount; o9 is new; o9 twice: the last row wins
        update = (
            b"order_id customer_id sold_at amount qty\r\n"
            b"o1 c1 2026-01-13 7.00 1\r\n"
            b"o9 c9 2026-01-13 1.00 1\r\n"
            b"o9 c9 2026-01-13 2.00 1\r\n"
        )
        results = _load(w, "sales_update.txt", update)
        assert _loads(w, results) == [("sales_update.txt", D4, LOADED, 3, 2, 1)]
        assert [(d, o, str(a)) for d, o, a in _table(w)] == [
            (D2, "o2", "1.0000"),
            (D3, "o4", "2.0000"),
            (D4, "o1", "7.0000"),
            (D4, "o9", "2.0000"),
        ]
        reason = w.q("SELECT reason FROM rejects WHERE file = 'sales_update.txt'")[0][0]
        assert reason.startswith("key: a later row of the file has the same order_id")
    finally:
        w.close()


def test_an_upsert_by_key_covers_the_day_a_row_moved_from(tmp_path: Path) -> None:
    """o1 moves from the 10th to the 13th: both partitions changed (an upload reports both to Dagster,
    so the events of the 10th are rebuilt too), not only the day of the file's row."""
    w = _world(tmp_path, replaces="none", key=["order_id"])
    try:
        _load(w, "sales.txt", LOG)
        moved = _load(
            w, "sales_update.txt", b"order_id customer_id sold_at amount qty\r\no1 c1 2026-01-13 7.00 1\r\n"
        )
        assert [(d, o) for d, o, _ in _table(w)] == [(D2, "o2"), (D3, "o4"), (D4, "o1")]
        assert covered_days(moved) == [D1, D4]
        # a row restated on its own day: that day only
        same = _load(
            w, "sales_again.txt", b"order_id customer_id sold_at amount qty\r\no2 c2 2026-01-11 5.00 1\r\n"
        )
        assert covered_days(same) == [D2]
    finally:
        w.close()


def test_a_rejected_later_row_does_not_displace_a_good_row_of_its_key(tmp_path: Path) -> None:
    """o1's second row is rejected for its qty: the first o1 row is the last good one and loads, and
    the key decides between the good rows only (o2's last good row wins over its earlier one)."""
    w = _world(tmp_path, replaces="none", key=["order_id"])
    try:
        data = (
            b"order_id customer_id sold_at amount qty\r\n"
            b"o1 c1 2026-01-10 10.00 1\r\n"
            b"o1 c1 2026-01-11 11.00 x\r\n"
            b"o2 c2 2026-01-11 1.00 1\r\n"
            b"o2 c2 2026-01-11 2.00 1\r\n"
            b"o2 c2 2026-01-11 3.00 y\r\n"
        )
        results = _load(w, "sales.txt", data)
        assert _loads(w, results) == [("sales.txt", D1, LOADED, 1, 1, 0), ("sales.txt", D2, LOADED, 4, 1, 3)]
        assert [(d, o, str(a)) for d, o, a in _table(w)] == [(D1, "o1", "10.0000"), (D2, "o2", "2.0000")]
        rejects = w.q("SELECT row_number, field FROM rejects ORDER BY row_number")
        assert rejects == [(2, "qty"), (3, "key"), (5, "qty")]
    finally:
        w.close()


def test_unreadable_range_file_fails_and_changes_nothing(tmp_path: Path) -> None:
    w = _world(tmp_path)
    try:
        _load(w, "sales.txt", LOG)
        before = _table(w)
        (failed,) = _load(w, "sales_bad.txt", b"")
        assert failed.status == FAILED and "empty" in (failed.error or "")
        assert _table(w) == before
    finally:
        w.close()


@pytest.mark.parametrize(
    "options, words",
    [
        ({"replaces": "none"}, "give key"),
        ({"key": ["order_id"]}, "key is for replaces: none"),
        ({"replaces": "none", "key": ["nope"]}, "'nope' is not one of the fields"),
    ],
)
def test_range_config_errors(tmp_path: Path, options: dict, words: str) -> None:
    from pipeline.config import parse_config
    from pipeline.core.settings import ConfigError

    with pytest.raises(ConfigError) as e:
        parse_config(sales_config(files="range", **options), "t.yaml", tmp_path)
    assert "transactions[0].key" in str(e.value) and words in str(e.value)


def test_the_days_changed_outside_a_run_are_the_days_its_keys_left_or_its_rows_went_to() -> None:
    from pipeline.ingest.ranges import LOADED_INTO, MOVED_AWAY, changed_outside

    def result(day, key_days=(), status=LOADED, file="f.csv") -> LoadResult:
        r = LoadResult("landing", "sales", file, day, status=status)
        r.key_days = list(key_days)
        return r

    results = [
        result(D3, key_days=[D1, D3]),  # a key of D3 left D1 (outside) and D3 (inside)
        result(D4),  # loaded outside the run
        result(D4, file="g.csv", key_days=[D1]),
        result(D2, key_days=[D1], status=FAILED),  # a failed load changed nothing
        result(None),  # the rows without a day
    ]
    assert changed_outside(results, (D2, D3)) == {
        D1: [("f.csv", MOVED_AWAY), ("g.csv", MOVED_AWAY)],
        D4: [("f.csv", LOADED_INTO), ("g.csv", LOADED_INTO)],
    }
