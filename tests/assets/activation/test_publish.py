"""The published snapshot: whole versions switched atomically, readers never blocking the run."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import duckdb

import pipeline.activation.publish as publish_module
from pipeline.activation.publish import (
    CURRENT,
    FINGERPRINTS,
    KEEP,
    MANIFEST,
    PRUNE_THREAD,
    VERSIONS,
    clear_forgets,
    current_snapshot,
    pending_forgets,
    prune,
    publish,
    write_batches,
)
from pipeline.cli import main
from pipeline.core.sql import sql
from pipeline.core.warehouse import connect
from tests.assets.activation.conftest import World


def test_a_reader_never_blocks_the_run_nor_sees_a_mixed_snapshot(activation_world: World):
    reads = activation_world.reads
    assert not reads.errors
    versions = {v for v, _ in reads.seen}
    # the loop read the old version while the run worked, and the new one once it was published
    assert activation_world.first_version in versions and len(versions) == 2, versions
    assert all(whole for _, whole in reads.seen), [v for v, whole in reads.seen if not whole]
    # the reader that held the first version open all along still reads it whole
    assert (
        reads.held_rows_after
        == json.loads((activation_world.root / VERSIONS / reads.held_version / "manifest.json").read_text())[
            "tables"
        ]["results"]["rows"]
    )


def test_the_snapshot_equals_the_warehouse(activation_world: World):
    snapshot = current_snapshot(activation_world.root)
    assert snapshot is not None
    assert (activation_world.root / CURRENT).is_symlink()
    with connect(activation_world.config.warehouse_path, read_only=True) as wh:
        expected = wh.execute("SELECT * FROM results ORDER BY customer_id, experiment, date").fetchall()
        customers = wh.execute("SELECT count(*) FROM customers").fetchall()[0][0]
    with duckdb.connect(str(snapshot.database), read_only=True) as con:
        assert (
            con.execute("SELECT * FROM results ORDER BY customer_id, experiment, date").fetchall() == expected
        )
        columns = [r[0] for r in con.execute("DESCRIBE customers").fetchall()]
        assert con.execute("SELECT count(*) FROM customers").fetchall()[0][0] == customers
        days = con.execute("SELECT DISTINCT date FROM predictions").fetchall()
    assert columns[0] == "customer_id" and not {"customuid", "emailsha256", "idfa", "dmpid"} & set(columns)
    assert {"results", "predictions", "recommendations", "model_trainings", "loads", "rejects"} <= set(
        snapshot.tables
    ) | {"recommendations"}
    assert any(t.startswith("kpi_") for t in snapshot.tables)
    # a daily table is hive-partitioned: one folder per day
    folders = sorted(p.name for p in (snapshot.folder / "tables" / "predictions").iterdir())
    assert folders == [f"date={d[0]:%Y-%m-%d}" for d in sorted(days)]


def test_publishing_again_switches_versions_and_keeps_the_last_few(activation_world: World, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(activation_world.config.warehouse_path, warehouse)
    made = []
    with connect(warehouse, read_only=True) as con:
        for i in range(KEEP + 2):
            made.append(publish(con, warehouse, dt.datetime(2026, 2, 1, 0, 0, i, tzinfo=dt.UTC)).version)
    root = tmp_path / "published"
    assert current_snapshot(root).version == made[-1]
    # the stale versions left the listing at once; their files go in the background
    assert sorted(p.name for p in (root / VERSIONS).iterdir() if not p.name.startswith(".")) == made[-KEEP:]
    for thread in threading.enumerate():
        if thread.name == PRUNE_THREAD:
            thread.join()
    assert sorted(p.name for p in (root / VERSIONS).iterdir()) == made[-KEEP:]
    assert prune(root) == []


def test_prune_removes_stale_and_unfinished_versions_waiting_or_not(tmp_path):
    versions = tmp_path / VERSIONS
    names = [f"2026020{i}T000000000000-abcdef" for i in range(1, 6)]
    for name in [*names, ".unfinished.partial"]:
        (versions / name / "tables").mkdir(parents=True)
        (versions / name / "tables" / "data.parquet").write_bytes(b"x")
        (versions / name / MANIFEST).write_text("{}")
    (tmp_path / CURRENT).symlink_to(Path(VERSIONS) / names[0])  # the current one is never removed
    assert prune(tmp_path, keep=2) == names[1:3] + [".unfinished.partial"]
    assert sorted(p.name for p in versions.iterdir()) == [names[0], *names[3:]]
    (tmp_path / CURRENT).unlink()
    (tmp_path / CURRENT).symlink_to(Path(VERSIONS) / names[-1])
    assert prune(tmp_path, keep=2, wait=False) == [names[0]]
    assert sorted(p.name for p in versions.iterdir() if not p.name.startswith(".")) == names[3:]
    for thread in threading.enumerate():
        if thread.name == PRUNE_THREAD:
            thread.join()
    assert sorted(p.name for p in versions.iterdir()) == names[3:]


KILLED_BEFORE_THE_SWITCH = """
import datetime as dt, os, sys
import duckdb
import pipeline.activation.publish as p
p._check_rows = lambda *_: os._exit(9)  # killed once the version is in versions/, before its manifest
with duckdb.connect(sys.argv[1], read_only=True) as con:
    p.publish(con, sys.argv[1], dt.datetime(2026, 2, 3, tzinfo=dt.UTC))
