"""The demo world's heterogeneous true effects: the best arm differs between customers, some are hurt."""

import datetime as dt

import numpy as np

from pipeline.demo.effects import ARMS, draw_traits, observed_features, true_rates
from pipeline.demo.population import TASTES, draw_population


def population(seed: int, n: int = 3000):
    rng = np.random.default_rng(seed)
    taste = np.random.default_rng([seed, 5]).integers(0, TASTES, n)
    start_ts = int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp())
    return draw_population(rng, n, 28, start_ts, taste)


def test_the_best_arm_differs_between_customers_and_some_are_hurt():
    pop = population(1)
    traits = draw_traits(pop, 1)
    for experiment, arms in ARMS.items():
        rates = true_rates(pop, traits, experiment)
        assert rates.shape == (3000, len(arms)) and ((rates > 0) & (rates < 1)).all()
        best = np.bincount(rates.argmax(axis=1), minlength=len(arms)) / len(rates)
        assert (best > 0.05).sum() >= 3  # no arm is best for (nearly) everyone
        hurt = (rates[:, 1:] < rates[:, :1]).mean(axis=0)
        assert (hurt > 0.05).all()  # every treatment hurts some customers
    offer = true_rates(pop, traits, "offer")
    sensitive = traits.price_sensitivity > 0.7
    assert offer[sensitive].argmax(axis=1).tolist().count(2) > 0.8 * sensitive.sum()  # discount_20


def test_traits_and_features_are_seeded_and_the_features_reveal_the_traits():
    pop = population(2)
    a, b = draw_traits(pop, 2), draw_traits(pop, 2)
    assert np.array_equal(a.price_sensitivity, b.price_sensitivity)
    x = observed_features(pop, a, 2)
    assert np.array_equal(x, observed_features(pop, b, 2)) and np.isfinite(x).all()
    # price sensitivity shows in age and segment; lapsing in fewer purchases and sessions
    assert np.corrcoef(x[:, 0], a.price_sensitivity)[0, 1] < -0.3
    lapsing = a.lifecycle == 2
    assert x[lapsing, 6].mean() < 0.6 * x[~lapsing, 6].mean()
