"""Nightly scoring with the latest FINISHED version of each model, and one customer's explanation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipeline.core.sql import bind, sql
from pipeline.core.warehouse import scalar, table_exists, transaction
from pipeline.models import recommend, store
from pipeline.models.config import ModelsConfig, ModelSpec
from pipeline.models.features import ZERO_WHEN_MISSING, customer_features, excluded, feature_frame

PREDICTIONS = "predictions"


class NoModelVersion(LookupError):
    """A model without a FINISHED version (on or before the day asked for)."""


def latest_finished(con: duckdb.DuckDBPyConnection, model: str, day: dt.date) -> dt.date | None:
    if not table_exists(con, "model_trainings"):
        return None
    q = sql("models/latest_finished")
    return scalar(con, q, bind(q, {"model": model, "day": day}))


def align(X: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The model's columns in the model's order: a column the data lacks is 0 (counts, values, attr_*
    indicators) or unknown (NaN; an empty category for txt_*)."""
    out = X.reindex(columns=features)
    for column in features:
        if column not in X.columns:
            if column.startswith("txt_"):
                out[column] = pd.Series(pd.Categorical([None] * len(out)), index=out.index)
            elif column.startswith(ZERO_WHEN_MISSING):
                out[column] = 0.0
    return out


def _model_frame(
    con, config: ModelsConfig, spec: ModelSpec, cutoff: dt.date, features: list[str], only: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(features in the model's order, the recommender's candidates or None) as of ``cutoff``."""
    if spec.type == "recommender":
        cands = recommend.candidates(con, config, spec, cutoff, only)
        return cands[features].astype(float), cands
    return align(customer_features(con, spec, cutoff, only=only, scoring=True), features), None


PREDICT_THREADS = 0  # scoring is per row, so every core gives the same scores (training keeps one thread)


def _predict(booster, X, meta: dict) -> np.ndarray:
    if not len(X):
        return np.zeros(0)
    return booster.predict(X, num_iteration=meta.get("best_iteration") or None, num_threads=PREDICT_THREADS)


def predict_distinct(booster, X: np.ndarray, meta: dict) -> np.ndarray:
    """_predict on the distinct rows of X only, spread back to every row: the same scores (a row's score
    depends on its values alone), fewer trees walked when rows repeat (a recommender's candidates: the
    same item for customers with the same history). Rows are grouped by a hash of their bits, then
    checked bit for bit against their group's representative; any collision falls back to every row."""
    if len(X) < 2:
        return _predict(booster, X, meta)
    bits = np.ascontiguousarray(X, dtype=np.float64).view(np.uint64)
    h = np.zeros(len(bits), dtype=np.uint64)
    for j in range(bits.shape[1]):  # over the columns (a handful), vectorised over the rows
        h = (h * np.uint64(0x100000001B3)) ^ bits[:, j] ^ (bits[:, j] >> np.uint64(29))
    codes, uniques = pd.factorize(h)
    first = np.full(len(uniques), -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # each group's first row
    if not np.array_equal(bits, bits[first][codes]):
        return _predict(booster, X, meta)
    return _predict(booster, X[first], meta)[codes]


def _features(con, spec: ModelSpec, cutoff: dt.date, cache: dict | None) -> pd.DataFrame:
    """customer_features(scoring=True), computed once per cut-off and feature windows when given a cache
    (models with the same windows share one computation in a night's scoring)."""
    key = (cutoff, spec.history_days, tuple(spec.windows))
    frame = cache.get(key) if cache is not None else None
    if frame is None:
        frame = feature_frame(con, spec, cutoff)
        if cache is not None:
            cache[key] = frame
    return frame.drop(columns=excluded(spec, frame.columns))


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
    of one day) shares the customer features between models with the same windows."""
    version = latest_finished(con, spec.name, day)
    if version is None:
        raise NoModelVersion(f"model {spec.name!r} has no FINISHED version on or before {day}")
    booster, meta = store.load(store_dir, spec.name, version)
    cutoff = day + dt.timedelta(days=1)
    if spec.type == "recommender":
        table = recommend.candidate_table(con, config, spec, cutoff)
        p = predict_distinct(booster, recommend.matrix(table, meta["features"]), meta)
        rows = recommend.scored_top_k(con, table, p, spec.k)
    else:
        X = align(_features(con, spec, cutoff, cache), meta["features"])
        rows = pd.DataFrame(
            {"customer_id": X.index.to_numpy(), "score": _predict(booster, X, meta), "items": None}
        )
    return version, rows.assign(date=day, model=spec.name, version=version)


def write_predictions(con: duckdb.DuckDBPyConnection, day: dt.date, frames: list[pd.DataFrame]) -> int:
    """Replace the day's predictions (every model) in one transaction; returns the rows written."""
    columns = "date, customer_id, model, version, score, items"
    with transaction(con):
        con.execute(f"DELETE FROM {PREDICTIONS} WHERE date = $d", {"d": day})
        for frame in frames:
            con.register("_rows", frame)
            con.execute(
                f"INSERT INTO {PREDICTIONS} ({columns}) SELECT date, customer_id, model, version, score, "
                "items::VARCHAR[] FROM _rows"
            )
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
    score: float
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
    booster, meta = store.load(store_dir, spec.name, version)
    X, cands = _model_frame(con, config, spec, day + dt.timedelta(days=1), meta["features"], only=customer)
    if not len(X):
        raise LookupError(
            f"customer {customer!r} is not an active customer on {day} (unknown, excluded or newer)"
        )
    item = None
    if cands is not None:
        best = int(np.argmax(booster.predict(X, num_iteration=meta.get("best_iteration") or None)))
        X, item = X.iloc[[best]], cands["item"].iloc[best]
    contrib = booster.predict(X, pred_contrib=True, num_iteration=meta.get("best_iteration") or None)[0]
    raw = float(booster.predict(X, raw_score=True, num_iteration=meta.get("best_iteration") or None)[0])
    values = X.iloc[0]
    table = pd.DataFrame(
        {"feature": meta["features"], "value": [values[f] for f in meta["features"]], "shap": contrib[:-1]}
    )
    table = table.iloc[np.argsort(-np.abs(table["shap"].to_numpy()), kind="stable")].reset_index(drop=True)
    return Explanation(
        spec.name, version, customer, day, float(contrib[-1]), table, raw, float(1 / (1 + np.exp(-raw))), item
    )
