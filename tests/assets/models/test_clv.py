"""Customer lifetime value on the demo world: the demo's clv model (``ltv`` in nightjar.example.yaml:
the next 30 days, in weeks) trained and scored by the real assets, its expected purchases against
what the customers then did and against the world's truth."""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pipeline.cli import write_demo_config
from pipeline.config import load_config
from pipeline.core.warehouse import connect
from pipeline.demo import generate_world
from pipeline.demo.experiments import seed_history
from pipeline.models import clv, store, training
from pipeline.models.types.clv import SUMMARY, fitted, purchase_summary, values
from tests.assets.models.conftest import DATA, LAST, START, materialization, q, trainings
from tests.assets.models.truth import label_probabilities
from tests.conftest import run_nightly

HORIZON = 30
YOUNG = 17  # days of events of the demo (make demo's DAYS)


def test_the_demo_clv_model_trains_and_scores_the_clv_table(world):
    config, result = world
    spec = config.model("ltv")
    assert spec.type == "clv" and spec.label.horizon_days == HORIZON
    meta = materialization(result, "model_ltv")
    trained = trainings(config)["ltv"]
    assert trained["status"] == "FINISHED" and trained["features"] == [
        "frequency",
        "recency",
        "T",
        "monetary_value",
    ]
    metrics = trained["metrics"]
    assert {
        "bgnbd_r",
        "bgnbd_alpha",
        "bgnbd_a",
        "bgnbd_b",
        "gamma_gamma_p",
        "gamma_gamma_q",
        "gamma_gamma_v",
    } <= set(metrics)
    assert meta["holdout_mae"].value == metrics["holdout_mae"]
    # over the 30-day holdout the expected purchase days add up to the actual ones within 25 %
    assert abs(metrics["holdout_expected_purchases"] / metrics["holdout_purchases"] - 1) < 0.25
    assert metrics["holdout_correlation"] > 0.3

    rows = q(
        config,
        "SELECT c.customer_id, c.p_alive, c.expected_purchases, c.expected_spend, c.clv, c.horizon_days, "
        "p.score FROM clv c JOIN predictions p USING (date, customer_id, model) WHERE c.date = $d",
        {"d": LAST},
    )
    buyers = q(
        config,
        "SELECT count(DISTINCT customer_id) FROM events WHERE type = 'completedOrder' "
        "AND customer_id IS NOT NULL AND _partition_date <= $d",
        {"d": LAST},
    )[0][0]
    assert len(rows) == buyers  # every customer with a purchase, P(alive) as the score
    ids, alive, purchases, spend, value, horizon, score = (np.array(c) for c in zip(*rows, strict=True))
    assert np.array_equal(alive, score) and (horizon == HORIZON).all()
    assert ((alive >= 0) & (alive <= 1)).all() and (purchases >= 0).all() and (spend > 0).all()
    assert np.allclose(value, purchases * spend)

    # expected purchases against the truth: they rank the customers' hidden daily purchase propensity
    truth = {
        r["customuid"]: float(r["propensity"])
        for r in csv.DictReader((config.base_dir / "truth" / "customers.csv").open())
    }
    propensity = np.array([truth[i] for i in ids])
    rank = np.corrcoef(np.argsort(np.argsort(purchases)), np.argsort(np.argsort(propensity)))[0, 1]
    print(f"\nclv: {len(ids)} customers, rank correlation with the true propensity {rank:.3f}")
    assert rank > 0.5


