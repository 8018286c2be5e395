"""The population stability index (pipeline/models/drift.py): exact small cases, shifts of a normal
population, and which features a version's drift check watches."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from pipeline.models import drift, training
from pipeline.models.config import ModelSpec
from pipeline.models.features import TrainingWindow
from pipeline.models.types import Prepared


def test_psi_of_two_share_vectors_is_the_sum_of_the_terms() -> None:
    want = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert drift.psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(want, abs=1e-12)
    assert drift.psi([0.3, 0.7], [0.3, 0.7]) == 0
    # an empty bin counts as 1e-4, not as an infinity
    assert drift.psi([0.5, 0.5, 0.0], [0.5, 0.4, 0.1]) == pytest.approx(
        -0.1 * math.log(0.8) + (0.1 - 1e-4) * math.log(0.1 / 1e-4)
    )


def test_bins_are_the_training_deciles_with_a_bin_for_missing_values() -> None:
    values = np.array([*range(1, 11), np.nan, np.nan], dtype=float)
    inner = drift.edges(values)
    assert inner.tolist() == pytest.approx([1.9, 2.8, 3.7, 4.6, 5.5, 6.4, 7.3, 8.2, 9.1])
    got = drift.shares(values, inner)
    assert got.tolist() == pytest.approx([1 / 12] * 10 + [2 / 12]) and got.sum() == pytest.approx(1)
    # ties collapse edges: a feature that is mostly 0 has few bins
    assert drift.edges(np.array([0.0] * 95 + [1, 2, 3, 4, 5])).tolist() == [0.0]


@pytest.mark.parametrize(("shift", "verdict"), [(0.0, "ok"), (0.3, "ok"), (0.4, "warn"), (0.8, "fail")])
def test_a_shifted_normal_population_warns_then_fails(shift: float, verdict: str) -> None:
    """PSI of N(shift, 1) against N(0, 1) is about shift squared (measured: about 0.003, 0.09, 0.15
    and 0.6)."""
    rng = np.random.default_rng(5)
    train = pd.DataFrame({"x": rng.normal(size=20_000)})
    stored = drift.reference(train, train["x"].to_numpy(), ["x"])
    night = pd.DataFrame({"x": rng.normal(loc=shift, size=5_000)})
    table = drift.measure(stored, night, night["x"].to_numpy())
    assert table["column"].tolist() in (["score", "x"], ["x", "score"])
    assert table["psi"].iloc[0] == pytest.approx(table["psi"].iloc[1])
    assert drift.level(float(table["psi"].max()), 0.1, 0.25) == verdict


def test_only_numeric_features_are_kept_and_a_missing_one_is_skipped() -> None:
    X = pd.DataFrame({"n": [1.0, 2.0, 3.0], "t": pd.Categorical(["a", "b", "a"])})
    stored = drift.reference(X, np.array([0.1, 0.2, 0.3]), ["n", "t"])
    assert set(stored) == {"score", "n"}
    table = drift.measure(stored, X.drop(columns="n"), np.array([0.1, 0.2, 0.3]))
    assert table["column"].tolist() == ["score"] and table["psi"].iloc[0] == 0


def test_the_monitored_features_are_the_most_important_numeric_ones() -> None:
    X = pd.DataFrame({"t": pd.Categorical(["a", "b", "a"]), "n": [1.0, 2.0, 3.0], "m": [0.0, 1.0, 0.0]})
    assert drift.monitored(X, ["t", "n", "m"], 1) == ["n"]
    assert drift.monitored(X, ["t", "n", "gone", "m"], 5) == ["n", "m"]


def test_a_text_feature_ranked_first_leaves_drift_features_numeric_ones_to_watch() -> None:
    """``drift: {features: 1}`` with a text feature the most important (it drives the label): the
    score and the most important numeric feature are watched, not the score alone."""
    n = 3000
    rng = np.random.default_rng(0)
    colour = rng.choice(["red", "green", "blue"], n)
    X = pd.DataFrame(
        {"txt_colour": pd.Categorical(colour), "num_a": rng.normal(size=n), "num_b": rng.normal(size=n)}
    )
    y = (rng.random(n) < expit(np.where(colour == "red", 2.0, -2.0) + 0.5 * X["num_a"])).astype(int)
    day = dt.date(2026, 3, 1)
    window = TrainingWindow(day, day - dt.timedelta(days=29), day - dt.timedelta(days=29), day, False)
    ids = np.char.add("C", np.char.zfill(np.arange(n).astype(str), 5)).astype(object)
    spec = ModelSpec(
        name="m", type="response", label={"rules": [{"transaction": "pos"}]}, drift={"features": 1}
    )
    trained = training.train(Prepared(window, ids, X, y.to_numpy()), spec, draw=False)
    assert trained.impact["feature"].tolist()[:2] == ["txt_colour", "num_a"]
    assert trained.drift is not None and list(trained.drift) == ["score", "num_a"]
