"""The baselines' logistic regression, RFM inputs, calibration maps and the expected calibration error,
on hand-computed and simulated cases."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from pipeline.models import calibrate, train, training
from pipeline.models.baselines import fit_logistic, predict_logistic, rfm_columns, summary
from pipeline.models.config import ModelSpec
from pipeline.models.features import TrainingWindow
from pipeline.models.predict import predict
from pipeline.models.train import fit, params_of, scaled_params
from pipeline.models.tuning import tune
from pipeline.models.types import Prepared


def test_the_logistic_regression_solves_the_score_equations_and_recovers_simulated_coefficients():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40_000, 2)) * [1.0, 3.0] + [0.0, 5.0]
    y = rng.random(40_000) < expit(-0.5 + 1.2 * X[:, 0] - 0.4 * (X[:, 1] - 5))
    fitted = fit_logistic(X, y, l2=0.0)
    p = predict_logistic(fitted, X)
    # maximum likelihood: the residuals are orthogonal to the intercept and every column
    assert np.abs(np.column_stack([np.ones(len(X)), X]).T @ (y - p) / len(X)).max() < 1e-6
    w, mean, scale = fitted
    slopes = w[1:] / scale
    assert slopes == pytest.approx([1.2, -0.4], abs=0.05)
    assert w[0] - slopes @ mean == pytest.approx(-0.5 + 0.4 * 5, abs=0.1)


def test_rfm_columns_sum_the_longest_window_and_give_no_event_the_longest_recency():
    X = pd.DataFrame(
        {
            "days_since_last_event": [2.0, np.nan],
            "count_purchase_30d": [3.0, 0.0],
            "count_purchase_7d": [1.0, 0.0],
            "count_web_visit_30d": [4.0, 0.0],
            "count_channel_email": [9.0, 0.0],
            "value_purchase_30d": [50.0, 0.0],
        }
    )
    rfm = rfm_columns(X, 30, 365)
    assert rfm["recency"].tolist() == pytest.approx([np.log1p(2), np.log1p(366)])
    assert rfm["frequency"].tolist() == pytest.approx([np.log1p(7), 0.0])
    assert rfm["monetary"].tolist() == pytest.approx([np.log1p(50), 0.0])
    assert rfm["no_event"].tolist() == [0.0, 1.0]


def test_summary_names_the_better_baseline_and_the_gains():
    flat, best = summary(
        0.80, 0.40, {"recency": {"auc": 0.70, "logloss": 0.5}, "rfm": {"auc": 0.75, "logloss": 0.45}}
    )
    assert best == "rfm"
    assert flat["auc_gain_over_baseline"] == pytest.approx(0.05)
    assert flat["logloss_gain_over_baseline"] == pytest.approx(0.05)
    assert flat["baseline_recency_auc"] == 0.70


def test_expected_calibration_error_by_hand():
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.05, 0.15, 0.95, 0.91, 0.93])
    # bins 0.0-0.1: |0 - 0.05|; 0.1-0.2: |1 - 0.15|; 0.9-1.0: |2/3 - 0.93|
    want = (0.05 + 0.85 + 3 * abs(2 / 3 - (0.95 + 0.91 + 0.93) / 3)) / 5
    assert calibrate.expected_calibration_error(y, p) == pytest.approx(want)


def test_isotonic_pools_adjacent_violators_and_interpolates():
    cal = calibrate.fit("isotonic", np.array([0.1, 0.2, 0.3, 0.4]), np.array([0, 1, 0, 1]))
    assert cal["x"] == [0.1, 0.2, 0.3, 0.4]
    assert cal["y"] == pytest.approx([1e-6, 0.5, 0.5, 1 - 1e-6])
    assert calibrate.apply(cal, np.array([0.15, 0.35, 0.9])) == pytest.approx(
        [(1e-6 + 0.5) / 2, (0.5 + 1 - 1e-6) / 2, 1 - 1e-6]
    )
    assert calibrate.apply(None, np.array([0.3])).tolist() == [0.3]


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_calibration_on_one_sample_brings_a_held_out_samples_ece_below_two_percent(method):
    """A score that is too confident (true log-odds = 0.5 × its log-odds - 0.3), fitted on 20,000
    customers and measured on 20,000 others."""
    rng = np.random.default_rng(11)

    def draw(n):
        s = expit(rng.normal(0, 2.5, n))
        return s, (rng.random(n) < expit(0.5 * logit(s) - 0.3)).astype(int)

    s_fit, y_fit = draw(20_000)
    s_test, y_test = draw(20_000)
    cal = calibrate.fit(method, s_fit, y_fit)
    before = calibrate.expected_calibration_error(y_test, s_test)
    after = calibrate.expected_calibration_error(y_test, calibrate.apply(cal, s_test))
    assert before > 0.1 and after <= 0.02, (before, after)
    if method == "platt":
        assert (cal["a"], cal["b"]) == pytest.approx((0.5, -0.3), abs=0.05)


def test_defaults_scale_with_the_training_split_and_weight_a_rare_class():
    small, large = scaled_params(2_000, 1_000), scaled_params(400_000, 200_000)
    assert small["learning_rate"] > large["learning_rate"] and small["num_leaves"] < large["num_leaves"]
    assert "scale_pos_weight" not in small
    assert scaled_params(10_000, 100)["scale_pos_weight"] == pytest.approx(np.sqrt(9_900 / 100))
    assert scaled_params(10_000, 9_900)["scale_pos_weight"] == pytest.approx(1 / np.sqrt(9_900 / 100))
    spec = ModelSpec(
        name="m", type="response", label={"rules": [{"transaction": "pos"}]}, params={"num_leaves": 3}
    )
    assert params_of(spec, 2_000, 1_000)["num_leaves"] == 3  # the config's params win


@pytest.mark.parametrize("calibration", ["none", "platt"])
def test_a_rare_class_is_weighted_up_only_when_the_scores_are_calibrated(calibration):
    """3.4 % positives: with calibration the rare class is weighted up (the map brings the scores
    back); with ``calibration: none`` the scores are LightGBM's own probabilities, unweighted, their
    mean the positive rate (measured 0.026 against 0.034; weighted up it was 0.082)."""
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(5_000, 3)), columns=["a", "b", "c"])
    y = (rng.random(5_000) < expit(-4 + X["a"])).astype(int).to_numpy()
    day = dt.date(2026, 3, 1)
    window = TrainingWindow(day, day - dt.timedelta(days=29), day - dt.timedelta(days=29), day, False)
    ids = np.char.add("C", np.char.zfill(np.arange(5_000).astype(str), 5)).astype(object)
    spec = ModelSpec(
        name="m", type="response", label={"rules": [{"transaction": "pos"}]}, calibration=calibration
    )
    trained = training.train(Prepared(window, ids, X, y), spec, draw=False)
    assert ("scale_pos_weight" in trained.params) == (calibration != "none")
    assert trained.metrics["positive_rate"] < 0.05
    assert trained.metrics["mean_score"] == pytest.approx(trained.metrics["positive_rate"], abs=0.015)


def test_tuning_searches_on_the_evaluation_split_within_its_trials_reproducibly():
    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.normal(size=(3_000, 3)), columns=["a", "b", "c"])
    y = (rng.random(3_000) < expit(1.5 * X["a"] - X["b"])).to_numpy().astype(int)
    parts = np.array(["train", "evaluation", "test"])[rng.integers(0, 3, 3_000)]
    spec = ModelSpec(
        name="m", type="response", label={"rules": [{"transaction": "pos"}]}, tuning={"trials": 4}
    )
    best = tune(spec, X, y, parts)
    assert set(best) == {"learning_rate", "num_leaves", "min_data_in_leaf", "feature_fraction", "lambda_l2"}
    assert 0.01 <= best["learning_rate"] <= 0.3 and 4 <= best["num_leaves"] <= 127
    assert tune(spec, X, y, parts) == best  # seeded
    booster, params = fit(spec, X, y, parts, best)
    assert params["num_leaves"] == best["num_leaves"] and booster.best_iteration > 0


def test_equal_mass_bins_and_the_debiased_error_by_hand():
    y = np.array([0, 1, 1, 1])
    p = np.array([0.1, 0.2, 0.6, 0.8])
    # two equal-mass bins: {0.1, 0.2} and {0.6, 0.8}
    assert calibrate.expected_calibration_error(y, p, bins=2, equal_mass=True) == pytest.approx(
        (2 * abs(0.5 - 0.15) + 2 * abs(1 - 0.7)) / 4
    )
    # per bin: gap mean² minus the gap's sample variance over the bin's size
    gaps = [np.array([-0.1, 0.8]), np.array([0.4, 0.2])]
    want = sum(2 * (g.mean() ** 2 - g.var(ddof=1) / 2) for g in gaps) / 4
    assert calibrate.debiased_calibration_error(y, p, bins=2) == pytest.approx(np.sqrt(want))


def _draws(rng, n, shift):
    """Scores and labels whose true probability is the score plus ``shift`` (clipped)."""
    p = np.clip(rng.beta(2, 3, n), 0.02, 0.93)
    return p, (rng.random(n) < np.clip(p + shift, 0, 1)).astype(float)


def test_on_a_few_hundred_customers_the_plug_in_ece_measures_its_sampling_floor_the_debiased_error_does_not():
    """200 simulated test splits of 355 customers: a perfectly calibrated score has a plug-in ECE of
    about 0.04 (the sampling floor) where the debiased L2 error is near 0; a score off by 0.05
    everywhere has a debiased error near 0.05."""
    rng = np.random.default_rng(17)
    plug, debiased, off = [], [], []
    for _ in range(200):
        p, y = _draws(rng, 355, 0.0)
        plug.append(calibrate.expected_calibration_error(y, p))
        debiased.append(calibrate.debiased_calibration_error(y, p))
        p, y = _draws(rng, 355, 0.05)
        off.append(calibrate.debiased_calibration_error(y, p))
    floor = calibrate.sampling_floor(p, draws=200)
    print(f"\nplug-in {np.mean(plug):.4f} (floor {floor:.4f}); debiased {np.mean(debiased):.4f}")
    assert 0.03 < np.mean(plug) < 0.06 and abs(floor - np.mean(plug)) < 0.01
    assert np.median(debiased) < 0.01 and np.mean(debiased) < 0.02
    assert np.mean(off) == pytest.approx(0.05, abs=0.01)


def _simulated_training(n: int, seed: int):
    """A response model's training frame of ``n`` simulated customers whose true probability is known."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    truth = expit(-0.5 + 1.2 * X["a"] - 0.8 * X["b"] + 0.5 * X["a"] * X["c"]).to_numpy()
    y = (rng.random(n) < truth).astype(int)
    day = dt.date(2026, 3, 1)
    window = TrainingWindow(day, day - dt.timedelta(days=29), day - dt.timedelta(days=29), day, False)
    ids = np.char.add("C", np.arange(n).astype(str)).astype(object)
    return Prepared(window, ids, X, y), truth


