"""Faults: a run killed mid-write, two runs at once, a full disk. The warehouse survives each."""

from __future__ import annotations

import datetime as dt
import os
import resource
import signal
import subprocess
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipeline.cli import main
from pipeline.core.warehouse import connect
from tests.conftest import ROOT, make_config, run_nightly, write_pos
from tests.integration.dagster_procs import BIN, dagster_env, dagster_home

pytestmark = pytest.mark.e2e
D1, D2, D3 = dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 1, 3)
BIG_ROWS = 600_000


def big_pos_file(folder: Path, day: dt.date, rows: int) -> Path:
    path = folder / f"trans_pos_{day:%Y%m%d}.csv"
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT 'O' || i AS order_id, 'C' || (i % 5000) AS customer_id, strftime($d, '%m/%d/%Y') AS "
        "purchased_at, "
        "'S' || (i % 7) AS store, 'P' || (i % 50) AS product, 1 + i % 3 AS quantity, round(5 + (i % 1000) / "
        "10, 2) AS amount "
        f"FROM range({int(rows)}) t(i)) TO '{path}' (HEADER, DELIMITER ',')",
        {"d": day},
    )
    con.close()
    return path


@pytest.fixture
def project(tmp_path):
    config = make_config(tmp_path)
    files = tmp_path / "files"
    write_pos(files, D1, ["O1,C1,S1,P1,1,10.50", "O2,C2,S1,P1,1,3"])
    write_pos(files, D2, ["O4,C1,S1,P1,1,7"])
    write_pos(files, D3, ["O5,C1,S1,P1,1,8"])
    home = dagster_home(tmp_path / "home")
    return config, dagster_env(home, tmp_path / "nightjar.yaml")


def materialize(env: dict, day: dt.date, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(BIN / "dagster"),
            "asset",
            "materialize",
            "-m",
            "pipeline.definitions",
            "--select",
            "tx_pos",
            "--partition",
            day.isoformat(),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **popen,
    )


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=300)
    return proc.returncode, out


def state(config) -> tuple:
    with connect(config.warehouse_path, read_only=True) as con:
        return (
            con.execute(
                "SELECT _partition_date, count(*), sum(amount) FROM tx_pos GROUP BY 1 ORDER BY 1"
            ).fetchall(),
            con.execute("SELECT partition_date, status, rows_loaded FROM loads ORDER BY load_id").fetchall(),
        )


def test_sigkill_in_the_middle_of_a_partition_write_leaves_the_warehouse_intact(project, monkeypatch, capsys):
    config, env = project
    assert run_nightly(config, D3, assets=["tx_pos"]).success  # the partition as it was
    before = state(config)
    big_pos_file(config.resolve(Path("files")), D3, BIG_ROWS)
    # The fault point makes the write transaction wait before COMMIT, so the kill lands mid-write.
    proc = materialize({**env, "NIGHTJAR_FAULT_PAUSE_BEFORE_COMMIT": "60"}, D3, start_new_session=True)
    lines = []
    for line in proc.stdout:  # wait until the step has written the partition, uncommitted
        lines.append(line)
        if "pausing before COMMIT" in line:
            break
    assert proc.poll() is None, "".join(lines)  # still inside the transaction
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not any("STEP_SUCCESS" in line for line in lines)
    assert state(config) == before  # the old partition, whole; no half-written load
    # the killed run still holds its slot of the duckdb pool: `nightjar recover` releases it (its
    # entry point in this process: the killed run's process is gone all the same, and no interpreter starts)
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    code = main(["recover"])
    rec = capsys.readouterr()
    assert code == 0 and "1 dead run(s)" in rec.out, rec.out + rec.err
    code, out = finish(materialize(env, D3))
    assert code == 0, out[-3000:]
    rows, loads = state(config)
    assert rows[-1][:2] == (D3, BIG_ROWS)
    assert loads[-1] == (D3, "LOADED", BIG_ROWS)


def test_two_runs_at_once_both_land_and_neither_locks_the_other_out(project):
    config, env = project
    # Dagster's own SQLite run storage must exist before two processes start at once: two first
    # initialisations of a fresh DAGSTER_HOME race in alembic (a Dagster matter, not the warehouse's).
    # What `dagster instance migrate` does, in this process (Dagster is imported already).
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        instance.upgrade()
    first, second = materialize(env, D1), materialize(env, D2)
    (c1, out1), (c2, out2) = finish(first), finish(second)
    assert (c1, c2) == (0, 0), out1[-2000:] + out2[-2000:]
    rows, loads = state(config)
    assert [(d, n) for d, n, _ in rows] == [(D1, 2), (D2, 1)]
    assert sorted(d for d, _, _ in loads) == [D1, D2]


def test_a_full_disk_gives_a_clear_error_and_changes_nothing(project):
    config, env = project
    assert run_nightly(config, D3, assets=["tx_pos"]).success
    before = state(config)
    big_pos_file(config.resolve(Path("files")), D3, BIG_ROWS)
    limit = (
        config.warehouse_path.stat().st_size + 2 * 1024 * 1024
    )  # the "disk" has 2 MB left for the warehouse

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    code, out = finish(materialize(env, D3, preexec_fn=small_disk))
    assert code != 0
    assert "cannot write the warehouse" in out and "disk full" in out, out[-3000:]
    assert "STEP_UP_FOR_RETRY" not in out
    assert state(config) == before


def test_a_damaged_warehouse_is_one_clear_line_for_every_command(tmp_path, capsys):
    config = make_config(tmp_path)
    write_pos(tmp_path / "files", D1, ["O1,C1,S1,P1,1,10.50"])
    config.warehouse_path.write_bytes(os.urandom(5000))  # not a DuckDB file
    project = ["--config", str(tmp_path / "nightjar.yaml")]
    for command in (
        ["upload", str(tmp_path / "files" / "trans_pos_20260101.csv"), "--dataset", "pos"],
        ["export", "results", "--date", "2026-01-01", "--to", str(tmp_path / "out.csv")],
        ["forget", "C1"],
        ["forget", "--compact"],
    ):
        assert main([*command, *project]) == 1, command
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "Traceback" not in err, (command, err)
        assert "is not a DuckDB database" in err and "restore it from a copy" in err, (command, err)
