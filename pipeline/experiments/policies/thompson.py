"""Thompson sampling with Beta posteriors per segment and a floor on exploration.

The logged assignment probability of an arm is the posterior probability that it is the best arm,
estimated from ``samples`` seeded posterior draws per segment (then floored), so the draw per
customer is a seeded draw from that distribution.
"""

from __future__ import annotations

import numpy as np

from pipeline.experiments.policies import with_floor


def best_arm_probabilities(
    successes: np.ndarray,
    trials: np.ndarray,
    seed: int,
    samples: int = 2000,
    eligible: np.ndarray | None = None,
) -> np.ndarray:
    """Per segment (rows) the posterior probability that each arm (columns) has the best rate among
    the ``eligible`` arms (a mask over the arms; default all; 0 for the others).

    Posteriors Beta(1 + successes, 1 + trials - successes).
    """
    rng = np.random.default_rng(seed)
    segs, arms = successes.shape
    draws = rng.beta(1 + successes[None], 1 + trials[None] - successes[None], size=(samples, segs, arms))
    if eligible is not None:
        draws[..., ~np.asarray(eligible, dtype=bool)] = -np.inf
    wins = np.zeros((segs, arms))
    best = draws.argmax(axis=2)
    for a in range(arms):
        wins[:, a] = (best == a).mean(axis=0)
    return wins


def thompson(
    successes: np.ndarray,
    trials: np.ndarray,
    exploration: float,
    seed: int,
    samples: int = 2000,
    eligible: np.ndarray | None = None,
) -> np.ndarray:
    """Assignment probabilities per segment: P(best arm among the ``eligible``) floored by ``exploration``."""
    return with_floor(best_arm_probabilities(successes, trials, seed, samples, eligible), exploration)
