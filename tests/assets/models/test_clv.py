"""Customer lifetime value on the demo world: the demo's clv model (``ltv`` in nightjar.example.yaml:
the next 30 days, in weeks) trained and scored by the real assets, its expected purchases against
what the customers then did and against the world's truth."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from pipeline.core.warehouse import connect
from pipeline.models import store, training
from pipeline.models.types.clv import fitted, values
from tests.assets.models.conftest import LAST, materialization, q, trainings
from tests.assets.models.truth import label_probabilities

HORIZON = 30


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
    customer's expected number of purchase days (tests/assets/models/truth.py); the version's
    expected purchases from its calibration window add up to them within 20 % and follow them per
    customer; the truth itself adds up to what the customers did within 10 %."""
    config, _ = world
    trained = trainings(config)["ltv"]
    _, meta = store.load_version(config.warehouse_path.parent / "models", "ltv", LAST, boosted=False)
    bgnbd, spend = fitted(meta["params"])
    with connect(config.warehouse_path, read_only=True) as con:
        prepared = training.prepare(con, config, config.model("ltv"), LAST)
    summary, window = prepared.X, prepared.window
    expected = values(bgnbd, spend, summary, window.label_days / 7)["expected_purchases"].to_numpy()
    world_truth = label_probabilities(config.base_dir, window.label_start, window.label_end)
    days = pd.Series(world_truth["purchase_days"], index=world_truth["customer_id"])
    true = days.reindex(summary.index).to_numpy()
    actual = prepared.y
    correlation = np.corrcoef(expected, true)[0, 1]
    print(
        f"\nclv holdout: expected {expected.sum():.0f} purchase days, the world expects {true.sum():.0f}, "
        f"the customers made {actual.sum():.0f}; correlation with the truth {correlation:.3f}"
    )
    assert expected.sum() == pytest.approx(trained["metrics"]["holdout_expected_purchases"], rel=1e-9)
    assert abs(true.sum() / actual.sum() - 1) < 0.1
    assert abs(expected.sum() / true.sum() - 1) < 0.2
    assert correlation > 0.5
