"""A range of days as ONE run of the nightly job (single-run backfill), on the Dagster instance of
$DAGSTER_HOME so the run shows in the UI."""

from __future__ import annotations

import datetime as dt
import os
import sys

import dagster as dg


def instance() -> dg.DagsterInstance:
    """The Dagster instance of $DAGSTER_HOME (so runs show in the UI), else a temporary one."""
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    print("note: DAGSTER_HOME is not set; the run is not kept for the UI (the Makefile sets it)")
    return dg.DagsterInstance.ephemeral()


def check_range(start_date: dt.date, first: dt.date, last: dt.date) -> str | None:
    """Why first..last is not a range of partitions (start_date .. yesterday, UTC), or None."""
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    if last < first:
        return f"the range ends ({last}) before it starts ({first})"
    if first < start_date:
        return f"{first} is before the config's start_date {start_date}"
    if last > yesterday:
        return f"{last} is not a partition yet: the last complete day is {yesterday} (UTC)"
    return None


def run_range(
    job: dg.JobDefinition, first: dt.date, last: dt.date, steps: dict[str, float] | None = None
) -> bool:
    """Run ``job`` for the days first..last as one run; print each failed step. ``steps``, when given,
    receives each successful step's duration in seconds (the benchmark's breakdown)."""
    result = job.execute_in_process(
        instance=instance(),
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
            "nightjar/backfill": f"{first}..{last}",
        },
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
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
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                error = event.step_failure_data.error
                message = error.message.strip() if error else "(no error recorded)"
                print(f"FAILED {event.step_key}: {message}", file=sys.stderr)
    return result.success
