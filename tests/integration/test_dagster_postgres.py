"""Dagster's storage: the local default, and a real PostgreSQL server configured by environment variables."""

from __future__ import annotations

import datetime as dt
import subprocess

import dagster as dg
import psycopg2
import pytest
import yaml

from pipeline.config import load_config
from pipeline.definitions import build_definitions
from tests.conftest import ROOT
from tests.integration.conftest import START
from tests.integration.dagster_procs import BIN, dagster_env, dagster_home

pytestmark = pytest.mark.e2e


def test_instance_files_local_default_and_postgres_from_the_environment(tmp_path):
    local = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    assert "storage" not in local  # Dagster's local default: SQLite files under $DAGSTER_HOME
    pg = yaml.safe_load((dagster_home(tmp_path / "pg", postgres=True) / "dagster.yaml").read_text())
    assert {k: v for k, v in pg.items() if k != "storage"} == local  # run queue, pools, retries shared
    db = pg["storage"]["postgres"]["postgres_db"]
    assert db.pop("scheme") == "postgresql+psycopg2"
    # every value is read from the environment by each process: no host, user or password in a file
    assert db == {
        key: {"env": f"DAGSTER_PG_{var}"}
        for key, var in [
            ("hostname", "HOST"),
            ("port", "PORT"),
            ("username", "USER"),
            ("password", "PASSWORD"),
            ("db_name", "DB"),
        ]
    }


def test_local_default_without_the_variables(tmp_path, monkeypatch):
    for var in ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    instance = dg.DagsterInstance.from_config(str(dagster_home(tmp_path / "home")))
    assert type(instance.run_storage).__name__ == "SqliteRunStorage"
    assert (tmp_path / "home" / "history" / "runs.db").exists()  # the runs are kept under the home
    instance.dispose()


def pg_rows(env: dict, query: str) -> list[tuple]:
    con = psycopg2.connect(
        host=env["DAGSTER_PG_HOST"], port=env["DAGSTER_PG_PORT"], user="postgres", dbname=env["DAGSTER_PG_DB"]
    )
    try:
        with con.cursor() as cur:
            cur.execute(query)
            return cur.fetchall()
    finally:
        con.close()


def test_materialization_and_schedule_tick_recorded_in_postgres(pg, world, tmp_path, monkeypatch):
    home = dagster_home(tmp_path / "home", postgres=True)
    # the server trusts loopback connections and ignores the password; Dagster must never write it down
    pg = {**pg, "DAGSTER_PG_PASSWORD": "s3cret"}
    env = dagster_env(home, world, pg)
    # 1. a materialization from the dagster CLI, in its own process, against PostgreSQL
    run = subprocess.run(
        [
            str(BIN / "dagster"),
            "asset",
            "materialize",
            "-m",
            "pipeline.definitions",
            "--select",
            "tx_pos",
            "--partition",
            START.isoformat(),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert not (home / "history").exists()  # nothing went to the local SQLite storage

    # 2. a tick of the nightly schedule, evaluated against the same instance, and its run
    for k, v in pg.items():
        monkeypatch.setenv(k, v)
    instance = dg.DagsterInstance.from_config(str(home))
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert "s3cret" not in repr(instance.get_ref())
    defs = build_definitions(load_config(world))
    schedule = defs.resolve_schedule_def("nightly_schedule")
    tick_time = dt.datetime(2026, 1, 3, 2, 0, tzinfo=dt.UTC)
    with dg.build_schedule_context(instance=instance, scheduled_execution_time=tick_time) as ctx:
        requests = schedule.evaluate_tick(ctx).run_requests
    assert [r.partition_key for r in requests] == ["2026-01-02"]
    job = defs.resolve_job_def("nightly")
    result = job.execute_in_process(
        instance=instance,
        partition_key=requests[0].partition_key,
        tags={**requests[0].tags, "dagster/schedule_name": schedule.name},
        asset_selection=[dg.AssetKey("tx_pos"), dg.AssetKey("tx_web_sessions")],
    )
    assert result.success

    # 3. both runs are rows of PostgreSQL's `runs` table, with their materializations in `event_logs`
    runs = pg_rows(pg, "SELECT run_id, status FROM runs ORDER BY create_timestamp")
    assert [s for _, s in runs] == ["SUCCESS", "SUCCESS"]
    assert runs[1][0] == result.run_id
    tagged = pg_rows(pg, "SELECT run_id, value FROM run_tags WHERE key = 'dagster/partition' ORDER BY value")
    assert [v for _, v in tagged] == ["2026-01-01", "2026-01-02"]
    mats = pg_rows(
        pg,
        "SELECT asset_key, partition FROM event_logs WHERE dagster_event_type = "
        "'ASSET_MATERIALIZATION' ORDER BY partition, asset_key",
    )
    assert mats == [
        ('["tx_pos"]', "2026-01-01"),
        ('["tx_pos"]', "2026-01-02"),
        ('["tx_web_sessions"]', "2026-01-02"),
    ]
    instance.dispose()
    written = [p for p in home.rglob("*") if p.is_file() and b"s3cret" in p.read_bytes()]
    assert written == []
