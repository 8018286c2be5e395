"""Through Dagster: a single-run backfill of `results` and `conversions` over 4 days decides every
day as 4 nightly runs of the same days do, under a learned policy (the range's later days learn from
its earlier ones). The world is the one of tests/unit/experiments/test_results_range.py in a file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from tests.conftest import run_nightly
from tests.unit.experiments.test_learned_decisions import DAY, learned_config
from tests.unit.experiments.test_results_range import days, rounded, world

ASSETS = ["results", "conversions"]


def file_world(config, path: Path):
    """The world written to the warehouse file ``path``; ``config`` pointed at it."""
    con = world()
    try:
        con.execute("ATTACH $path AS f", {"path": str(path)})
        con.execute("COPY FROM DATABASE memory TO f")
    finally:
        con.close()
    return config.model_copy(update={"warehouse": path})


def decisions(config) -> list[tuple]:
    with duckdb.connect(str(config.warehouse_path), read_only=True) as con:
        return [
            rounded(r) for r in con.execute("SELECT * FROM results ORDER BY date, customer_id").fetchall()
        ]


def test_a_backfill_run_decides_as_the_nightly_runs_of_its_days(tmp_path):
    """Before, the backfill's last 3 days learned nothing of its first ones: 1,461 of their 2,700
    decisions got another arm than the nightly runs gave (the same world without Dagster)."""
    config = learned_config("propensity")
    backfill, nights = (
        file_world(config, tmp_path / "backfill.duckdb"),
        file_world(config, tmp_path / "n.duckdb"),
    )
    assert run_nightly(backfill, DAY, DAY + dt.timedelta(days=3), assets=ASSETS).success
    for night in days(DAY, 4):
        assert run_nightly(nights, night, assets=ASSETS).success
    want = decisions(nights)
    assert len(want) == 4 * 900
    assert decisions(backfill) == want
