"""Customer lifetime value on the demo world: a clv model trained and scored by the real assets, its
expected purchases against the world's true purchase propensities."""

from __future__ import annotations

import csv

import numpy as np

from pipeline.config import parse_config
from tests.assets.models.conftest import LAST, copy_world, materialization, q, trainings
from tests.conftest import run_nightly

HORIZON = 14


def test_a_clv_model_trains_and_scores_the_clv_table(world, tmp_path):
    config, _ = world
    data = copy_world(config, tmp_path)
    data["models"] = [
        {
            "name": "ltv",
            "type": "clv",
            "label": {"rules": [{"transaction": "completedOrder"}], "horizon_days": HORIZON},
            "time_unit": "weeks",
        }
    ]
    copy = parse_config(data, config.base_dir / "nightjar.yaml", config.base_dir)
    result = run_nightly(copy, LAST, assets=["model_ltv", "predictions"])
    assert result.success
    meta = materialization(result, "model_ltv")
    trained = trainings(copy)["ltv"]
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
    # over the 14-day holdout the expected purchase days add up to the actual ones within 25 %
    assert abs(metrics["holdout_expected_purchases"] / metrics["holdout_purchases"] - 1) < 0.25
    assert metrics["holdout_correlation"] > 0.3

    rows = q(
        copy,
        "SELECT c.customer_id, c.p_alive, c.expected_purchases, c.expected_spend, c.clv, c.horizon_days, "
        "p.score FROM clv c JOIN predictions p USING (date, customer_id, model) WHERE c.date = $d",
        {"d": LAST},
    )
    buyers = q(
        copy,
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