def test_calibration_is_cross_fitted_on_small_data_and_has_a_split_of_its_own_on_large(monkeypatch):
    """Small data: the calibration map is fitted on out-of-fold scores of every non-test customer and
    the scoring booster is refit on them with the early-stopped number of trees; above CROSS_FIT_MAX
    half the evaluation share is a calibration split. Both are calibrated against the simulated
    truth on the test split (debiased error)."""
    prepared, truth = _simulated_training(6_000, 23)
    spec = ModelSpec(name="m", type="response", label={"rules": [{"transaction": "pos"}]})
    crossed = training.train(prepared, spec, draw=False)
    m = crossed.metrics
    # every non-test customer (the training and evaluation shares, 80 % within sampling: 4,827)
    assert m["calibration_cross_fitted"] == 1 and m["calibration_customers"] == (~crossed.test).sum()
    assert abs(m["calibration_customers"] - 4_800) < 100
    assert crossed.booster.current_iteration() == m["best_iteration"] == crossed.booster.best_iteration
    monkeypatch.setattr(train, "CROSS_FIT_MAX", 1_000)  # read by train.customer_split
    split = training.train(prepared, spec, draw=False)
    parts, _, _ = train.customer_split(spec, prepared.ids, True)
    assert split.metrics["calibration_cross_fitted"] == 0
    assert split.metrics["calibration_customers"] == (parts == train.CALIBRATION).sum()
    assert split.metrics["evaluation_customers"] == (parts == train.EVALUATION).sum()
    assert m["evaluation_customers"] == np.isin(parts, [train.EVALUATION, train.CALIBRATION]).sum()
    assert abs(split.metrics["calibration_customers"] - 600) < 60
    assert np.array_equal(crossed.test, split.test)  # the same test customers either way
    # measured 0.019 (on 4,827 customers) and 0.027 (on 596)
    for trained, bound in ((crossed, 0.02), (split, 0.04)):
        p = predict(trained.booster, prepared.X[trained.test], {"calibrator": trained.calibrator})
        error = calibrate.debiased_calibration_error(truth[trained.test], p)
        print(f"\n{trained.metrics['calibration_customers']:.0f} calibrate: against the truth {error:.4f}")
        assert error <= bound


