"""The read API reads one snapshot version per request, even when a publication lands in its middle."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from fastapi.testclient import TestClient

from pipeline.activation.api import SnapshotReader, create_app
from pipeline.activation.publish import publish
from pipeline.core.sql import sql
from pipeline.core.warehouse import published_folder

KEY = "k"


def _add_load(con: duckdb.DuckDBPyConnection, load_id: int, dataset: str) -> None:
    con.execute(
        "INSERT INTO loads (load_id, source, dataset, file, partition_date, rows_read, rows_loaded, "
        "rows_rejected, status, started_at, finished_at) VALUES (?, 's', ?, 'f', DATE '2026-01-08', "
        "1, 1, 0, 'LOADED', TIMESTAMP '2026-01-08 02:00', TIMESTAMP '2026-01-08 02:01')",
        [load_id, dataset],
    )


def test_a_data_sets_loads_come_from_the_version_its_check_read(tmp_path, monkeypatch: pytest.MonkeyPatch):
    # version A has two loads of pos; version B, published right after the request's first cursor,
    # has none: the request once checked pos in A and paged its loads in B (200, total 0, B's version)
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(sql("core/schema"))
        _add_load(con, 1, "pos")
        _add_load(con, 2, "pos")
        first = publish(con, warehouse, dt.datetime(2026, 1, 8, 3, tzinfo=dt.UTC))
        con.execute("DELETE FROM loads WHERE dataset = 'pos'")
        _add_load(con, 3, "web")
        app = create_app(published_folder(warehouse), (KEY,))
        reader = app.state.reader
        opened, pending = reader.cursor, [dt.datetime(2026, 1, 9, 3, tzinfo=dt.UTC)]

        def cursor_then_publish():
            got = opened()
            if pending:  # the nightly publication lands once the request has its cursor
                publish(con, warehouse, pending.pop())
            return got

        monkeypatch.setattr(reader, "cursor", cursor_then_publish)
        with TestClient(app, headers={"X-API-Key": KEY}) as client:
            during = client.get("/v1/datasets/pos/loads").json()
            after = client.get("/v1/datasets/pos/loads")
    assert during["meta"]["snapshot"] == first.version
    assert during["meta"]["page"]["total"] == 2
    assert [r["load_id"] for r in during["data"]] == [2, 1]
    assert after.status_code == 404 and after.json()["meta"]["errors"] == ["no data set 'pos'"]


def _publish_day(con: duckdb.DuckDBPyConnection, warehouse, day: int) -> str:
    """Publish a version with one more load (of data set ``set<day>``) on 2026-01-<day>: its version."""
    _add_load(con, 100 + day, f"set{day}")
    return publish(con, warehouse, dt.datetime(2026, 1, day, 3, tzinfo=dt.UTC)).version


def _loads(cur: duckdb.DuckDBPyConnection) -> int:
    return cur.execute("SELECT count(*) FROM loads").fetchall()[0][0]


def test_a_held_version_stays_open_until_its_request_ends_then_closes(tmp_path):
    # a long request held version A while B and C were published and read: opening C closed A's
    # connection under the request (the reader kept the newest two open), which failed mid-read
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(sql("core/schema"))
        held = _publish_day(con, warehouse, 8)
        reader = SnapshotReader(published_folder(warehouse))
        try:
            with reader.reading() as (snapshot, cur):
                assert snapshot.version == held and _loads(cur) == 1
                newer = []
                for day in (9, 10):
                    newer.append(_publish_day(con, warehouse, day))
                    with reader.reading() as (latest, other):  # another request reads the newest
                        assert latest.version == newer[-1] and _loads(other) == day - 7
                assert _loads(cur) == 1  # the long request reads on
                assert reader.open_versions() == [held, *newer]
            # released: nobody holds it and two newer versions are open, so its connection is closed
            assert reader.open_versions() == newer
            with pytest.raises(duckdb.ConnectionException):
                cur.execute("SELECT 1")
        finally:
            reader.close()
        assert reader.open_versions() == []


def test_versions_nobody_reads_are_closed_once_two_newer_are_open(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(sql("core/schema"))
        reader = SnapshotReader(published_folder(warehouse))
        versions = []
        try:
            for day in range(1, 6):
                versions.append(_publish_day(con, warehouse, day))
                with reader.reading() as (snapshot, cur):
                    assert snapshot.version == versions[-1] and _loads(cur) == day
                assert reader.open_versions() == versions[-2:]
        finally:
            reader.close()
