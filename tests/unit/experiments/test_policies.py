"""The decision policies: valid probabilities, seeded draws, uplift ranking, Thompson, off-policy CIs."""

import numpy as np

from pipeline.experiments import policies
from pipeline.experiments.policies.evaluation import doubly_robust, ips
from pipeline.experiments.policies.learner import TLearner, qini_coefficient
from pipeline.experiments.policies.thompson import thompson


def test_uplift_probabilities_valid_and_no_treatment_when_every_uplift_negative():
    rates = np.array([[0.2, 0.1, 0.15], [0.1, 0.3, 0.2]])
    p = policies.uplift(rates, np.array([1.0, 1.0]), np.array([0.0, 0.0]), exploration=0.1)
    assert np.allclose(p.sum(axis=1), 1) and (p > 0).all()
    assert p[0].argmax() == 0 and p[1].argmax() == 1


def test_an_uplift_model_that_learned_no_difference_between_the_arms_stays_uniform():
    """Equal rates for every arm (a pooled model that never split on the arm): the greedy choice is
    split evenly among the tied arms, not given to the first (no treatment)."""
    rates = np.array([[0.2, 0.2, 0.2], [0.1, 0.3, 0.3], [0.1, 0.2, 0.3]])
    p = policies.uplift(rates, np.array([1.0, 1.0]), np.array([0.0, 0.0]), exploration=0.0)
    assert np.allclose(p, [[1 / 3, 1 / 3, 1 / 3], [0, 0.5, 0.5], [0, 0, 1]])


def test_draw_identical_on_rerun_and_follows_probabilities():
    probs = np.tile([0.2, 0.5, 0.3], (20000, 1))
    keys = [f"c{i}|exp|2026-01-01" for i in range(20000)]
    a, b = policies.draw(probs, keys), policies.draw(probs, keys)
    assert (a == b).all()
    assert np.allclose(np.bincount(a) / len(a), [0.2, 0.5, 0.3], atol=0.015)


def test_t_learner_ranks_known_treatment_effects():
    rng = np.random.default_rng(1)
    n = 8000
    x = rng.normal(size=(n, 3))
    effect = 0.15 * np.tanh(x[:, 0])  # some customers are hurt
    arm = rng.integers(0, 2, n)
    y = (rng.random(n) < 0.3 + arm * effect).astype(int)
    learner = TLearner(arms=2, seed=0).fit(x, arm, y)
    assert learner.out_of_fold is not None
    score = learner.out_of_fold[:, 1] - learner.out_of_fold[:, 0]
    assert np.corrcoef(score, effect)[0, 1] > 0.5
    assert qini_coefficient(score, arm, y) > 0.1
    again = TLearner(arms=2, seed=0).fit(x, arm, y).predict(x[:5])
    assert np.array_equal(again, learner.predict(x[:5]))


def test_thompson_converges_on_a_stationary_bandit():
    rng = np.random.default_rng(0)
    true = np.array([0.05, 0.08, 0.12])
    s, t = np.zeros((1, 3)), np.zeros((1, 3))
    for day in range(60):
        p = thompson(s, t, exploration=0.05, seed=day, samples=500)[0]
        arms = rng.choice(3, size=200, p=p)
        for a in range(3):
            t[0, a] += (arms == a).sum()
            s[0, a] += (rng.random((arms == a).sum()) < true[a]).sum()
    final = thompson(s, t, exploration=0.05, seed=99)[0]
    assert final.argmax() == 2 and final[2] > 0.9 and (final > 0).all()


def test_ips_and_doubly_robust_cover_the_true_value():
    rng = np.random.default_rng(3)
    rates = np.array([0.1, 0.2, 0.15])
    target = np.tile([0.1, 0.8, 0.1], (2000, 1))
    truth = float(target[0] @ rates)
    covered = {"ips": 0, "dr": 0}
    for _ in range(200):
        logged_p = np.tile([1 / 3, 1 / 3, 1 / 3], (2000, 1))
        actions = rng.integers(0, 3, 2000)
        rewards = (rng.random(2000) < rates[actions]).astype(float)
        logged = logged_p[np.arange(2000), actions]
        predicted = np.tile(rates + 0.02, (2000, 1))  # a slightly wrong reward model
        e = ips(rewards, actions, logged, target)
        d = doubly_robust(rewards, actions, logged, target, predicted)
        covered["ips"] += e.low <= truth <= e.high
        covered["dr"] += d.low <= truth <= d.high
    assert covered["ips"] >= 180 and covered["dr"] >= 180


