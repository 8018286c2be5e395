"""Servers shared by the integration tests (started once per session on 127.0.0.1): the BigQuery
emulator, a real PostgreSQL server, and a small demo world."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pipeline.cli import write_demo_config
from pipeline.demo import generate_world
from pipeline.ops import postgres_server
from pipeline.ops.postgres_server import free_port
from tests.integration.dagster_procs import world_dir
from tests.side_venvs import uv_command

ROOT = Path(__file__).resolve().parents[2]
BQ_VENV = ROOT / ".cache" / "bqemulator"
BQ_PACKAGES = ["bqemulator==1.4.0", "duckdb==1.5.6", "numpy"]  # its own DuckDB, apart from ours


def ensure_bqemulator_venv() -> Path:
    """The emulator's own virtualenv (made once; `make bqemulator` does the same): uv if there is
    one, else the standard library's venv and pip."""
    python = BQ_VENV / "bin" / "python"
    if not (BQ_VENV / ".installed").exists():
        base = getattr(sys, "_base_executable", sys.executable)
        uv = uv_command()
        steps = (
            [
                [*uv, "venv", "-q", "--clear", "--python", base, str(BQ_VENV)],
                [*uv, "pip", "install", "-q", "--python", str(python), *BQ_PACKAGES],
            ]
            if uv
            else [
                [base, "-m", "venv", "--clear", str(BQ_VENV)],
                [str(python), "-m", "pip", "install", "-q", *BQ_PACKAGES],
            ]
        )
        for step in steps:
            run = subprocess.run(step, capture_output=True, text=True)
            if run.returncode != 0:
                raise RuntimeError(
                    f"cannot build the bqemulator virtualenv in {BQ_VENV} ({' '.join(step[:4])} ...): "
                    f"{run.stderr[-2000:]}"
                )
        (BQ_VENV / ".installed").write_text(" ".join(BQ_PACKAGES))
    return python


@pytest.fixture(scope="session")
def bigquery_emulator(tmp_path_factory):
    """bqemulator (DuckDB-backed BigQuery REST API) on a free port; yields its URL."""
    python = ensure_bqemulator_venv()
    port = free_port()
    log = tmp_path_factory.mktemp("bqemulator") / "emulator.log"
    env = {**os.environ, "BQEMU_ENABLE_FORMAT_EXTENSIONS": "false", "BQEMU_LOG_LEVEL": "warning"}
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                str(python),
                str(Path(__file__).parent / "bqemulator_launch.py"),
                "start",
                "--rest-port",
                str(port),
                "--grpc-port",
                "0",
                "--project",
                "nightjar-test",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/bigquery/v2/projects/nightjar-test/datasets", timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError(f"bqemulator did not start: {log.read_text()[-2000:]}") from None
            time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


START = dt.date(2026, 1, 1)
DAYS = 3


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server (Debian's binaries, as the `postgres` user) on a free loopback port."""
    folder = world_dir("nightjar-pg-")
    data = folder / "data"
    env = postgres_server.start(data, postgres_server.free_port())
    yield env
    postgres_server.stop(data)
    shutil.rmtree(folder, ignore_errors=True)


def fresh_database(postgres: dict, name: str) -> dict:
    """A new empty database ``name`` on the server: the DAGSTER_PG_* variables that point at it."""
    import psycopg2

    name = "t_" + re.sub(r"\W", "_", name.lower())[:50]
    con = psycopg2.connect(
        host=postgres["DAGSTER_PG_HOST"], port=postgres["DAGSTER_PG_PORT"], user="postgres", dbname="postgres"
    )
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
    con.close()
    return {**postgres, "DAGSTER_PG_DB": name}


@pytest.fixture
def pg(postgres, request) -> dict:
    """A fresh database of the session's server, for one test."""
    return fresh_database(postgres, request.node.name)


def small_world(folder: Path, customers: int = 300, days: int = DAYS) -> Path:
    """A demo world (files + config) of ``days`` days from START in ``folder``; returns the config path."""
    generate_world(folder, customers=customers, days=days, start=START, seed=11)
    return write_demo_config(folder, START)


@pytest.fixture
def world(tmp_path: Path) -> Path:
    return small_world(tmp_path / "world")
