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
* or the latest version trained is ``retrain_every_days`` or more days old (catch-up after a failed
  or skipped training day, or a first version trained off the grid): the current version, or a later
  one REJECTED by the champion / challenger comparison. A rejected challenger is a training like any
  other: the next is due on the cadence, not the next night (a challenger trained again every night
  until one is promoted would meet the champion's comparison, noisy on a small test split, as often
  as it takes to pass it once).

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
    rejected: dt.date | None = None,
) -> Cadence:
    """Whether the model partition of ``day`` trains a new version (see the module's rules).
    ``trained``: the status of the day's own version when its training ended (FINISHED, REJECTED or
    RETIRED), else None; ``rejected``: the latest REJECTED version on or before ``day`` (None: none)."""
    if every_days < 1:
        raise ValueError(f"retrain_every_days must be at least 1, not {every_days}")
    # the latest training that ended with a version kept or rejected: the cadence counts from it
    latest = max((d for d in (current, rejected) if d is not None and current is not None), default=None)
    if trained is not None:
        due = day + dt.timedelta(days=1)
        if latest is not None:
            due = max(due, min(next_grid_day(day, start, every_days), latest + dt.timedelta(days=every_days)))
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
    assert latest is not None
    age = (day - latest).days
    if day >= start and (day - start).days % every_days == 0 and age > 0:
        return Cadence(
            True, f"a training day ({every_days}-day cadence from start_date {start})", current, None
        )
    which = f"the current version {current}" if latest == current else f"the REJECTED version {latest}"
    if age >= every_days:
        return Cadence(True, f"{which} is {age} day(s) old (retrain_every_days: {every_days})", current, None)
    due = min(next_grid_day(day, start, every_days), latest + dt.timedelta(days=every_days))
    return Cadence(
        False,
        f"{which} is {age} day(s) old; the next training is due on {due} (retrain_every_days: {every_days})"
        + (f"; the current version {current} scores" if latest != current else ""),
        current,
        due,
    )