"""


def test_a_version_killed_before_its_switch_takes_no_kept_slot_and_goes(tmp_path):
    # a publication killed between its folder's rename and the switch left a folder without a manifest;
    # it counted as one of the KEEP versions, so the next publication removed a good one in its place
    warehouse = _daily_results(tmp_path, days=2, rows=4)
    root = tmp_path / "published"
    with connect(warehouse, read_only=True) as con:
        good = [publish(con, warehouse, dt.datetime(2026, 2, d, tzinfo=dt.UTC)).version for d in (1, 2)]
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_BEFORE_THE_SWITCH, str(warehouse)], cwd=Path.cwd(), check=False
    )
    assert killed.returncode == 9
    (left,) = [p for p in (root / VERSIONS).iterdir() if p.name not in good]
    assert not (left / MANIFEST).exists() and current_snapshot(root).version == good[-1]
    with connect(warehouse, read_only=True) as con:
        good.append(publish(con, warehouse, dt.datetime(2026, 2, 4, tzinfo=dt.UTC)).version)
    _join_prune_threads()
    assert sorted(p.name for p in (root / VERSIONS).iterdir()) == good == good[-KEEP:]
    for version in good:  # each kept version reads whole
        with duckdb.connect(str(root / VERSIONS / version / "snapshot.duckdb"), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM results").fetchall() == [(4,)]


def _join_prune_threads() -> None:
    for thread in threading.enumerate():
        if thread.name == PRUNE_THREAD:
            thread.join()


def test_prune_never_removes_the_current_version_even_without_a_manifest(tmp_path):
    versions = tmp_path / VERSIONS
    names = [f"2026020{i}T000000000000-abcdef" for i in range(1, 5)]
    for name in names:
        (versions / name).mkdir(parents=True)
    for name in names[1:3]:
        (versions / name / MANIFEST).write_text("{}")
    (tmp_path / CURRENT).symlink_to(Path(VERSIONS) / names[0])
    assert prune(tmp_path, keep=1) == [names[1], names[3]]
    assert sorted(p.name for p in versions.iterdir()) == [names[0], names[2]]


def test_a_locked_warehouse_is_one_line_naming_the_holder_and_the_snapshot(
    activation_world: World, tmp_path, capsys
):
    """`nightjar upload` while another process writes: one line, who holds it, where the snapshot is."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(activation_world.config.warehouse_path, warehouse)
    pos = activation_world.config.base_dir / "files" / "trans_pos_20260101.csv"
    config = str(activation_world.config.base_dir / "nightjar.yaml")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys, time; c = duckdb.connect({str(warehouse)!r}); "
            "print('open', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        code = main(
            ["upload", str(pos), "--dataset", "pos", "--warehouse", str(warehouse), "--config", config]
        )
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert f"process {holder.pid} (python" in err
    assert f"{tmp_path}/published/current/snapshot.duckdb" in err


