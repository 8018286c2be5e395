"""Scores from a stored booster: the model's columns in its order, and predictions of many rows.

Shared by the model types (pipeline/models/types/) when they score a night or explain a customer.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import lightgbm as lgb
import numpy as np
import pandas as pd

from pipeline.models import calibrate
from pipeline.models.config import ModelSpec
from pipeline.models.features import ZERO_WHEN_MISSING, excluded, feature_frame, model_input

PREDICT_THREADS = 0  # scoring is per row, so every core gives the same scores (training keeps one thread)


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


def boosted(booster: lgb.Booster | None) -> lgb.Booster:
    """The booster a LightGBM type's stored version has (its model file was loaded)."""
    if booster is None:
        raise FileNotFoundError("this model version has no LightGBM model file")
    return booster


def predict(booster: lgb.Booster, X: pd.DataFrame | np.ndarray, meta: dict) -> np.ndarray:
    """The scores of the rows of X with the stored version (its best iteration, then its calibration)."""
    if not len(X):
        return np.zeros(0)
    if isinstance(X, pd.DataFrame):
        X = model_input(X, booster)
    raw = booster.predict(X, num_iteration=meta.get("best_iteration") or None, num_threads=PREDICT_THREADS)
    return calibrate.apply(meta.get("calibrator"), np.asarray(raw))


ZERO = 1e-35  # LightGBM's kZeroThreshold: a value this close to 0 is read as 0


def split_thresholds(booster: lgb.Booster) -> dict[int, np.ndarray | None]:
    """Per feature (column index) the sorted thresholds of the booster's numerical splits; None for a
    feature that some split tests as a category or as zero-is-missing (its values are kept as they are).
    Read from the model text, which writes every threshold with all its digits."""
    read: dict[str, list[np.ndarray]] = {"split_feature": [], "threshold": [], "decision_type": []}
    for line in booster.model_to_string().splitlines():
        key, _, value = line.partition("=")
        if key in read and value:
            read[key].append(np.array(value.split(), dtype=np.float64 if key == "threshold" else np.int64))
    if not read["split_feature"]:
        return {}
    feature, threshold, decision = (np.concatenate(a) for a in read.values())
    kept = ((decision & 1) == 0) & (((decision >> 2) & 3) != 1)  # numerical, missing: none or NaN
    out: dict[int, np.ndarray | None] = {}
    for j in np.unique(feature):  # a loop over the model's features (a handful), not rows
        mine = feature == j
        out[int(j)] = np.unique(threshold[mine]) if kept[mine].all() else None
    return out


def split_cells(booster: lgb.Booster, X: np.ndarray) -> np.ndarray:
    """X with each value replaced by a representative of its cell between the booster's thresholds of
    its feature (the cell's first value in the column): every split compares a representative
    as it compares the value, so every row has its own score and rows that differ only within cells
    become equal rows. A feature no split uses is 0; NaN stays NaN (missing is its own cell)."""
    thresholds = split_thresholds(booster)
    out = np.zeros_like(X, dtype=np.float64)
    for j in range(X.shape[1]):  # over the columns (a handful), vectorised over the rows
        if j not in thresholds:
            continue
        th = thresholds[j]
        column = np.where(np.abs(X[:, j]) <= ZERO, 0.0, X[:, j])  # as LightGBM reads the row
        if th is None:
            out[:, j] = column
            continue
        cell = np.searchsorted(th, column, side="left")  # cell i: (th[i-1], th[i]]; NaN: the last
        cell[np.isnan(column)] = len(th) + 1  # missing is a cell of its own
        first = np.zeros(len(th) + 2, dtype=np.int64)
        first[cell[::-1]] = np.arange(len(cell) - 1, -1, -1)  # each cell's first row
        out[:, j] = column[first[cell]]
    return out


def distinct_cells(booster: lgb.Booster, X: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(one row per distinct cell of X (split_cells), each row's index in it), or None when the rows
    cannot be grouped safely. Rows are grouped by a hash of their cells' bits, then checked bit for bit
    against their group's representative; any collision gives None (score every row)."""
    cells = split_cells(booster, np.asarray(X, dtype=np.float64))
    bits = np.ascontiguousarray(cells).view(np.uint64)
    h = np.zeros(len(bits), dtype=np.uint64)
    for j in range(bits.shape[1]):  # over the columns (a handful), vectorised over the rows
        h = (h * np.uint64(0x100000001B3)) ^ bits[:, j] ^ (bits[:, j] >> np.uint64(29))
    codes, uniques = pd.factorize(h)
    first = np.full(len(uniques), -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # each group's first row
    if not np.array_equal(bits, bits[first][codes]):
        return None
    return cells[first], codes


def predict_distinct(booster: lgb.Booster, X: np.ndarray, meta: dict) -> np.ndarray:
    """predict on the distinct cells of X only (distinct_cells), spread back to every row: the same
    scores (a row's score depends on which side of each split its values fall), far fewer trees walked
    (a recommender's ~30 candidates per customer, whose features take a handful of cells each)."""
    grouped = distinct_cells(booster, X) if len(X) >= 2 else None
    if grouped is None:
        return predict(booster, X, meta)
    rows, codes = grouped
    return predict(booster, rows, meta)[codes]


def scoring_features(
    con: duckdb.DuckDBPyConnection, spec: ModelSpec, cutoff: dt.date, cache: dict | None
) -> pd.DataFrame:
    """customer_features(scoring=True), computed once per cut-off and feature windows when given a cache
    (models with the same windows share one computation in a night's scoring)."""
    key = (cutoff, spec.history_days, tuple(spec.windows))
    frame = cache.get(key) if cache is not None else None
    if frame is None:
        frame = feature_frame(con, spec, cutoff)
        if cache is not None:
            cache[key] = frame
    return frame.drop(columns=excluded(spec, frame.columns))
