"""What the demo's end-to-end tests share: the environment of a run, the world's first day, queries of
the demo's warehouse, and the binomial check of 95 % intervals."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from scipy import stats

from pipeline.core.warehouse import connect


def env_for(dagster_home: Path, config: Path | None = None) -> dict:
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home)}
    if config:
        env["NIGHTJAR_CONFIG"] = str(config)
    return env


def first_day(out: Path) -> dt.date:
    """The world's first day (DAYS days before the day the demo ran)."""
    return dt.date.fromisoformat(json.loads((out / "truth" / "world.json").read_text())["start"])


def q(out: Path, sql: str, params=None):
    with connect(out / "warehouse.duckdb", read_only=True) as con:
        return con.execute(sql, params or {}).fetchall()


def consistent_with_95(covered: list[bool]) -> bool:
    """The count of intervals missing the truth is not improbable for 95 % intervals (one-sided
    binomial test at 0.001: at most 2 misses of 5)."""
    return float(stats.binom.sf(covered.count(False) - 1, len(covered), 0.05)) > 0.001
