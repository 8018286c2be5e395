"""Scoring helpers: predicting the distinct rows only gives every row's own score."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np

from pipeline.ml.scoring import _predict, predict_distinct


def _booster(rng):
    X = rng.normal(size=(400, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=400) > 0).astype(int)
    return lgb.train({"objective": "binary", "verbose": -1, "num_threads": 1, "seed": 1}, lgb.Dataset(X, y),
                     num_boost_round=20)


def test_predicting_distinct_rows_gives_the_score_of_every_row():
    rng = np.random.default_rng(3)
    booster = _booster(rng)
    base = rng.normal(size=(50, 4))
    base[::7, 2] = np.nan  # missing values repeat too
    X = base[rng.integers(0, 50, size=3000)]  # 3000 rows, 50 distinct
    X[5] = [0.0, -0.0, np.nan, 1.0]  # -0.0 and 0.0: other bits, scored on their own
    X[6] = [-0.0, 0.0, np.nan, 1.0]
    got = predict_distinct(booster, X, {})
    want = _predict(booster, X, {})
    assert got.shape == (3000,) and np.array_equal(got, want)
    assert len(np.unique(got)) <= 52 and len(np.unique(got)) > 10  # the rows did repeat, and differ
    assert np.array_equal(predict_distinct(booster, X[:1], {}), want[:1])
    assert predict_distinct(booster, np.zeros((0, 4)), {}).shape == (0,)
