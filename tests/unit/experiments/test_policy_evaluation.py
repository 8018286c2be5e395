"""Off-policy evaluation on the demo's heterogeneous world: each policy's estimate against the truth."""

import datetime as dt

import numpy as np
import pandas as pd

from pipeline.demo.effects import draw_traits, observed_features, true_rates
from pipeline.demo.population import TASTES, draw_population
from pipeline.experiments.learned import numeric
from pipeline.experiments.policies.learner import TLearner
from pipeline.experiments.policy_evaluation import EVALUATED, estimates, evaluate, target_policies

N = 2500


def logged_world(seed: int):
    """Uniformly logged decisions (control 0.2, then the three variants) on the demo world."""
    rng = np.random.default_rng(seed)
    taste = np.random.default_rng([seed, 5]).integers(0, TASTES, N)
    start = int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp())
    pop = draw_population(rng, N, 28, start, taste)
    traits = draw_traits(pop, seed)
    rates = true_rates(pop, traits, "offer")
    x = observed_features(pop, traits, seed)
    logged_probs = np.array([0.2, 0.8 / 3, 0.8 / 3, 0.8 / 3])
    arm = rng.choice(4, N, p=logged_probs)
    converted = rng.random(N) < rates[np.arange(N), arm]
    return x, arm, logged_probs[arm], converted, rates


def test_each_policys_interval_covers_its_true_value_over_many_worlds():
    covered, total = 0, 0
    for seed in range(8):
        x, arm, logged, converted, rates = logged_world(seed)
        predicted = TLearner(arms=4, seed=0).fit(x, arm, converted.astype(int)).out_of_fold
        assert predicted is not None
        found = estimates(predicted, arm, logged, converted, np.zeros(3), exploration=0.1)
        # the targets as the evaluation sets them, and their true values from the world's rates
        targets = target_policies(predicted, arm, converted, np.zeros(3), 0.1, 0)
        for row in found:
            name = row[0]
            truth = float((targets[name] * rates).sum(axis=1).mean())
            true_inc = truth - float(rates[:, 0].mean())
            for low, high, value in (
                (row[3], row[4], truth),
                (row[6], row[7], truth),
                (row[9], row[10], true_inc),
            ):
                covered += low <= value <= high
                total += 1
        assert [r[0] for r in found] == list(EVALUATED)
    assert covered / total >= 0.9, covered / total  # 95% intervals


def test_uplift_is_estimated_above_uniform_on_the_heterogeneous_world():
    x, arm, logged, converted, _ = logged_world(40)
    found = {r[0]: r for r in evaluate(x, arm, logged, converted, np.zeros(3), exploration=0.1)}
    assert found["uplift"][5] > found["uniform"][5] and found["nothing"][8] == 0


def test_the_logged_rows_features_are_coded_alike_without_the_scoring_matrix():
    """policy_evaluation codes only the logged rows (numeric without score_matrix): the same matrix as
    both coded together, a txt_* level seen only among the other customers included in the codes."""
    everyone = pd.DataFrame(
        {
            "txt_segment": pd.Categorical(["gold", "bronze", "silver", None, "gold"]),
            "orders": [3.0, None, 1.0, 0.0, 2.0],
        },
        index=["c1", "c2", "c3", "c4", "c5"],
    )
    logged = everyone.reindex(["c5", "c3", "c9", "c1"])  # c9: not in the population any more
    both, _ = numeric(logged, everyone)
    alone, none = numeric(logged, everyone, score_matrix=False)
    np.testing.assert_array_equal(alone, both)
    np.testing.assert_array_equal(alone[:, 0], [1.0, 2.0, np.nan, 1.0])  # bronze 0, gold 1, silver 2
    assert none.shape == (0, 2)
