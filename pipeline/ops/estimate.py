"""How long a run will take, estimated before its first step from earlier runs of its job.

Dagster records how long each step of a run took (its STEP_SUCCESS event): `earlier_steps` reads
them for the last few finished runs of the job on the instance, with each run's number of days (from its
partition tags). `step_seconds` turns a step's earlier (days, seconds) into its expected time over the
days of this run: proportional to the days when the earlier runs all had the same number of days, else
the least-squares line through them (a fixed part plus a part per day). `time_left` is what the
progress line says: the expected time of the steps not done yet, scaled, once steps have finished, by
how this run's finished steps compare with what was expected of them (damped at first, PRIOR_SHARE).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Collection, Iterable, Mapping, Sequence

import dagster as dg

STEP_SUCCESS = dg.DagsterEventType.STEP_SUCCESS
HISTORY_RUNS = 5  # the last finished runs of the job read for the estimate
# The pace of a run counts as if a tenth of its expected time had already gone at the earlier runs' pace:
# one short first step does not swing the ETA (replayed on the demo's runs: from 0.39-0.5 times the time
# left to 0.78-1.22 after the first step; within 0.7-1.2 from the third step on)
PRIOR_SHARE = 0.1

# one earlier run: its number of days and each successful step's duration in seconds
EarlierRun = tuple[int, dict[str, float]]


def step_seconds(points: Sequence[tuple[int, float]], days: int) -> float:
    """The expected seconds of a step over ``days`` days, from its earlier (days, seconds)."""
    xs = [float(d) for d, _ in points]
    ys = [s for _, s in points]
    if len(set(xs)) == 1:  # one length of run seen: scaled by the days
        return statistics.fmean(ys) * days / xs[0]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    if slope <= 0:  # no longer with more days: its usual time
        return my
    fixed = my - slope * mx
    if fixed < 0:  # a line through the origin instead (no negative fixed part)
        return sum(x * y for x, y in zip(xs, ys, strict=True)) / sum(x * x for x in xs) * days
    return fixed + slope * days


def expected_steps(
    history: Iterable[EarlierRun], steps: Collection[str], days: int
) -> dict[str, float] | None:
    """Each step's expected seconds over ``days`` days; a step no earlier run has (a new asset) is given
    the median of the others. None when no earlier run has any of the steps."""
    points: dict[str, list[tuple[int, float]]] = {}
    for run_days, took in history:
        for step, seconds in took.items():
            if step in steps and run_days > 0:
                points.setdefault(step, []).append((run_days, seconds))
    if not points:
        return None
    known = {step: step_seconds(p, days) for step, p in points.items()}
    unknown = statistics.median(known.values())
    return {step: known.get(step, unknown) for step in steps}


def time_left(
    expected: Mapping[str, float],
    took: Mapping[str, float],
    ended: Collection[str],
    running: str | None = None,
    running_for: float = 0.0,
) -> float:
    """Seconds left: the expected time of the steps not ``ended`` (of the ``running`` one, what remains of
    it), times this run's pace: the time its successful steps ``took`` over what was expected of them,
    both counted with PRIOR_SHARE of the expected total at the earlier pace (1 before any has finished)."""
    prior = PRIOR_SHARE * sum(expected.values())
    spent = prior + sum(took[s] for s in took if s in expected)
    planned = prior + sum(expected[s] for s in took if s in expected)
    pace = spent / planned if planned > 0 else 1.0
    left = sum(seconds for step, seconds in expected.items() if step not in ended and step != running)
    if running is not None and running in expected:
        return left * pace + max(expected[running] * pace - running_for, 0.0)
    return left * pace


def run_days(tags: Mapping[str, str]) -> int | None:
    """The number of days a run covered, from its partition tags (None: not a run of days)."""
    try:
        if first := tags.get("dagster/asset_partition_range_start"):
            last = tags.get("dagster/asset_partition_range_end", first)
            return (dt.date.fromisoformat(last) - dt.date.fromisoformat(first)).days + 1
        if day := tags.get("dagster/partition"):
            dt.date.fromisoformat(day)
            return 1
    except ValueError:  # a partition key that is not a day
        return None
    return None


def earlier_steps(instance: dg.DagsterInstance, job_name: str, limit: int = HISTORY_RUNS) -> list[EarlierRun]:
    """The number of days and the successful steps' durations of the last ``limit`` finished runs of
    ``job_name`` that ran over days."""
    finished = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE]
    runs = instance.get_runs(filters=dg.RunsFilter(job_name=job_name, statuses=finished), limit=limit)
    history: list[EarlierRun] = []
    for run in runs:
        if (days := run_days(run.tags)) is None:
            continue
        took: dict[str, float] = {}
        for record in instance.get_records_for_run(run.run_id, of_type=STEP_SUCCESS).records:
            event = record.event_log_entry.dagster_event
            if event is not None and event.step_key is not None:
                took[event.step_key] = event.step_success_data.duration_ms / 1000
        if took:
            history.append((days, took))
    return history
