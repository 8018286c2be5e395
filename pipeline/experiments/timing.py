"""Next best time: each customer's send time among an experiment's declared ``slots``.

A slot covers the times of day from it up to the next slot (the last one wraps round to the first).
A customer's slot is the one covering most of their events of the ``HISTORY_DAYS`` before the
decision date (sql/experiments/activity_hours.sql: events per minute of day); ties go to the earlier
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
MINUTES = 24 * 60


def minutes(slot: str) -> int:
    hours, mins = slot.split(":")
    return int(hours) * 60 + int(mins)


def covering_slot(slots: list[str], minute: np.ndarray | None = None) -> np.ndarray:
    """For each minute of the day (``minute``, 0..1439; default all of them), the index of the slot
    covering it: the last slot starting at or before it (before the first slot: the last, round midnight)."""
    starts = np.array([minutes(s) for s in slots])
    order = np.argsort(starts)
    at = np.arange(MINUTES) if minute is None else np.asarray(minute, dtype=np.int64)
    before = np.searchsorted(starts[order], at, side="right") - 1  # -1: before the first: the last wraps
    return order[before % len(slots)]


def best_slots(per_slot: np.ndarray, slots: list[str]) -> np.ndarray:
    """Per customer (a row of their events per slot, a column each) the index of their slot."""
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
        counts = pd.DataFrame({"customer_id": ids, "minute": 0, "events": 0})
    customers, row = np.unique(counts["customer_id"].to_numpy(dtype=str), return_inverse=True)
    per_slot = np.zeros((len(customers), len(exp.slots)))
    covering = covering_slot(exp.slots, counts["minute"].to_numpy(dtype=np.int64))
    np.add.at(per_slot, (row, covering), counts["events"].to_numpy(dtype=float))
    slot = best_slots(per_slot, exp.slots)
    start = pd.Timestamp(day)
    offsets = pd.to_timedelta(np.array([minutes(s) for s in exp.slots])[slot], unit="min")
    return pd.DataFrame({"customer_id": customers, "send_at": start + offsets})