def test_over_five_simulated_worlds_calibration_brings_the_scores_closer_to_the_truth():
    """Five simulated worlds of 2,000 customers (a true probability with an interaction LightGBM has
    to learn): against the truth on each test split, the calibrated scores' debiased error is below
    the same booster's uncalibrated one on average, and 0.025 or less (measured 0.000-0.023, mean
    0.015; the uncalibrated 0.000-0.059, mean 0.020). Not in every world: over the seeds 0..19 the
    calibrated error is the lower in 12 of 20 (mean 0.025 against 0.037)."""
    spec = ModelSpec(name="m", type="response", label={"rules": [{"transaction": "pos"}]})
    calibrated, raw = [], []
    for seed in range(5):
        prepared, truth = _simulated_training(2_000, seed)
        trained = training.train(prepared, spec, draw=False)
        X, q = prepared.X[trained.test], truth[trained.test]
        calibrated.append(
            calibrate.debiased_calibration_error(
                q, predict(trained.booster, X, {"calibrator": trained.calibrator})
            )
        )
        raw.append(calibrate.debiased_calibration_error(q, predict(trained.booster, X, {})))
    print(f"\ncalibrated {np.round(calibrated, 4)}, uncalibrated {np.round(raw, 4)}")
    assert np.mean(calibrated) < np.mean(raw)
    assert np.mean(calibrated) <= 0.025