def test_an_upload_reports_a_runless_materialization(activation_world: World, tmp_path, monkeypatch, capsys):
    import dagster as dg

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(activation_world.config.warehouse_path, warehouse)
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    pos = activation_world.config.base_dir / "files" / "trans_pos_20260102.csv"
    config = str(activation_world.config.base_dir / "nightjar.yaml")
    assert (
        main(["upload", str(pos), "--dataset", "pos", "--warehouse", str(warehouse), "--config", config]) == 0
    )
    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey("tx_pos"))
    assert event is not None and event.asset_materialization is not None
    assert event.asset_materialization.partition == "2026-01-02"
    assert event.asset_materialization.metadata["file"].value == "trans_pos_20260102.csv"


def test_a_daily_table_with_a_row_without_a_day_is_published_whole(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "CREATE TABLE results AS SELECT DATE '2026-01-02' + i::INT AS date, i AS n FROM range(3) t(i)"
        )
        con.execute(
            "CREATE TABLE loads AS SELECT * FROM (VALUES (1, DATE '2026-01-02'), (2, NULL)) "
            "v(load_id, partition_date)"
        )
    with connect(warehouse, read_only=True) as con:
        snapshot = publish(con, warehouse)
    assert snapshot.tables["results"]["partitioned_by"] == "date"
    assert snapshot.tables["loads"]["partitioned_by"] is None
    with duckdb.connect(str(snapshot.database), read_only=True) as con:
        assert con.execute("SELECT load_id, partition_date FROM loads ORDER BY 1").fetchall() == [
            (1, dt.date(2026, 1, 2)),
            (2, None),
        ]
        assert con.execute("SELECT count(*), min(date) FROM results").fetchall() == [(3, dt.date(2026, 1, 2))]


def _inodes(folder) -> dict[str, int]:
    return {str(f.relative_to(folder)): f.stat().st_ino for f in folder.rglob("*.parquet")}


def _published_equals_warehouse(snapshot, warehouse, tables) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as wh, duckdb.connect(str(snapshot.database)) as pub:
        for t in tables:
            query = f"SELECT * FROM {t} ORDER BY ALL"
            assert pub.execute(query).fetchall() == wh.execute(query).fetchall(), t
        customers = "SELECT customer_id FROM customers ORDER BY 1"
        assert (
            pub.execute(customers).fetchall()
            == wh.execute(customers.replace("customer_id", "customuid")).fetchall()
        )


def _daily_results(tmp_path, days: int, rows: int):
    """A warehouse whose `results` has ``rows`` rows (n, c) over ``days`` days from 2026-01-01."""
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "CREATE TABLE results AS SELECT DATE '2026-01-01' + (i % $days)::INT AS date, i AS n, "
            "'c' || i AS c FROM range($rows) t(i)",
            {"days": days, "rows": rows},
        )
    return warehouse