def test_the_clv_models_expected_purchases_match_the_worlds_expected_purchases(world):
    """Over the training's holdout (the 30 days after its cut-off) the world's rules give each
    customer's expected number of purchase days (tests/assets/models/truth.py); the calibration fit's
    expected purchases (its parameters in the metrics, calibration_bgnbd_*) add up to them within 20 %
    and follow them per customer; the truth itself adds up to what the customers did within 10 %. The
    parameters stored and scored with are the fit of the whole history up to the version day."""
    config, _ = world
    spec = config.model("ltv")
    metrics = trainings(config)["ltv"]["metrics"]
    _, meta = store.load_version(config.warehouse_path.parent / "models", "ltv", LAST, boosted=False)
    stored, _ = fitted(meta["params"])
    with connect(config.warehouse_path, read_only=True) as con:
        prepared = training.prepare(con, config, spec, LAST)
        whole = purchase_summary(con, config, spec, LAST + dt.timedelta(days=1))
    summary, window = prepared.X, prepared.window
    assert stored == clv.fit_bgnbd(*(whole[c] for c in SUMMARY[:3]))
    assert {k: metrics[f"bgnbd_{k}"] for k in "r alpha a b".split()} == stored.as_dict()
    calibration = clv.BgNbd(**{k: metrics[f"calibration_bgnbd_{k}"] for k in "r alpha a b".split()})
    assert calibration == clv.fit_bgnbd(*(summary[c] for c in SUMMARY[:3])) != stored
    expected = values(calibration, None, summary, window.label_days / 7)["expected_purchases"].to_numpy()
    world_truth = label_probabilities(config.base_dir, window.label_start, window.label_end)
    days = pd.Series(world_truth["purchase_days"], index=world_truth["customer_id"])
    true = days.reindex(summary.index).to_numpy()
    actual = prepared.y
    correlation = np.corrcoef(expected, true)[0, 1]
    print(
        f"\nclv holdout: expected {expected.sum():.0f} purchase days, the world expects {true.sum():.0f}, "
        f"the customers made {actual.sum():.0f}; correlation with the truth {correlation:.3f}; "
        f"calibration r = {calibration.r:.3f}, stored r = {stored.r:.3f} on {len(whole)} customers"
    )
    assert expected.sum() == pytest.approx(metrics["holdout_expected_purchases"], rel=1e-9)
    assert abs(true.sum() / actual.sum() - 1) < 0.1
    assert abs(expected.sum() / true.sum() - 1) < 0.2
    assert correlation > 0.5


@pytest.fixture(scope="module")
def young(tmp_path_factory):
    """The demo's young warehouse (make demo: 17 days, with the pre-period purchases the closed loop
    seeds before its first night, most of them a customer's only one) through its data assets."""
    out = tmp_path_factory.mktemp("young")
    generate_world(out, customers=2000, days=YOUNG, start=START)
    config = load_config(write_demo_config(out, START))
    seed_history(out, START + dt.timedelta(days=8), START)
    assert run_nightly(config, START, START + dt.timedelta(days=YOUNG - 1), assets=DATA).success
    return config


def test_a_young_warehouse_whose_calibration_period_has_no_fit_is_scored_with_its_whole_history(young):
    """The version of day 15 has its cut-off halfway through the days with events, after the 7 days of
    min_history_days; on those 7 days BG/NBD is on its boundary (no finite fit), on the 15 days up to
    the version day it has a finite fit. The version is FINISHED with the fit of the whole history
    (what it stores and scores with), its holdout metrics NaN and a warning saying why (it was FAILED,
    as not enough data, leaving the young warehouse without a version)."""
    spec = young.model("ltv")
    version = START + dt.timedelta(days=14)
    with connect(young.warehouse_path, read_only=True) as con:
        prepared = training.prepare(con, young, spec, version)
        whole = purchase_summary(con, young, spec, version + dt.timedelta(days=1))
    window = prepared.window
    assert window.truncated and window.cutoff == START + dt.timedelta(days=spec.min_history_days)
    calibration = [prepared.X[c] for c in SUMMARY[:3]]
    assert clv.runs_off(clv.fit_bgnbd(*calibration), *calibration)  # the calibration period: no fit
    trained = training.train(prepared, spec, draw=False)
    stored, _ = fitted(trained.params)
    assert trained.status == training.FINISHED and stored == clv.fit_bgnbd(*(whole[c] for c in SUMMARY[:3]))
    assert trained.customers == len(whole) and trained.positives == int((whole["frequency"] > 0).sum())
    assert trained.warning is not None and trained.warning.startswith(
        "no holdout evaluation (its metrics are NaN): the calibration period has no fit: BG/NBD has no "
        f"finite fit on {len(prepared.X)} customers"
    )
    holdout = ["holdout_expected_purchases", "holdout_mae", "holdout_correlation", "calibration_bgnbd_r"]
    assert all(np.isnan(trained.metrics[k]) for k in holdout)
    assert trained.metrics["holdout_purchases"] == prepared.y.sum() > 0
    assert not clv.runs_off(stored, *(whole[c] for c in SUMMARY[:3]))
    print(f"\nclv on day 15 of {YOUNG}: stored r = {stored.r:.3f} on {len(whole)} customers")
