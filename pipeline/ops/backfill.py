"""A range of days as ONE run of the nightly job (single-run backfill), on the Dagster instance of
$DAGSTER_HOME so the run shows in the UI.

Planning writes one planned-materialization event per asset for the whole range, not one per asset
and day (Dagster's `DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS`): with one event per asset and
day, a 546-day run of ~22 assets wrote 12,000 events, one SQLite commit each, before its first step
(bench/RESULTS.md "First step of a long backfill"). The price, in Dagster's words: a failed run does
not mark its partitions failed in the UI. So a failed run is marked by us: it gets the tag
`nightjar/failed_steps`, and the command prints the failed steps and the range to run again.
At the end of each step Dagster writes one materialization event per asset and day; with
`DAGSTER_EVENT_BATCH_SIZE` set, PostgreSQL storage writes each step's events in one insert (SQLite
storage still writes them one by one).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import dagster as dg

from pipeline.core.partitions import backwards
from pipeline.ops.estimate import earlier_steps, expected_steps
from pipeline.ops.progress import Progress, Ticker, printer
from pipeline.ops.recover import HOST_TAG, free_dead_runs, wake_stranded

if TYPE_CHECKING:
    from dagster_shared.error import SerializableErrorInfo

PLANNED_PER_RANGE = "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"
EVENT_BATCH_SIZE = "DAGSTER_EVENT_BATCH_SIZE"
# Dagster's settings for a range run (see the module); a value the user set is kept
RANGE_SETTINGS = {PLANNED_PER_RANGE: "true", EVENT_BATCH_SIZE: "1000"}
FAILED_STEPS_TAG = "nightjar/failed_steps"


def instance() -> dg.DagsterInstance:
    """The Dagster instance of $DAGSTER_HOME (so runs show in the UI), else a temporary one."""
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    print("note: DAGSTER_HOME is not set; the run is not kept for the UI (the Makefile sets it)")
    return dg.DagsterInstance.ephemeral()


def check_range(start_date: dt.date, first: dt.date, last: dt.date) -> str | None:
    """Why first..last is not a range of partitions (start_date .. yesterday, UTC), or None."""
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    if problem := backwards(first, last):
        return problem
    if first < start_date:
        return f"{first} is before the config's start_date {start_date}"
    if last > yesterday:
        return f"{last} is not a partition yet: the last complete day is {yesterday} (UTC)"
    return None


@contextmanager
def range_settings() -> Iterator[None]:
    """Within: one planned-materialization event per asset for a partition range, and events written
    in batches (see the module); the environment as it was afterwards."""
    before = {name: os.environ.get(name) for name in RANGE_SETTINGS}
    for name, value in RANGE_SETTINGS.items():
        os.environ.setdefault(name, value)
    try:
        yield
    finally:
        for name, kept in before.items():
            if kept is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = kept


def range_tags(first: dt.date, last: dt.date) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": last.isoformat(),
        "nightjar/backfill": f"{first}..{last}",
        HOST_TAG: socket.gethostname(),  # which machine's processes it runs in (pipeline/ops/recover.py)
    }


# Errors whose message is written for the user: said without their class's module path (Dagster's
# Failure with its full module path, "pipeline.core.warehouse.WarehouseLocked: ...")
USER_ERRORS = {"Failure", "WarehouseError", "WarehouseLocked", "ConfigError"}


def root_message(error: SerializableErrorInfo | None) -> str:
    """The message of the error that caused it all (not Dagster's "Error occurred while executing")."""
    if error is None:
        return "(no error recorded)"
    while error.cause is not None:
        error = error.cause
    message = error.message.strip()
    head, sep, rest = message.partition(": ")
    if error.cls_name in USER_ERRORS and sep and head.rsplit(".", 1)[-1] == error.cls_name:
        return rest.strip()
    return message


def run_range(
    job: dg.JobDefinition,
    first: dt.date,
    last: dt.date,
    steps: dict[str, float] | None = None,
    verbose: bool = False,
    progress: Progress | None = None,
    dagster_instance: dg.DagsterInstance | None = None,
) -> bool:
    """Run ``job`` for the days first..last as one run, printing its progress (and, with ``verbose``,
    Dagster's own log lines) with its time left, from the start estimated from earlier runs of the job
    on the instance (pipeline/ops/estimate.py); print each failed step. ``steps``, when given, receives
    each successful step's duration in seconds (the benchmark's breakdown)."""
    progress = progress or Progress(days=(last - first).days + 1, print_line=printer())
    run_id = str(uuid.uuid4())
    inst = dagster_instance or instance()
    free_dead_runs(inst, progress.say)
    progress.echo_logs = not verbose  # with -v, Dagster prints them itself
    inst.add_event_listener(run_id, progress.on_event)
    history = earlier_steps(inst, job.name)
    progress.expected = expected_steps(history, list(job.graph.node_dict), progress.days)
    left = progress.time_left() or "no earlier run of the job to estimate from, ETA after the first step"
    progress.say(
        f"[progress] planning one run of {progress.days} day(s), {first}..{last} (run {run_id[:8]}), {left}"
    )
    with range_settings(), Ticker(progress, tend=lambda: wake_stranded(inst)):
        per_range = os.environ.get(PLANNED_PER_RANGE, "").lower() == "true"  # unless the user said no
        result = job.execute_in_process(
            instance=inst,
            run_id=run_id,
            tags=range_tags(first, last),
            run_config={"loggers": {"console": {"config": {"log_level": "INFO" if verbose else "CRITICAL"}}}},
            raise_on_error=False,
        )
    if steps is not None:
        steps.update(
            {
                e.step_key: e.step_success_data.duration_ms / 1000
                for e in result.all_events
                if e.is_step_success and e.step_key is not None
            }
        )
    progress.say()
    if not result.success:
        failed = [e for e in result.all_events if e.is_step_failure]
        for event in failed:
            print(f"FAILED {event.step_key}: {root_message(event.step_failure_data.error)}", file=sys.stderr)
        names = ",".join(e.step_key or "?" for e in failed) or "(the run itself)"
        inst.add_run_tags(run_id, {FAILED_STEPS_TAG: names})
        unmarked = (
            f"its days {first}..{last} are not marked failed in the UI's partition view "
            "(one planned event per range); "
            if per_range
            else ""
        )
        print(
            f"the run failed: {unmarked}run `nightjar backfill --from {first} --to {last}` again",
            file=sys.stderr,
        )
    return result.success