def test_seen_weights_learn_each_arms_rate_from_windows_still_open():
    # 3-day windows, each conversion landing on a day drawn evenly over its window; the decisions seen
    # 1, 2 or 3+ days in. Weighted by policies.seen_weights, each arm's rate is its true rate (the
    # labels as seen would give a third of it a day in); closed windows and seen conversions weigh 1
    rng = np.random.default_rng(3)
    n, truth = 200_000, np.array([0.04, 0.08])
    arm = rng.integers(0, 2, n)
    elapsed = rng.integers(1, 5, n)
    y = (rng.random(n) < truth[arm]) & (rng.integers(0, 3, n) < elapsed)
    w = policies.seen_weights(y, elapsed, 3)
    assert set(np.unique(w[y])) == {1.0} and set(np.unique(w[elapsed >= 3])) == {1.0}
    assert np.allclose(np.unique(w[~y & (elapsed < 3)]), [1 / 3, 2 / 3])
    rate = np.bincount(arm, weights=w * y) / np.bincount(arm, weights=w)
    assert np.allclose(rate, truth, rtol=0.06)
    first_day = elapsed == 1
    seen = np.bincount(arm[first_day], weights=y[first_day]) / np.bincount(arm[first_day])
    assert np.allclose(seen, truth / 3, rtol=0.1)


def test_a_learned_policy_chooses_the_best_arm_among_the_eligible_ones():
    """A customer not eligible for the best variant gets the best of the variants they can get (not
    a uniform draw among them; with exploration 0, not NaN), in the decisions and in the evaluation."""
    from pipeline.experiments.learned import learned_probabilities
    from pipeline.experiments.policy_evaluation import target_policies

    rng = np.random.default_rng(0)
    arm = np.repeat([0, 1, 2], 3000)
    y = rng.random(len(arm)) < np.array([0.5, 0.1, 0.3])[arm]
    eligible = np.array([[False, True, True], [True, True, True]])
    for exploration in (0.1, 0.0):
        p, _ = learned_probabilities(
            "propensity", np.zeros((len(arm), 1)), arm, y, np.zeros((2, 1)), eligible, 1.0, np.zeros(3),
            exploration, 0,
        )  # fmt: skip
        assert p[0].argmax() == 2 and p[0, 2] > 0.95 and p[1].argmax() == 0 and np.allclose(p.sum(axis=1), 1)
    rates = np.tile([0.2, 0.1, 0.4, 0.15], (2, 1))  # no treatment, then three variants; the 2nd is best
    allowed = np.array([[True, True, False, True], [True, True, True, True]])
    targets = target_policies(rates, np.array([0, 1]), np.array([0, 1]), np.zeros(3), 0.0, 0, allowed)
    assert np.allclose(targets["propensity"], [[0, 0, 0, 1], [0, 0, 1, 0]])
    assert np.allclose(targets["uplift"], [[1, 0, 0, 0], [0, 0, 1, 0]])  # no eligible variant gains: nothing


def test_thompson_gives_each_eligible_arm_its_chance_of_being_the_best_of_the_eligible_ones():
    """A customer not eligible for the arm that is surely best: the better of the remaining arms gets
    the draws (not a uniform split of the floor among them), in the decisions and in the evaluation."""
    from pipeline.experiments.learned import masked, thompson_probabilities
    from pipeline.experiments.policy_evaluation import target_policies

    rng = np.random.default_rng(0)
    arm = np.repeat([0, 1, 2], 3000)
    converted = rng.random(len(arm)) < np.array([0.5, 0.3, 0.1])[arm]
    eligible = np.array([[False, True, True], [True, True, True]])
    for exploration in (0.1, 0.0):
        p, _ = thompson_probabilities(
            np.zeros(len(arm), dtype=int), arm, converted, np.zeros(2, dtype=int), 3, exploration, 0,
            eligible=eligible,
        )  # fmt: skip
        p = masked(p, eligible)
        assert p[0, 1] > 0.95 and p[1, 0] > 0.9 and np.allclose(p.sum(axis=1), 1)
    arms = np.concatenate([[0] * 100, arm + 1])  # no treatment first, then the three variants
    allowed = np.ones((len(arms), 4), dtype=bool)
    allowed[0, 1] = False
    y = np.concatenate([np.zeros(100, dtype=bool), converted])
    rates = np.full((len(arms), 4), 0.2)
    target = target_policies(rates, arms, y, np.zeros(3), 0.1, 0, allowed)["thompson"]
    assert target[0, 1] == 0 and target[0, 2] > 0.95 and target[1, 1] > 0.9
