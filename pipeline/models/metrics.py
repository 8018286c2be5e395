"""Evaluation metrics on numpy vectors (no scikit-learn): AUC, log loss, top-decile precision/recall,
calibration, and the recommender's precision/recall@k and hit rate."""

from __future__ import annotations

import numpy as np
import pandas as pd


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count one half); NaN with a single class."""
    from scipy.stats import rankdata

    y = np.asarray(y).astype(bool)
    pos, neg = y.sum(), (~y).sum()
    if pos == 0 or neg == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))


def logloss(y: np.ndarray, p: np.ndarray, eps: float = 1e-15) -> float:
    p = np.clip(np.asarray(p, dtype=float), eps, 1 - eps)
    y = np.asarray(y, dtype=float)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def top_decile(y: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    """(precision, recall) of the top 10% by score (at least one customer; ties broken by order)."""
    y = np.asarray(y)
    n = max(1, int(np.ceil(len(y) * 0.1)))
    top = np.argsort(-np.asarray(score), kind="stable")[:n]
    hits = y[top].sum()
    return float(hits / n), float(hits / y.sum()) if y.sum() else float("nan")


def calibration(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Per bin of predicted probability (equal width): customers, mean predicted, observed rate."""
    frame = pd.DataFrame({"y": np.asarray(y, dtype=float), "p": np.asarray(p, dtype=float)})
    frame["bin"] = np.minimum((frame["p"] * bins).astype(int), bins - 1)
    out = frame.groupby("bin").agg(customers=("y", "size"), predicted=("p", "mean"), observed=("y", "mean"))
    out.index = [f"{b / bins:.1f}-{(b + 1) / bins:.1f}" for b in out.index]
    return out


def at_k(recommended: pd.DataFrame, taken: pd.DataFrame, k: int) -> dict[str, float]:
    """Precision@k, recall@k and hit rate over the customers who took something.

    ``recommended``: (customer_id, item, rank) with rank 1 the best; ``taken``: (customer_id, item),
    the items each customer took in the held-out period (duplicates ignored).
    """
    taken = taken[["customer_id", "item"]].drop_duplicates()
    sizes = taken.groupby("customer_id").size()
    top = recommended.loc[recommended["rank"] <= k, ["customer_id", "item"]]
    hits = (
        top.merge(taken, on=["customer_id", "item"])
        .groupby("customer_id")
        .size()
        .reindex(sizes.index, fill_value=0)
    )
    if not len(sizes):
        return {
            "precision_at_k": float("nan"),
            "recall_at_k": float("nan"),
            "hit_rate": float("nan"),
            "customers": 0.0,
        }
    return {
        "precision_at_k": float((hits / k).mean()),
        "recall_at_k": float((hits / sizes).mean()),
        "hit_rate": float((hits > 0).mean()),
        "customers": float(len(sizes)),
    }
