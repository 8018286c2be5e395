"""Drift: the population stability index (PSI) of a model's score and top features between its
training population and each night's scored customers.

At training, each column's reference is its decile edges over the training population and the share
of customers in each bin (a last bin for missing values), kept in the version's metadata; at night
the scored customers fall into the same bins, and PSI = sum over bins of (night - train) x
ln(night / train), each share floored at ``FLOOR`` so an empty bin counts without an infinity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BINS = 10
FLOOR = 1e-4  # a bin's smallest share: an empty bin weighs as one in ten thousand
SCORE = "score"


def edges(values: np.ndarray, bins: int = BINS) -> np.ndarray:
    """The inner bin edges: the distinct quantiles at 1/bins .. (bins-1)/bins of the known values."""
    known = values[~np.isnan(values)]
    if not len(known):
        return np.zeros(0)
    return np.unique(np.quantile(known, np.arange(1, bins) / bins))


def shares(values: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The share of values in each bin (-inf, e1], (e1, e2], ..., (ek, inf), then missing."""
    values = np.asarray(values, dtype=float)
    index = np.where(np.isnan(values), len(inner) + 1, np.searchsorted(inner, values, side="left"))
    counts = np.bincount(index.astype(np.int64), minlength=len(inner) + 2)
    return counts / max(len(values), 1)


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    """The population stability index of two bin-share vectors."""
    r = np.maximum(np.asarray(reference, dtype=float), FLOOR)
    c = np.maximum(np.asarray(current, dtype=float), FLOOR)
    return float(np.sum((c - r) * np.log(c / r)))


def numeric(X: pd.DataFrame, feature: str) -> bool:
    """Whether ``feature`` is a numeric column of X (only numbers have deciles)."""
    return feature in X and pd.api.types.is_numeric_dtype(X[feature])


def monitored(X: pd.DataFrame, ranked: list[str], most: int) -> list[str]:
    """The first ``most`` of the ``ranked`` features (most important first) that are numeric: a text
    feature among the most important does not take a numeric one's place."""
    return [f for f in ranked if numeric(X, f)][:most]


def reference(X: pd.DataFrame, scores: np.ndarray, features: list[str]) -> dict[str, dict]:
    """The reference bins of the score and of the numeric ``features`` over the training population
    (stored in the version's metadata as {column: {"edges", "shares"}})."""
    columns = {SCORE: np.asarray(scores, dtype=float)}
    columns.update({f: X[f].to_numpy(dtype=float) for f in features if numeric(X, f)})
    out = {}
    for name, values in columns.items():
        inner = edges(values)
        out[name] = {"edges": inner.tolist(), "shares": shares(values, inner).tolist()}
    return out


def measure(stored: dict[str, dict], X: pd.DataFrame, scores: np.ndarray) -> pd.DataFrame:
    """(column, psi) of each stored column on tonight's customers, worst first."""
    rows = []
    for name, ref in stored.items():
        if name == SCORE:
            values = np.asarray(scores, dtype=float)
        elif name in X:
            values = X[name].to_numpy(dtype=float)
        else:
            continue
        now = shares(values, np.asarray(ref["edges"], dtype=float))
        rows.append((name, psi(np.asarray(ref["shares"]), now)))
    out = pd.DataFrame(rows, columns=["column", "psi"])
    return out.sort_values(["psi", "column"], ascending=[False, True], ignore_index=True)


def level(worst: float, warn: float, fail: float) -> str:
    """``ok``, ``warn`` (above ``warn``) or ``fail`` (above ``fail``)."""
    return "fail" if worst > fail else "warn" if worst > warn else "ok"
