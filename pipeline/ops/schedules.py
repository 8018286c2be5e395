"""Schedules: the nightly run of the whole graph for yesterday's partition."""

from __future__ import annotations

import dagster as dg


def build_nightly_schedule(job: dg.UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    """Every night at 02:00 UTC, run ``job`` for the last complete day."""
    schedule = dg.build_schedule_from_partitioned_job(
        job,
        hour_of_day=2,
        minute_of_hour=0,
        name="nightly_schedule",
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )
    # For an unresolved job Dagster returns an unresolved schedule, whose class it does not export;
    # Definitions turns it into this ScheduleDefinition when it resolves the job.
    return schedule  # type: ignore[return-value]
