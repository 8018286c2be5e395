"""The fingerprints attribution records of the days it writes, and what the snapshot makes of them.

A tiny warehouse attributed for real (three days, two rule-based models), then published: the
recorded fingerprints equal the hashed ones; a day attributed again with a changed order is written
again and one attributed again unchanged is linked; `nightjar forget` and retention keep the records
true; a record made of other columns is not used; and every publication equals a full one.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import duckdb
import pyarrow.parquet as pq
import pytest

from pipeline.activation.publish import FINGERPRINTS, fingerprints, publish
from pipeline.attribution.credits import CREDITS, build_attribution, build_attribution_range
from pipeline.core.parts import PARTS, fresh_parts, record_parts
from pipeline.core.sql import sql
from pipeline.core.warehouse import connect
from pipeline.customers.forget import forget_customer
from pipeline.customers.retention import apply_retention
from tests.unit.attribution.helpers import DAY, config, load_events, spec, ts

DAYS = [DAY - dt.timedelta(days=1), DAY, DAY + dt.timedelta(days=1)]
MODELS = [{"name": "last", "modelType": "last"}, {"name": "first", "modelType": "first"}]
CHANNELS = ["Search", "Email", "Display", "Direct"]


def _events(changed: bool = False) -> list[tuple]:
    """Per customer c0..c8: two visits and an order on day c % 3 - 1 (relative to DAY); ``changed``:
    the orders of DAY worth 20 more."""
    rows = []
    for c in range(9):
        day = c % 3 - 1
        rows += [
            (f"visit:1:{2 * c}", f"c{c}", "visit", ts(day - 2, 9), CHANNELS[c % 4], None),
            (f"visit:1:{2 * c + 1}", f"c{c}", "visit", ts(day, 8), CHANNELS[(c + 1) % 4], None),
            (f"order:1:{c}", f"c{c}", "order", ts(day, 15), None, 50.0 + c + 20 * (changed and day == 0)),
        ]
    return rows


def _attribute(con: duckdb.DuckDBPyConnection, days: list[dt.date], changed: bool = False) -> None:
    """The days attributed as a backfill does (one range), or each alone as the nightly run does."""
    load_events(con, _events(changed))
    cfg = config(spec(MODELS, perTouchCredits=False))
    if days == DAYS:
        build_attribution_range(con, cfg, DAYS[0], DAYS[-1])
        return
    for d in days:  # a loop over the days attributed
        build_attribution(con, cfg, d)


def _hashed(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    return fingerprints(con, "SELECT * FROM attribution_credits", "_partition_date")


def _records(con: duckdb.DuckDBPyConnection, table: str = CREDITS) -> dict[str, list]:
    rows = con.execute(
        f"SELECT day::VARCHAR, rows, fingerprint FROM {PARTS} WHERE table_name = ? ORDER BY day", [table]
    ).fetchall()
    return {d: [n, fp] for d, n, fp in rows}


def _files(snapshot) -> dict[str, int]:
    """The credits' Parquet files of a version and their inodes (a linked file keeps its inode)."""
    folder = snapshot.folder / "tables" / CREDITS
    return {str(f.relative_to(folder)): f.stat().st_ino for f in folder.rglob("*.parquet")}


def _publish(warehouse, day: int):
    with connect(warehouse, read_only=True) as con:
        return publish(con, warehouse, dt.datetime(2026, 4, day, tzinfo=dt.UTC))


def _equals_a_full_publication(snapshot, warehouse, tmp_path) -> None:
    """The snapshot's credits equal the warehouse's, and its fingerprints a publication from scratch
    of a copy of the warehouse without any record."""
    fresh = tmp_path / f"full{snapshot.version}" / "warehouse.duckdb"
    fresh.parent.mkdir()
    shutil.copy(warehouse, fresh)
    with duckdb.connect(str(fresh)) as con:
        con.execute(f"DROP TABLE {PARTS}")
    full = _publish(fresh, 28)
    query = f"SELECT * FROM {CREDITS} ORDER BY ALL"
    with duckdb.connect(str(snapshot.database), read_only=True) as pub, duckdb.connect(str(fresh)) as wh:
        assert pub.execute(query).fetchall() == wh.execute(query).fetchall()
    prints = json.loads((snapshot.folder / FINGERPRINTS).read_text())
    assert prints == json.loads((full.folder / FINGERPRINTS).read_text())


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(sql("core/schema"))
        _attribute(con, DAYS)
    return path


