"""The customer features policy_evaluation reads, kept between nights.

The evaluation learns from the features of the experiment's model at its first logged date: a past
cut-off, so the same frame every night unless something it read changed. The frame is kept in the
warehouse (one table per model and cut-off, ``policy_features__<model>__<yyyymmdd>``, listed in
``policy_feature_frames`` with the fingerprint it was computed with) and read back while the
fingerprint of its inputs is the same (sql/experiments/policy_features_fingerprint.sql: the customers
first seen before the cut-off, the events the features read, the excluded customers; with the
model's spec and this module's FRAME_VERSION). A late file, a forget, a retention run or a changed
customer changes the fingerprint, and the frame is computed again. The tables have a ``customer_id``
column (registered for forget); a frame no experiment reads any more is dropped.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import duckdb
import pandas as pd

from pipeline.core.catalog import register_customer_table
from pipeline.core.sql import bind, sql
from pipeline.core.warehouse import scalar, table_exists
from pipeline.models.config import ModelSpec
from pipeline.models.features import customer_features

FRAME_VERSION = "1"  # raise when the features' code changes what a frame holds
INPUTS = ("customers", "events", "customer_identities")


def frame_name(model: str, cutoff: dt.date) -> str:
    return f"policy_features__{model}__{cutoff:%Y%m%d}"


def fingerprint(con: duckdb.DuckDBPyConnection, spec: ModelSpec, cutoff: dt.date) -> str | None:
    """What the features of ``spec`` at ``cutoff`` read, as one text; None when the warehouse lacks an
    input table (the features are then computed every time)."""
    if not all(table_exists(con, t) for t in INPUTS):
        return None
    q = sql("experiments/policy_features_fingerprint")
    inputs = scalar(con, q, bind(q, {"cutoff": cutoff, "history_days": spec.history_days}))
    settings = hashlib.blake2b(spec.model_dump_json().encode(), digest_size=8).hexdigest()
    return f"{FRAME_VERSION}:{settings}:{inputs}"


def _kept(con: duckdb.DuckDBPyConnection, name: str, wanted: str) -> pd.DataFrame | None:
    q = sql("experiments/policy_feature_frame_fingerprint")
    if scalar(con, q, bind(q, {"frame": name})) != wanted or not table_exists(con, name):
        return None
    return con.execute(sql("experiments/read_policy_feature_frame", idents={"frame": name})).df()


def _keep(
    con: duckdb.DuckDBPyConnection, spec: ModelSpec, cutoff: dt.date, name: str, fp: str, frame
) -> None:
    rows = frame.rename_axis("customer_id").reset_index().assign(_row=range(len(frame)))
    q = sql("experiments/write_policy_feature_frame", idents={"frame": name})
    con.register("_policy_frame", rows)
    try:
        con.execute(q, bind(q, {"frame": name, "model": spec.name, "cutoff": cutoff, "fingerprint": fp}))
    finally:
        con.unregister("_policy_frame")
    register_customer_table(con, name, "customer_id", "customer_id")


def as_kept(stored: pd.DataFrame) -> pd.DataFrame:
    """A frame read back as customer_features returns it (customer_id the index; txt_* categoricals
    unordered, as DuckDB reads its ENUMs back ordered)."""
    frame = stored.set_index("customer_id")
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].cat.as_unordered()
    return frame


def policy_features(con: duckdb.DuckDBPyConnection, spec: ModelSpec, cutoff: dt.date) -> pd.DataFrame:
    """customer_features(con, spec, cutoff), from the kept frame when nothing it read has changed."""
    fp = fingerprint(con, spec, cutoff)
    writable = not scalar(con, sql("experiments/read_only"))  # read-only (a report): kept frames only read
    if fp is None or not (writable or table_exists(con, "policy_feature_frames")):
        return customer_features(con, spec, cutoff)
    if writable:
        con.execute(sql("experiments/create_policy_feature_frames"))
    name = frame_name(spec.name, cutoff)
    stored = _kept(con, name, fp)
    if stored is not None:
        return as_kept(stored)
    frame = customer_features(con, spec, cutoff)
    if writable:
        _keep(con, spec, cutoff, name, fp, frame)
    return frame


def drop_unused(con: duckdb.DuckDBPyConnection, used: set[tuple[str, dt.date]]) -> None:
    """Drop the kept frames of (model, cut-off) pairs no experiment read in this evaluation."""
    con.execute(sql("experiments/create_policy_feature_frames"))
    keep = {frame_name(m, c) for m, c in used}
    for (name,) in con.execute(sql("experiments/kept_policy_feature_frames")).fetchall():
        if name not in keep:
            q = sql("experiments/drop_policy_feature_frame", idents={"frame": name})
            con.execute(q, bind(q, {"frame": name}))
