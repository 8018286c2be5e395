"""Nightly scoring with the latest FINISHED version of each model, and one customer's explanation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.core.sql import bind, sql
from pipeline.core.warehouse import scalar, table_exists, transaction
from pipeline.models import calibrate, drift, store
from pipeline.models.config import ModelsConfig, ModelSpec
from pipeline.models.features import build_population, model_input
from pipeline.models.predict import align, scoring_features
from pipeline.models.types import model_type

PREDICTIONS = "predictions"


class NoModelVersion(LookupError):
    """A model without a FINISHED version (on or before the day asked for)."""


def latest_finished(con: duckdb.DuckDBPyConnection, model: str, day: dt.date) -> dt.date | None:
    if not table_exists(con, "model_trainings"):
        return None
    q = sql("models/latest_finished")
    return scalar(con, q, bind(q, {"model": model, "day": day}))


def latest_rejected(con: duckdb.DuckDBPyConnection, model: str, day: dt.date) -> dt.date | None:
    """The latest version on or before ``day`` that the champion / challenger comparison REJECTED."""
    if not table_exists(con, "model_trainings"):
        return None
    q = sql("models/latest_rejected")
    return scalar(con, q, bind(q, {"model": model, "day": day}))


def status_of(con: duckdb.DuckDBPyConnection, model: str, version: dt.date) -> str | None:
    """One version's status in model_trainings (None: no such version)."""
    if not table_exists(con, "model_trainings"):
        return None
    q = sql("models/status_of")
    return scalar(con, q, bind(q, {"model": model, "version": version}))


def score(
    con: duckdb.DuckDBPyConnection,
    config: ModelsConfig,
    spec: ModelSpec,
    day: dt.date,
    store_dir: Path,
    cache: dict | None = None,
) -> tuple[dt.date, pd.DataFrame]:
    """(version, predictions rows of ``day``) for one model: every active customer (known on or before
        the day, not excluded), features including the day's events. ``cache`` (a dict kept over the models
        of one day) shares the customer features between models with the same windows. A version's cells
    scored on an earlier night (store.load_cells) are not predicted again; tonight's replace them."""
    version = latest_finished(con, spec.name, day)
    if version is None:
        raise NoModelVersion(f"model {spec.name!r} has no FINISHED version on or before {day}")
    kind = model_type(spec.type)
    booster, meta = store.load_version(store_dir, spec.name, version, kind.boosted)
    if booster is not None:
        meta = store.load_compiled(store_dir, spec.name, version, booster, meta)
    spec = store.as_trained(spec, meta)  # its features as it was trained, whatever the config says now
    cutoff = day + dt.timedelta(days=1)
    memo = store.load_cells(store_dir, spec.name, version) if kind.boosted else None
    rows = kind.score(con, config, spec, cutoff, booster, meta, cache, memo)
    if memo is not None and len(memo.keys):
        store.save_cells(store_dir, spec.name, version, memo)
    return version, rows.assign(date=day, model=spec.name, version=version)


def night_drift(
    con: duckdb.DuckDBPyConnection,
    spec: ModelSpec,
    day: dt.date,
    version: dt.date,
    frame: pd.DataFrame,
    store_dir: Path,
    cache: dict | None = None,
) -> pd.DataFrame | None:
    """(column, psi) of the score and the top features of the night's customers (``frame``: the
    model's predictions rows of ``day``) against the version's training population, worst first; None
    for a version without reference bins (not a response/churn model, or trained before drift checks)."""
    _, meta = store.load_version(store_dir, spec.name, version, boosted=False)
    if not meta.get("drift"):
        return None
    spec = store.as_trained(spec, meta)
    cutoff = day + dt.timedelta(days=1)
    if spec.population:  # a model trained on a segment is compared on the segment's customers
        build_population(con, cutoff, spec=spec)
        frame = frame[
            frame["customer_id"].isin(con.sql("SELECT customer_id FROM _population").df()["customer_id"])
        ]
    # the features as the version scored them: one with no cell tonight (a feed that stopped) is 0 or
    # missing, as the model read it, not left out of the check
    X = align(scoring_features(con, spec, cutoff, cache), meta["features"]).reindex(frame["customer_id"])
    return drift.measure(meta["drift"], X, frame["score"].to_numpy())


def write_predictions(con: duckdb.DuckDBPyConnection, day: dt.date, frames: list[pd.DataFrame]) -> int:
    """Replace the day's predictions and customer lifetime values (every model) in one transaction;
    returns the predictions rows written. A clv model's frame (with a ``clv`` column) fills both."""
    with transaction(con):
        for table in ("predictions", "clv"):
            q = sql(f"models/{table}/delete_day")
            con.execute(q, bind(q, {"day": day}))
        for frame in frames:
            con.register("_rows", pa.Table.from_pandas(frame, preserve_index=False))  # not Python objects
            con.execute(sql("models/predictions/insert"))
            if "clv" in frame.columns:
                con.execute(sql("models/clv/insert"))
            con.unregister("_rows")
    return sum(len(f) for f in frames)


@dataclass
class Explanation:
    model: str
    version: dt.date
    customer_id: str
    as_of: dt.date
    base_value: float
    contributions: pd.DataFrame  # feature, value, shap (sorted by |shap|)
    raw_score: float
    score: float  # the calibrated probability of the raw score (as predictions has it)
    item: str | None = None


def explain(
    con: duckdb.DuckDBPyConnection,
    config: ModelsConfig,
    spec: ModelSpec,
    customer: str,
    store_dir: Path,
    day: dt.date | None = None,
) -> Explanation:
    """The waterfall of one customer: base value + each feature's SHAP value = the raw score (log-odds).

    ``day`` defaults to the last day with events; the version is the latest FINISHED one on or before it.
    For a recommender the explanation is of the customer's top item.
    """
    day = day or scalar(con, "SELECT max(_partition_date) FROM events")
    version = latest_finished(con, spec.name, day)
    if version is None:
        raise NoModelVersion(
            f"model {spec.name!r} has no FINISHED version on or before {day}: train it first"
        )
    kind = model_type(spec.type)
    if not kind.boosted:
        kind.explain_frame(con, config, spec, day, [], customer)  # says why there is none
    booster, meta = store.load(store_dir, spec.name, version)
    spec = store.as_trained(spec, meta)
    cutoff = day + dt.timedelta(days=1)
    X, cands = kind.explain_frame(con, config, spec, cutoff, meta["features"], customer)
    if not len(X):
        raise LookupError(
            f"customer {customer!r} is not an active customer on {day} (unknown, excluded or newer)"
        )
    item = None
    if cands is not None:
        best = int(
            np.argmax(
                booster.predict(model_input(X, booster), num_iteration=meta.get("best_iteration") or None)
            )
        )
        X, item = X.iloc[[best]], cands["item"].iloc[best]
    seen = model_input(X, booster)
    contrib = booster.predict(seen, pred_contrib=True, num_iteration=meta.get("best_iteration") or None)[0]
    raw = float(booster.predict(seen, raw_score=True, num_iteration=meta.get("best_iteration") or None)[0])
    values = X.iloc[0]
    table = pd.DataFrame(
        {"feature": meta["features"], "value": [values[f] for f in meta["features"]], "shap": contrib[:-1]}
    )
    table = table.iloc[np.argsort(-np.abs(table["shap"].to_numpy()), kind="stable")].reset_index(drop=True)
    calibrated = calibrate.apply(meta.get("calibrator"), np.array([1 / (1 + np.exp(-raw))]))
    return Explanation(
        spec.name, version, customer, day, float(contrib[-1]), table, raw, float(calibrated[0]), item
    )
