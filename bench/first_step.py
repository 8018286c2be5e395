"""How long a long single-run backfill takes to start its first step, on SQLite and PostgreSQL storage.

``python -m bench.first_step --days 546 --storage sqlite postgres`` generates a small demo world of
DAYS days (bench/out/first_step/, git-ignored), then for each storage starts `nightjar backfill` over
every day in a child process with a fresh Dagster home and stops it as soon as its first step starts.
It prints the seconds from the command's start to that step (wall and the process's CPU time: on a
busy machine the CPU time is the better guide to an idle one) and the planned-materialization events
written; ``--per-day-events`` measures Dagster's default (one planned event per asset and day) instead
of ours (one per asset for the range).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out" / "first_step"
START = dt.date(2025, 1, 1)


def world(days: int, customers: int) -> Path:
    from pipeline.cli import write_demo_config
    from pipeline.demo import generate_world

    folder = OUT / f"world_{days}d_{customers}c"
    if not (folder / "nightjar.yaml").exists():
        generate_world(folder, customers=customers, days=days, start=START, seed=3)
        write_demo_config(folder, START)
    return folder


def child(config_path: str, days: int, per_day_events: bool) -> None:
    """In the child: the backfill until its first step starts; then report and leave at once."""
    started = time.monotonic()
    import dagster as dg

    from pipeline.cli import run_backfill
    from pipeline.config import load_config
    from pipeline.ops import backfill

    if per_day_events:  # Dagster's default: range_settings() leaves the planned events alone
        backfill.RANGE_SETTINGS.pop(backfill.PLANNED_PER_RANGE)

    def on_event(entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        if event is not None and event.event_type == dg.DagsterEventType.STEP_START:
            seconds = time.monotonic() - started
            usage = resource.getrusage(resource.RUSAGE_SELF)
            planned = dg.DagsterInstance.get().get_records_for_run(
                entry.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED, limit=100_000
            )
            print(
                json.dumps(
                    {
                        "seconds": round(seconds, 1),
                        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
                        "planned_events": len(planned.records),
                    }
                ),
                flush=True,
            )
            os._exit(0)

    original = dg.DagsterInstance.add_event_listener

    def add_listener(self: dg.DagsterInstance, run_id: str, cb: object) -> None:
        original(self, run_id, cb)
        original(self, run_id, on_event)

    dg.DagsterInstance.add_event_listener = add_listener  # type: ignore[method-assign]
    config = load_config(config_path)
    run_backfill(config, START, START + dt.timedelta(days=days - 1))


def measure(folder: Path, storage: str, days: int, per_day_events: bool) -> dict:
    home = OUT / f"home_{storage}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    instance_yaml = (ROOT / "dagster.yaml").read_text()
    pg_dir = OUT / "postgres"
    if storage == "postgres":
        from pipeline.ops.postgres_server import free_port, start

        shutil.rmtree(pg_dir, ignore_errors=True)
        env.update(start(pg_dir, free_port()))
        instance_yaml += "\n" + (ROOT / "pipeline/ops/dagster_postgres.yaml").read_text()
    (home / "dagster.yaml").write_text(instance_yaml)
    for stale in folder.glob("warehouse.duckdb*"):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    try:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.first_step",
                "--child",
                str(folder / "nightjar.yaml"),
                "--days",
                str(days),
            ]
            + (["--per-day-events"] if per_day_events else []),
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        if storage == "postgres":
            from pipeline.ops.postgres_server import stop

            stop(pg_dir)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"no first step ({storage}):\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
    return {"storage": storage, "days": days, "per_day_events": per_day_events, **json.loads(lines[-1])}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="bench.first_step")
    p.add_argument("--days", type=int, default=546)
    p.add_argument("--customers", type=int, default=40)
    p.add_argument("--storage", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    p.add_argument("--per-day-events", action="store_true", help="Dagster's default planning, for comparison")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(args.child, args.days, args.per_day_events)
        return 1  # the child leaves at its first step
    folder = world(args.days, args.customers)
    for storage in args.storage:
        print(json.dumps(measure(folder, storage, args.days, args.per_day_events)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
