"""Decision policies: pure functions from what is known to the probability of each arm per customer.

Every policy returns a matrix of assignment probabilities (one row per customer, one column per
arm, rows summing to 1, every entry > 0 through an exploration floor) so that every decision can be
logged with the probability it had, and any policy evaluated off-line (see :mod:`.evaluation`).
The draw from those probabilities is seeded by a key per decision (:func:`draw`): re-runs agree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

POLICIES = ("uniform", "propensity", "uplift", "thompson")
DECAY_ROWS = 2000  # a learned policy's exploration floor decays after this many rows learned from


def decayed(exploration: float, rows: int) -> float:
    """A learned policy's floor: ``exploration`` up to DECAY_ROWS rows learned from, then shrinking as
    1 / sqrt(rows) (halved at 4x as many rows): the surer the models, the fewer random decisions.
    Measured on the demo world (bench/decisions.py): the floor of 0.05 cost a learned policy 0.05 of
    the achievable gain on every day; decayed, 0.01-0.02 once a few weeks are learned from."""
    return exploration * min(1.0, float(np.sqrt(DECAY_ROWS / max(rows, 1))))


def seen_weights(converted: np.ndarray, elapsed: np.ndarray, window: int) -> np.ndarray:
    """The weight of each past presentation learned from, ``elapsed`` days into its ``window``-day
    conversion window (``window`` or more: closed). A conversion seen is certain (1); one not yet seen
    counts as a non-conversion for the share of the window elapsed, min(elapsed / window, 1).

    Assumes the conversion day is spread evenly over the window and does not depend on the arm (as
    in the demo world): then a rate learned so weights each arm alike, and for rates of a few percent
    it is nearly unbiased (a row weighs f p + f (1 - p) = f: a seen conversion and an unseen f of a
    non-conversion). So learning starts the night after the first decisions, not after the first window.
    """
    share = np.minimum(np.asarray(elapsed, dtype=float) / window, 1.0)
    return np.where(np.asarray(converted, dtype=bool), 1.0, share)


def with_floor(probs: np.ndarray, exploration: float) -> np.ndarray:
    """Mix each row with the uniform distribution: every arm keeps at least exploration / arms."""
    k = probs.shape[1]
    return (1.0 - exploration) * probs + exploration / k


def greedy(values: np.ndarray) -> np.ndarray:
    """Each row's largest value gets probability 1, split evenly among arms that tie for it: a model
    that learned no difference between the arms (the pooled learner before it splits on the arm)
    leaves the choice uniform, not the first arm's (for uplift: sending nothing)."""
    best = (values >= values.max(axis=1, keepdims=True)).astype(float)
    return best / best.sum(axis=1, keepdims=True)


def among(values: np.ndarray, eligible: np.ndarray | None) -> np.ndarray:
    """The values with every arm a row is not eligible for at -inf (greedy never chooses it)."""
    return values if eligible is None else np.where(eligible, values, -np.inf)


def uniform(customers: int, arms: int) -> np.ndarray:
    return np.full((customers, arms), 1.0 / arms)


def propensity(
    rates: np.ndarray,
    value: np.ndarray,
    cost: np.ndarray,
    exploration: float,
    eligible: np.ndarray | None = None,
) -> np.ndarray:
    """A rate model per variant: the variant of best expected value rate x value - cost wins, among
    each row's ``eligible`` arms (default all; the caller renormalises over them)."""
    return with_floor(greedy(among(rates * value - cost, eligible)), exploration)


def incremental_value(rates: np.ndarray, value: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Per customer, the value of no treatment (0) then of each variant: uplift x value - cost.

    ``rates``: the predicted conversion rates, column 0 without treatment (control), then one per variant.
    """
    uplift = rates[:, 1:] - rates[:, :1]
    return np.hstack([np.zeros((len(rates), 1)), uplift * value - cost])


def uplift(
    rates: np.ndarray,
    value: np.ndarray,
    cost: np.ndarray,
    exploration: float,
    eligible: np.ndarray | None = None,
) -> np.ndarray:
    """Arm 0 is no treatment: chosen where every eligible variant's incremental value is below zero
    (``eligible``: per row and arm, default all; the caller renormalises over them)."""
    return with_floor(greedy(among(incremental_value(rates, value, cost), eligible)), exploration)


def unit(key: str) -> float:
    """A uniform number in (0, 1) from a string (the first 52 bits of its MD5)."""
    return (int(hashlib.md5(key.encode()).hexdigest()[:13], 16) + 0.5) / 2.0**52


def draw(probs: np.ndarray, keys: Sequence[str]) -> np.ndarray:
    """The arm drawn for each row, by inverse CDF of a uniform seeded by the row's key."""
    u = np.array([unit(k) for k in keys])
    cdf = np.cumsum(probs, axis=1)
    cdf[:, -1] = 1.0
    return (u[:, None] > cdf).sum(axis=1)
