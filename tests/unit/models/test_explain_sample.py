"""A training explains a seeded sample of its test rows (training.EXPLAIN_ROWS): its mean |SHAP| per
feature, the feature impact, is that of every test row up to the sample's own error, and it ranks the
informative features the same, over several simulated worlds."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from pipeline.models.train import feature_impact, shap_values
from pipeline.models.training import EXPLAIN_ROWS, explained_rows

EFFECTS = np.array([2.0, 1.4, 1.0, 0.7, 0.45, 0.3, 0.0, 0.0])  # on the log-odds, per feature


@pytest.mark.parametrize("seed", range(3))
def test_the_explained_sample_measures_the_feature_impact_of_every_test_row(seed):
    rng = np.random.default_rng(seed)
    n = 10_000
    X = rng.normal(size=(n, len(EFFECTS)))
    X[:, 3] = rng.exponential(size=n)  # a skewed one
    y = rng.random(n) < 1 / (1 + np.exp(1.0 - X @ EFFECTS))
    test = rng.random(n) < 0.5
    params = {"objective": "binary", "verbose": -1, "num_threads": 1, "seed": seed, "num_leaves": 15}
    booster = lgb.train(params, lgb.Dataset(X[~test], y[~test]), 30)
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(len(EFFECTS))])
    features = list(frame.columns)

    rows = explained_rows(test, seed)
    assert len(rows) == EXPLAIN_ROWS and test[rows].all() and (np.diff(rows) > 0).all()
    assert np.array_equal(rows, explained_rows(test, seed))  # seeded
    assert np.array_equal(explained_rows(test, seed, most=n), np.flatnonzero(test))  # few: every row

    every, _ = shap_values(booster, frame[test])
    sample, _ = shap_values(booster, frame.iloc[rows])
    full, part = feature_impact(features, every), feature_impact(features, sample)
    # each mean |SHAP| within 4 standard errors of a sample of EXPLAIN_ROWS of the test rows
    share = EXPLAIN_ROWS / test.sum()
    error = np.abs(every).std(axis=0) * np.sqrt((1 - share) / EXPLAIN_ROWS)
    gap = np.abs(np.abs(sample).mean(axis=0) - np.abs(every).mean(axis=0))
    assert (gap <= 4 * error).all() and gap.max() < 0.03 * full["mean_abs_shap"].max()
    informative = int((EFFECTS > 0).sum())
    assert part["feature"][:informative].tolist() == full["feature"][:informative].tolist()
    assert full["feature"][:informative].tolist() == features[:informative]  # the simulated order
