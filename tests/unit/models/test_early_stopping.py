"""Early stopping on a recommender's evaluation split given as its distinct rows (train.distinct_rows):
the same AUC and average precision after every tree, so the same booster, bit for bit."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from pipeline.models.train import DEFAULT_PARAMS, distinct_rows


def _repeating(rng, n: int) -> pd.DataFrame:
    """Rows like a recommender's candidates, about half of them repeating another: small counts, a
    few popularities, recency in days with missing values, and -0.0 beside 0.0."""
    X = pd.DataFrame(
        {
            "times": rng.poisson(0.4, n).astype(float),
            "days_since": np.where(rng.random(n) < 0.7, np.nan, rng.integers(0, 60, n).astype(float)),
            "popularity": rng.choice([0.01, 0.02, 0.05, 0.1, 0.2], n),
            "purchases": rng.poisson(2.0, n).astype(float),
        }
    )
    X.loc[::13, "times"] = -0.0
    return X


def _label(rng, X: pd.DataFrame) -> np.ndarray:
    logit = 1.2 * X["times"] + 8 * X["popularity"] - 0.02 * X["days_since"].fillna(90) - 2.0
    return (rng.random(len(X)) < 1 / (1 + np.exp(-logit.to_numpy()))).astype(np.int32)


@pytest.mark.parametrize(
    ("metric", "weighted"), [("average_precision", True), ("average_precision", False), ("auc", True)]
)
def test_early_stopping_on_the_distinct_rows_trains_the_same_booster(metric, weighted):
    rng = np.random.default_rng(3)
    X, X_eval = _repeating(rng, 6000), _repeating(rng, 6000)
    y, y_eval = _label(rng, X), _label(rng, X_eval)
    w_eval = rng.integers(1, 3, len(X_eval)).astype(float) if weighted else None
    D, d, w = distinct_rows(X_eval, y_eval, w_eval)
    assert len(D) < 0.6 * len(X_eval) and set(d) == {0, 1}
    total = np.ones(len(X_eval)) if w_eval is None else w_eval
    assert w.sum() == total.sum() and w[d == 1].sum() == total[y_eval == 1].sum()

    params = {**DEFAULT_PARAMS, "metric": metric, "seed": 1, "num_leaves": 31, "min_data_in_leaf": 5}
    boosters = []
    for rows, labels, weights in ((X_eval, y_eval, w_eval), (D, d, w)):
        train = lgb.Dataset(X, y, free_raw_data=False)
        valid = lgb.Dataset(rows, labels, weight=weights, reference=train)
        stop = lgb.early_stopping(10, first_metric_only=True, verbose=False)
        boosters.append(lgb.train(params, train, 300, valid_sets=[valid], callbacks=[stop]))
    every, distinct = boosters
    assert every.best_iteration == distinct.best_iteration < 300
    assert every.best_score["valid_0"][metric] == distinct.best_score["valid_0"][metric]
    assert every.model_to_string() == distinct.model_to_string()


def test_frames_with_categories_are_evaluated_on_every_row():
    X = pd.DataFrame({"a": [1.0, 1.0, 2.0], "txt_city": pd.Categorical(["x", "x", "y"])})
    y = np.array([1, 0, 1], dtype=np.int32)
    D, d, w = distinct_rows(X, y, None)
    assert D is X and d is y and w is None
