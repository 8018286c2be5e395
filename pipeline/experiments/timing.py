"""Next best time: each customer's send time among an experiment's declared ``slots``.

A slot covers the times of day from it up to the next slot (the last one wraps round to the first).
A customer's slot is the one covering most of their events of the ``HISTORY_DAYS`` before the
decision date (sql/experiments/activity_hours.sql: events per hour of day); ties go to the earlier
slot; a customer without events gets the slot covering most events of all the candidates. The
decision of day D is sent at D + the slot (``results.send_at``, UTC).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from pipeline.core.sql import bind, sql
from pipeline.core.warehouse import table_exists
from pipeline.experiments.config import ExperimentSpec

HISTORY_DAYS = 28
HOURS = 24


def minutes(slot: str) -> int:
    hours, mins = slot.split(":")
    return int(hours) * 60 + int(mins)


def covering_slot(slots: list[str]) -> np.ndarray:
    """For each hour of the day, the index of the slot covering its middle (hh:30)."""
    starts = np.array([minutes(s) for s in slots])
    order = np.argsort(starts)
    middle = np.arange(HOURS) * 60 + 30
    before = np.searchsorted(starts[order], middle, side="right") - 1  # -1: before the first: the last wraps
    return order[before % len(slots)]


def best_slots(hours: np.ndarray, slots: list[str]) -> np.ndarray:
    """Per customer (a row of events per hour of day, 24 columns) the index of their slot."""
    cover = np.zeros((HOURS, len(slots)))
    cover[np.arange(HOURS), covering_slot(slots)] = 1.0
    per_slot = hours @ cover
    starts = np.array([minutes(s) for s in slots])
    earlier_first = np.argsort(starts, kind="stable")
    everyone = earlier_first[np.argmax(per_slot.sum(axis=0)[earlier_first])]
    own = earlier_first[np.argmax(per_slot[:, earlier_first], axis=1)]
    return np.where(per_slot.sum(axis=1) > 0, own, everyone)


def send_times(con: duckdb.DuckDBPyConnection, exp: ExperimentSpec, day: dt.date) -> pd.DataFrame:
    """customer_id, send_at of tonight's candidates of ``exp`` (an experiment with slots)."""
    if table_exists(con, "events"):
        text = sql("experiments/activity_hours")
        params = {"experiment": exp.name, "day": day, "history_days": HISTORY_DAYS}
        counts = con.execute(text, bind(text, params)).df()
    else:  # no events yet: every candidate without any
        text = sql("experiments/policy_candidates")
        ids = con.execute(text, bind(text, {"experiment": exp.name})).df()["customer_id"].unique()
        counts = pd.DataFrame({"customer_id": ids, "hour": 0, "events": 0})
    customers, row = np.unique(counts["customer_id"].to_numpy(dtype=str), return_inverse=True)
    hours = np.zeros((len(customers), HOURS))
    np.add.at(hours, (row, counts["hour"].to_numpy(dtype=np.int64)), counts["events"].to_numpy(dtype=float))
    slot = best_slots(hours, exp.slots)
    start = pd.Timestamp(day)
    offsets = pd.to_timedelta(np.array([minutes(s) for s in exp.slots])[slot], unit="min")
    return pd.DataFrame({"customer_id": customers, "send_at": start + offsets})