def test_publishing_writes_only_the_parts_that_changed_and_equals_a_full_publication(tmp_path):
    warehouse = _daily_results(tmp_path, days=4, rows=40)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE TABLE experiment_report AS SELECT 'e' AS experiment, 0.5 AS lift")
        con.execute(
            "CREATE TABLE customers AS SELECT 'c' || i AS customuid, 'x' AS emailsha256 FROM range(5) t(i)"
        )
    tables = ["results", "experiment_report"]
    with connect(warehouse, read_only=True) as con:
        first = publish(con, warehouse, dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    before = _inodes(first.folder / "tables")
    with duckdb.connect(str(warehouse)) as con:  # day 2 changes, day 4 goes, day 5 comes; a customer comes
        con.execute("UPDATE results SET c = 'changed' WHERE n = 1")
        con.execute("DELETE FROM results WHERE date = DATE '2026-01-04'")
        con.execute("INSERT INTO results VALUES (DATE '2026-01-05', 100, 'new')")
        con.execute("INSERT INTO customers VALUES ('c9', 'y')")
    with connect(warehouse, read_only=True) as con:
        second = publish(con, warehouse, dt.datetime(2026, 2, 2, tzinfo=dt.UTC))
    after = _inodes(second.folder / "tables")
    _published_equals_warehouse(second, warehouse, tables)
    kept = {name for name, inode in after.items() if before.get(name) == inode}
    assert kept == {
        "results/date=2026-01-01/part-0.parquet",
        "results/date=2026-01-03/part-0.parquet",
        "experiment_report/data.parquet",
    }
    assert sorted(p.name for p in (second.folder / "tables" / "results").iterdir()) == [
        "date=2026-01-01",
        "date=2026-01-02",
        "date=2026-01-03",
        "date=2026-01-05",
    ]
    # the older version's files stay whole when it is removed (its linked files are the newer one's too)
    shutil.rmtree(first.folder)
    _published_equals_warehouse(second, warehouse, tables)
    # a column's type changes: the table is written again whole; and so is a version without fingerprints
    with duckdb.connect(str(warehouse)) as con:
        con.execute("ALTER TABLE results ALTER n TYPE DOUBLE")
    with connect(warehouse, read_only=True) as con:
        third = publish(con, warehouse, dt.datetime(2026, 2, 3, tzinfo=dt.UTC))
        (third.folder / FINGERPRINTS).unlink()
        fourth = publish(con, warehouse, dt.datetime(2026, 2, 4, tzinfo=dt.UTC))
    assert not any(
        f.startswith("results/") for f in set(_inodes(third.folder / "tables")) & set(after.items())
    )
    assert not set(_inodes(fourth.folder / "tables").values()) & set(
        _inodes(third.folder / "tables").values()
    )
    _published_equals_warehouse(fourth, warehouse, tables)


def test_write_batches_cut_the_days_by_their_rows_a_large_day_alone():
    days = [dt.date(2026, 1, d) for d in range(1, 7)]
    rows = dict(zip(days, [3, 3, 1, 9, 2, 0], strict=True))
    assert write_batches(days, rows, most=6) == [days[0:2], days[2:3], days[3:4], days[4:6]]
    assert write_batches(days, rows, most=100) == [days]
    assert write_batches([], {}, most=6) == []


def test_a_table_written_in_batches_of_days_equals_one_written_at_once(tmp_path, monkeypatch):
    warehouse = _daily_results(tmp_path, days=7, rows=70)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE TABLE customers AS SELECT 'c' || i AS customuid FROM range(3) t(i)")
    with connect(warehouse, read_only=True) as con:
        whole = publish(con, warehouse, dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
        (whole.folder / FINGERPRINTS).unlink()  # the next one writes every part again
        monkeypatch.setattr(publish_module, "BATCH_ROWS", 25)  # 10 rows a day: batches of two days
        batched = publish(con, warehouse, dt.datetime(2026, 2, 2, tzinfo=dt.UTC))
    assert not set(_inodes(batched.folder / "tables").values()) & set(
        _inodes(whole.folder / "tables").values()
    )
    assert sorted(_inodes(batched.folder / "tables")) == sorted(_inodes(whole.folder / "tables"))
    _published_equals_warehouse(batched, warehouse, ["results"])


def test_a_pending_forget_leaves_no_older_version_and_only_the_forgets_seen_are_cleared(tmp_path):
    warehouse = _daily_results(tmp_path, days=2, rows=4)
    root = tmp_path / "published"
    with connect(warehouse, read_only=True) as con:
        kept = [publish(con, warehouse, dt.datetime(2026, 2, d, tzinfo=dt.UTC)).version for d in (1, 2)]
    assert sorted(p.name for p in (root / VERSIONS).iterdir()) == kept
    with duckdb.connect(str(warehouse)) as con:  # what a forget's transaction writes
        con.execute(sql("customers/forget/create_forget_pending"))
        con.execute(sql("customers/forget/mark_pending"), {"forget_id": "a", "at": dt.datetime(2026, 2, 3)})
    with connect(warehouse, read_only=True) as con:
        third = publish(con, warehouse, dt.datetime(2026, 2, 3, tzinfo=dt.UTC))
    assert third.forgets == ("a",)
    assert [p.name for p in (root / VERSIONS).iterdir()] == [third.version]  # gone already: waited for
    with connect(warehouse) as con:
        con.execute(sql("customers/forget/mark_pending"), {"forget_id": "b", "at": dt.datetime(2026, 2, 4)})
        clear_forgets(con, third.forgets)  # "b" came after the publication: it stays
        assert pending_forgets(con) == ("b",)
        fourth = publish(con, warehouse, dt.datetime(2026, 2, 4, tzinfo=dt.UTC))
        clear_forgets(con, fourth.forgets)
        assert fourth.forgets == ("b",) and pending_forgets(con) == ()
        fifth = publish(con, warehouse, dt.datetime(2026, 2, 5, tzinfo=dt.UTC))
    _join_prune_threads()
    assert sorted(p.name for p in (root / VERSIONS).iterdir()) == [fourth.version, fifth.version]
