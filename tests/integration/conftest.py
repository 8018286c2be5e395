"""Fixtures for integration tests: a real PostgreSQL server and a small demo world."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from pipeline import postgres_server
from pipeline.cli import write_demo_config
from pipeline.demo import generate_world
from tests.integration.dagster_procs import world_dir

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
    con = psycopg2.connect(host=postgres["DAGSTER_PG_HOST"], port=postgres["DAGSTER_PG_PORT"], user="postgres",
                           dbname="postgres")
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
