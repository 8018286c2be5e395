"""Scores from a stored booster: the model's columns in its order, and predictions of many rows.

Shared by the model types (pipeline/models/types/) when they score a night or explain a customer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd

from pipeline.models import calibrate, compiled
from pipeline.models.config import ModelSpec
from pipeline.models.features import ZERO_WHEN_MISSING, excluded, feature_frame, model_input

if TYPE_CHECKING:  # lightgbm is imported where a model is trained or loaded
    import lightgbm as lgb

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
    """The scores of the rows of X with the stored version (its best iteration, then its calibration);
    by its compiled trees when the scoring attached them to ``meta`` (pipeline/models/compiled.py)."""
    if not len(X):
        return np.zeros(0)
    if isinstance(X, pd.DataFrame):
        X = model_input(X, booster)
    else:
        X = np.ascontiguousarray(X)  # rows as LightGBM reads them, whatever order the caller's matrix has
    forest = meta.get(compiled.FOREST)
    raw = compiled.predict_raw(forest, booster, X, meta, PREDICT_THREADS) if forest is not None else None
    if raw is None:
        raw = np.asarray(
            booster.predict(X, num_iteration=meta.get("best_iteration") or None, num_threads=PREDICT_THREADS)
        )
    return calibrate.apply(meta.get("calibrator"), raw)


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


WORDS_FULL = 2**64  # the codes one 64-bit word holds

# The rows' features may come as a matrix (rows x features) or as its columns, one array per feature:
# each of the rows' shape, a row per element in C order (a recommender's customers x items grid,
# customer by customer), or a read-only view repeating a customer's or an item's own value along the
# other axis (np.broadcast_to: a stride of 0). A repeated value's cell is found once, not per row.
Columns = list[np.ndarray]


def columns_of(X: np.ndarray | Columns) -> Columns:
    """The feature columns of a matrix (rows x features; as float64), or the columns as given."""
    if isinstance(X, np.ndarray):
        X = np.asarray(X, dtype=np.float64)
        return [X[:, j] for j in range(X.shape[1])]
    return list(X)


def _once(column: np.ndarray) -> np.ndarray:
    """A column without its repeats: a length of 1 along each axis it repeats a value on (a stride of
    0); NumPy broadcasts it back."""
    return column[tuple(slice(0, 1) if step == 0 else slice(None) for step in column.strides)]


def rows_of(columns: Columns, at: np.ndarray) -> np.ndarray:
    """The rows ``at`` (indices in C order over the columns' shape) as a matrix (rows x features)."""
    if not columns:
        return np.zeros((len(at), 0))
    where = np.unravel_index(at, columns[0].shape)
    return np.column_stack([np.asarray(c[where], dtype=np.float64) for c in columns])


def cell_keys(booster: lgb.Booster, X: np.ndarray | Columns) -> np.ndarray:
    """Each row's cells (split_cells) as an exact key, (rows, words) uint64: per feature a split uses,
    the index of the row's cell between its thresholds (missing: a cell of its own), packed in mixed
    radix into 64-bit words; a feature kept as it is (split_cells) takes a word of its value's bits.
    Two rows have the same key exactly when they have the same cells. A key holds no feature value of
    a thresholded feature, only which side of each split it falls. ``X``: a matrix or its columns
    (``Columns``: a repeated value's cell is found once)."""
    columns = columns_of(X)
    shape = columns[0].shape if columns else (0,)
    words: list[np.ndarray] = []
    word, room = np.zeros(shape, dtype=np.uint64), WORDS_FULL
    for j, th in sorted(split_thresholds(booster).items()):  # over the columns, vectorised over the rows
        values = _once(columns[j])
        if th is None:
            column = np.where(np.abs(values) <= ZERO, 0.0, values)  # as LightGBM reads the row
            bits = np.where(np.isnan(column), np.nan, column).view(np.uint64)  # one NaN's bits
            words.append(np.broadcast_to(bits, shape).reshape(-1))
            continue
        cell = _cells(th, values.reshape(-1)).reshape(values.shape)
        radix = len(th) + 2
        if radix > room:
            words.append(word.reshape(-1))
            word, room = np.zeros(shape, dtype=np.uint64), WORDS_FULL
        word *= np.uint64(radix)
        word += cell
        room //= radix
    words.append(word.reshape(-1))
    return np.column_stack(words)


def _cells(th: np.ndarray, column: np.ndarray) -> np.ndarray:
    """The index (uint64) of each value's cell between the sorted thresholds ``th``: i for (th[i-1],
    th[i]], len(th) above the last, len(th) + 1 for missing (NaN); a value within ZERO of 0 in 0's cell
    (as LightGBM reads it). The values are read as they are unless a threshold lies within ZERO of 0
    (only then can a near-zero value fall in another cell than 0), and NaN is looked for only among the
    values above the last threshold (where searchsorted puts it)."""
    if np.any((th >= -ZERO) & (th < ZERO)):
        column = np.where(np.abs(column) <= ZERO, 0.0, column)
    cell = np.searchsorted(th, column, side="left").view(np.uint64)  # non-negative: the same bits
    top = np.flatnonzero(cell == len(th))
    cell[top[np.isnan(column[top])]] = len(th) + 1
    return cell


def key_hash(keys: np.ndarray) -> np.ndarray:
    """One uint64 per key: the key itself when it is one word (exact), else a hash of its words."""
    h = keys[:, 0].copy()
    for j in range(1, keys.shape[1]):  # over the words (a handful), vectorised over the rows
        h = (h * np.uint64(0x100000001B3)) ^ keys[:, j] ^ (keys[:, j] >> np.uint64(29))
    return h


def group_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(each distinct key's first row, each row's distinct key), distinct keys in order of first row.
    Grouped by key_hash, checked word for word; a collision of the hash falls back to sorting the keys."""
    codes, uniques = pd.factorize(key_hash(keys))
    first = np.full(len(uniques), -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # each group's first row
    if keys.shape[1] > 1 and not np.array_equal(keys, keys[first][codes]):
        _, first, codes = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return first, np.asarray(codes, dtype=np.int64).reshape(-1)


def distinct_cells(booster: lgb.Booster, X: np.ndarray | Columns) -> tuple[np.ndarray, np.ndarray]:
    """(one row of X per distinct cell (cell_keys): the cell's first row, each row's index in it).
    Every row of a cell falls on the same side of every split, so it has the same score and the same
    SHAP values as the cell's first row. ``X``: a matrix or its columns."""
    columns = columns_of(X)
    first, codes = group_keys(cell_keys(booster, columns))
    return rows_of(columns, first), codes


@dataclass
class CellScores:
    """The distinct cells (cell_keys) one model version scored last and their scores: a cell scored
    again by the same version cannot have another score, so it is not walked through the trees again.
    predict_distinct reads it and replaces it with the cells it scored."""

    keys: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.uint64))
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(which of ``keys`` are known, their scores where known)."""
        found = np.zeros(len(keys), dtype=bool)
        if not len(self.keys) or not len(keys) or self.keys.shape[1] != keys.shape[1]:
            return found, np.zeros(len(keys))
        known = key_hash(self.keys)
        order = np.argsort(known, kind="stable")
        h = key_hash(keys)
        at = order[np.minimum(np.searchsorted(known[order], h), len(order) - 1)]
        found = (known[at] == h) & (self.keys[at] == keys).all(axis=1)
        return found, np.where(found, self.scores[at], 0.0)


def predict_distinct(
    booster: lgb.Booster, X: np.ndarray | Columns, meta: dict, memo: CellScores | None = None
) -> np.ndarray:
    """predict on the distinct cells of X only (cell_keys), spread back to every row: the same
    scores (a row's score depends on which side of each split its values fall), far fewer trees walked
    (a recommender's ~30 candidates per customer, whose features take a handful of cells each). With
    ``memo`` (the version's cells scored last), only the cells it does not hold are predicted, and
    ``memo`` becomes the cells of X. ``X``: a matrix or its columns (``Columns``: only the distinct
    cells' rows are ever laid out as a matrix)."""
    columns = columns_of(X)
    if not columns or not columns[0].size:
        return np.zeros(0)
    keys = cell_keys(booster, columns)
    first, codes = group_keys(keys)
    distinct = keys[first]
    found, scores = (memo or CellScores()).find(distinct)
    if (~found).any():
        scores[~found] = predict(booster, rows_of(columns, first[~found]), meta)
    if memo is not None:
        memo.keys, memo.scores = distinct, scores
    return scores[codes]


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
