"""Off-policy evaluation: the value a target policy would reach, from logged decisions and the
probability each logged decision had (inverse propensity scoring and doubly robust, normal CIs)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float


def estimate(terms: np.ndarray, confidence: float) -> Estimate:
    """The mean of per-row terms with its normal confidence interval."""
    from scipy.stats import norm

    mean = float(terms.mean())
    half = float(norm.ppf(0.5 + confidence / 2) * terms.std(ddof=1) / np.sqrt(len(terms)))
    return Estimate(mean, mean - half, mean + half)


def ips_terms(rewards: np.ndarray, actions: np.ndarray, logged: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per logged row: its reward weighted by target / logged probability of its action."""
    return target[np.arange(len(actions)), actions] / logged * rewards


def dr_terms(
    rewards: np.ndarray, actions: np.ndarray, logged: np.ndarray, target: np.ndarray, predicted: np.ndarray
) -> np.ndarray:
    """Per logged row: the reward model's value of the target policy plus the weighted residual."""
    rows = np.arange(len(actions))
    w = target[rows, actions] / logged
    return (target * predicted).sum(axis=1) + w * (rewards - predicted[rows, actions])


def ips(
    rewards: np.ndarray, actions: np.ndarray, logged: np.ndarray, target: np.ndarray, confidence: float = 0.95
) -> Estimate:
    """``logged``: the probability each logged action had; ``target``: the target policy's
    probabilities per row and arm."""
    return estimate(ips_terms(rewards, actions, logged, target), confidence)


def doubly_robust(
    rewards: np.ndarray,
    actions: np.ndarray,
    logged: np.ndarray,
    target: np.ndarray,
    predicted: np.ndarray,
    confidence: float = 0.95,
) -> Estimate:
    """``predicted``: a reward model's prediction per row and arm (e.g. the T-learner's rates)."""
    return estimate(dr_terms(rewards, actions, logged, target, predicted), confidence)
