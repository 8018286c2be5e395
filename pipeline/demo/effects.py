"""Heterogeneous true effects: each customer's true response rate to each arm of the demo's experiments.

Hidden traits, derived from the drawn population (population.py) plus noise of their own:

* **price sensitivity** in (0, 1): high for bronze and young customers, low for gold and older ones;
* **e-mail affinity**: the world's affinity to the Email channel (higher for newsletter subscribers);
* **active hour**: the hour of day the customer is most active (drawn from the world's hour weights);
* **lifecycle**: 0 new (signed up within the world), 1 active, 2 lapsing (the quarter of highest
  churn risk).

The true rate of an arm (column 0: no treatment, then the experiment's variants in ``ARMS``) is the
base rate (from the purchase propensity) plus an effect that depends on the traits, so the best
arm differs between customers and some are hurt: a 20% discount wins with price-sensitive customers
and loses with the others; free shipping suits the insensitive; every contact hurts lapsing
customers (sleeping dogs); e-mail works with e-mail-affine customers, SMS with the others. The demo
(pipeline/demo/experiments.py) and the decision-quality benchmark (bench/decisions.py) both draw
responses from these rates; the truth goes only to ``truth/decision_rates.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.demo.population import EMAIL, HOUR_WEIGHTS, Population

ARMS = {
    "offer": ("no_treatment", "discount_10", "discount_20", "free_shipping"),
    "channel": ("no_treatment", "email", "sms"),
}
HOURS = 24
LIFECYCLE = ("new", "active", "lapsing")


@dataclass(frozen=True)
class Traits:
    price_sensitivity: np.ndarray
    email_affinity: np.ndarray
    active_hour: np.ndarray
    lifecycle: np.ndarray  # 0 new, 1 active, 2 lapsing


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def draw_traits(pop: Population, seed: int) -> Traits:
    """The hidden traits of every customer (their own seeded stream: the rest of the world is unchanged)."""
    rng = np.random.default_rng([seed, 17])
    n = len(pop.ids)
    sensitivity = _sigmoid(
        1.6 * (pop.segment == 0) - 1.6 * (pop.segment == 2) - 0.06 * (pop.age - 40) + rng.normal(0, 0.5, n)
    )
    hour = rng.choice(HOURS, n, p=HOUR_WEIGHTS)
    lapsing = pop.churn_risk >= np.quantile(pop.churn_risk, 0.75)
    lifecycle = np.where(lapsing, 2, np.where(pop.signup > 0, 0, 1))
    return Traits(sensitivity, pop.affinity[:, EMAIL].copy(), hour, lifecycle)


def true_rates(pop: Population, traits: Traits, experiment: str) -> np.ndarray:
    """Per customer the true conversion rate of each arm of ``experiment`` (columns as in ``ARMS``)."""
    base = np.clip(0.04 + 1.2 * pop.propensity, 0.0, 0.4)
    ps, email, lapsing = traits.price_sensitivity, traits.email_affinity, traits.lifecycle == 2
    if experiment == "offer":
        effects = [0.12 * ps - 0.02, 0.40 * ps - 0.12, 0.16 * (1 - ps) - 0.02]
    elif experiment == "channel":
        effects = [0.18 * email - 0.02, 0.08 * (1 - email) - 0.01]
    else:
        raise KeyError(f"no true effects for experiment {experiment!r} (known: {sorted(ARMS)})")
    treated = np.column_stack(effects) - 0.12 * lapsing[:, None]
    return np.clip(np.column_stack([base, base[:, None] + treated]), 0.001, 0.95)


def observed_features(pop: Population, traits: Traits, seed: int, days: int = 30) -> np.ndarray:
    """What the customer 360 shows of each customer after ``days`` of history (the benchmark's stand-in
    for the feature table): age, segment, newsletter, days since sign-up, purchases, e-mail and other
    sessions, and the share of sessions in each quarter of the day. Lapsing customers' activity fades."""
    rng = np.random.default_rng([seed, 19])
    n = len(pop.ids)
    fade = np.where(traits.lifecycle == 2, 0.3, 1.0)
    purchases = rng.poisson(days * pop.propensity * fade)
    share = pop.affinity / pop.affinity.sum(axis=1, keepdims=True)
    sessions = rng.poisson(days * pop.session_rate[:, None] * share * fade[:, None])
    opens = rng.binomial(days // 2, 0.05 + 0.4 * traits.email_affinity * pop.subscribed)
    quarter = np.minimum(traits.active_hour // 6, 3)
    shares = np.zeros((n, 4))
    shares[np.arange(n), quarter] = 1.0
    return np.column_stack(
        [
            pop.age,
            pop.segment,
            pop.subscribed,
            np.maximum(days - pop.signup, 0),
            purchases,
            sessions[:, EMAIL],
            sessions.sum(axis=1) - sessions[:, EMAIL],
            opens,
            shares,
        ]
    ).astype(float)


def rate_column(experiment: str, arm: str) -> str:
    """The column of truth/decision_rates.csv holding the true rate of an arm."""
    return f"{experiment}__{arm}"


def write_decision_truth(path: Path, pop: Population, traits: Traits) -> None:
    """truth/decision_rates.csv: per customer the hidden traits and the true rate of every arm."""
    frame = pd.DataFrame(
        {
            "customuid": pop.ids,
            "price_sensitivity": traits.price_sensitivity.round(6),
            "email_affinity": traits.email_affinity.round(6),
            "active_hour": traits.active_hour,
            "lifecycle": np.take(LIFECYCLE, traits.lifecycle),
        }
    )
    for experiment, arms in ARMS.items():
        rates = true_rates(pop, traits, experiment)
        for j, arm in enumerate(arms):
            frame[rate_column(experiment, arm)] = rates[:, j].round(6)
    frame.to_csv(path, index=False, lineterminator="\n")