def test_recorded_fingerprints_equal_hashed_ones_and_publish_only_what_changed(warehouse, tmp_path):
    with duckdb.connect(str(warehouse)) as con:
        assert _records(con) == _hashed(con)
        assert len(_records(con)) == 3
    first = _publish(warehouse, 1)
    _equals_a_full_publication(first, warehouse, tmp_path)
    # DAY attributed again after its order values changed (the same rows, other values); DAY + 1
    # attributed again from the same events: the same fingerprint
    with duckdb.connect(str(warehouse)) as con:
        con.execute("SET TimeZone = 'UTC'")
        _attribute(con, [DAY, DAYS[2]], changed=True)
        assert _records(con) == _hashed(con)
    second = _publish(warehouse, 2)
    old, new = _files(first), _files(second)
    kept = {f.split("/")[0] for f in new if old.get(f) == new[f]}
    assert kept == {f"_partition_date={DAYS[0]}", f"_partition_date={DAYS[2]}"}
    _equals_a_full_publication(second, warehouse, tmp_path)


def test_forget_and_retention_keep_the_records_true(warehouse, tmp_path):
    first = _publish(warehouse, 1)
    with connect(warehouse) as con:
        before = _records(con)
        forget_customer(con, config(spec(MODELS)), "c0", kind="customer_id")  # c0 converted on DAY - 1
        after = _records(con)
        assert after == _hashed(con)
        assert [d for d in before if before[d] != after.get(d)] == [str(DAYS[0])]
    old = _files(first)  # (the forget is pending: the next publication keeps no older version)
    second = _publish(warehouse, 2)
    new = _files(second)
    assert {f.split("/")[0] for f in new if old.get(f) != new[f]} == {f"_partition_date={DAYS[0]}"}
    _equals_a_full_publication(second, warehouse, tmp_path)
    # retention of a table whose days are recorded (events: recorded here by hand)
    with connect(warehouse) as con:
        first_day = con.execute("SELECT min(_partition_date) FROM events").fetchall()[0][0]
        con.execute("BEGIN")
        record_parts(con, "events", "_partition_date", first_day, DAYS[2])
        con.execute("COMMIT")
        apply_retention(con, {"visit": 0}, DAYS[2])
        assert _records(con, "events") == fingerprints(con, "SELECT * FROM events", "_partition_date")
        assert sum(n for n, _ in _records(con, "events").values()) == 8  # the orders left


def test_records_of_other_columns_or_another_table_are_not_used(warehouse):
    with duckdb.connect(str(warehouse)) as con:
        assert fresh_parts(con, "attribution_summary") is None  # not recorded: hashed whole
        assert fresh_parts(con, CREDITS, "model") is None  # recorded per another column
        con.execute(f"ALTER TABLE {CREDITS} ADD COLUMN note VARCHAR DEFAULT 'x'")
        assert fresh_parts(con, CREDITS, record=False) == _hashed(con) != _records(con)
        # recorded again (a writer's call) for the columns as they are now
        assert fresh_parts(con, CREDITS) == _hashed(con) == _records(con)


def test_a_writer_records_again_the_days_whose_records_do_not_add_up(warehouse):
    """A night's writer counts every day's rows only when the records do not add up to the table's:
    a day whose record was lost, or stale (rows deleted without a refresh), is recorded again."""
    cfg = config(spec(MODELS, perTouchCredits=False))
    with duckdb.connect(str(warehouse)) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"DELETE FROM {PARTS} WHERE day = ?", [DAYS[0]])  # a day without a record
        build_attribution(con, cfg, DAYS[2])
        assert _records(con) == _hashed(con)
        con.execute(f"DELETE FROM {CREDITS} WHERE _partition_date = ? AND model = 'first'", [DAYS[1]])
        build_attribution(con, cfg, DAYS[2])  # DAYS[1] lost rows without a refresh: counted, recorded
        assert _records(con) == _hashed(con)


def test_the_snapshot_dictionary_encodes_repeated_text_not_the_ids(warehouse):
    snapshot = _publish(warehouse, 1)
    for f in (snapshot.folder / "tables" / CREDITS).rglob("*.parquet"):
        meta = pq.ParquetFile(f).metadata
        columns = range(meta.num_columns)
        encodings = {meta.schema.column(i).name: set(meta.row_group(0).column(i).encodings) for i in columns}
        dictionary = {c for c, e in encodings.items() if "RLE_DICTIONARY" in e or "PLAIN_DICTIONARY" in e}
        assert dictionary == {"conversion", "model", "model_type", "channel"}, f
