"""When a model trains: the retraining cadence (``retrain_every_days``) as one pure function.

The product asks for a score from the current version of each model every night, not for a new version
every night. A version (one per model and day) is never trained twice: once its training ended
(FINISHED, REJECTED, or RETIRED since) a re-run of its day keeps it as it is, its files, record and the
scores that name it, whatever changed since (a late file, an edited config: the next version has them).
Otherwise a night trains a new version of a model when:

* the run is a range (a backfill trains its last day, as always);
* the model has no FINISHED version on or before the day yet (a first training, or only failed or
  rejected ones);
* the day is a training day of the config's grid: ``start_date + k × retrain_every_days``
  (with a weekly cadence, the weekday of ``start_date``), so trainings happen on predictable days;
* or the current version is ``retrain_every_days`` or more days old (catch-up after a failed or
  skipped training day, or a first version trained off the grid).

Otherwise the night keeps the current version (the latest FINISHED one on or before the day), which
the ``predictions`` asset scores with.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Cadence:
    train: bool
    reason: str
    current: dt.date | None  # the latest FINISHED version on or before the day (None: none yet)
    next_due: dt.date | None  # the next day that trains if this one keeps the current version


def next_grid_day(day: dt.date, start: dt.date, every_days: int) -> dt.date:
    """The first training day of the grid (start + k × every_days) strictly after ``day``."""
    if day < start:
        return start
    return day + dt.timedelta(days=every_days - (day - start).days % every_days)


def training_due(
    day: dt.date,
    every_days: int,
    start: dt.date,
    current: dt.date | None,
    is_range: bool = False,
    trained: str | None = None,
) -> Cadence:
    """Whether the model partition of ``day`` trains a new version (see the module's rules).
    ``trained``: the status of the day's own version when its training ended (FINISHED, REJECTED or
    RETIRED), else None."""
    if every_days < 1:
        raise ValueError(f"retrain_every_days must be at least 1, not {every_days}")
    if trained is not None:
        due = day + dt.timedelta(days=1)
        if current is not None:
            due = max(
                due, min(next_grid_day(day, start, every_days), current + dt.timedelta(days=every_days))
            )
        return Cadence(
            False,
            f"version {day} is already trained ({trained}): a trained version is never replaced, so the "
            f"scores that name it stay reproducible; what changed since goes into the next version "
            f"(due on {due})",
            current,
            due,
        )
    if is_range:
        return Cadence(True, "a range (backfill) trains its last day", current, None)
    if current is None:
        return Cadence(True, "no FINISHED version yet", None, None)
    age = (day - current).days
    if day >= start and (day - start).days % every_days == 0 and age > 0:
        return Cadence(
            True, f"a training day ({every_days}-day cadence from start_date {start})", current, None
        )
    if age >= every_days:
        return Cadence(
            True,
            f"the current version {current} is {age} day(s) old (retrain_every_days: {every_days})",
            current,
            None,
        )
    due = min(next_grid_day(day, start, every_days), current + dt.timedelta(days=every_days))
    return Cadence(
        False,
        f"the current version {current} is {age} day(s) old; the next training is due on {due} "
        f"(retrain_every_days: {every_days})",
        current,
        due,
    )
