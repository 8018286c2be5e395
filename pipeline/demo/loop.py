"""The decision loop as a pure-function simulation: the demo world's customers decided night after night.

The customers are the demo world's (population.py, the same generator and seed), their hidden traits
and true per-arm rates are effects.py's, and the policies are the pipeline's own functions
(pipeline/experiments/learned.py: ``learned_probabilities`` for propensity and uplift,
``thompson_probabilities``; pipeline/experiments/policies: ``uniform``, ``draw``). What it stands in
for: the features are effects.observed_features (what the customer 360 shows, drawn from the same
traits) instead of the feature SQL, and the learned policies are refitted every ``retrain`` days
(1: nightly, as the pipeline does).

Every day a seventh of the customers (a weekly cadence per customer) is decided for the ``offer``
experiment; a fixed hash keeps ``control_share`` of them as control. A decision's response is drawn
from the customer's true rate of the chosen arm (the same uniform number per customer and day for
every policy) and lands on a day of its ``window`` drawn evenly, the same for every arm and policy;
the policies learn from the night after a decision with the conversions landed so far, weighted as
the pipeline does (policies.seen_weights; ``open_windows=False``: only once the window has closed).
Measured from the truth: the
true incremental conversions per decision (the chosen arm's true rate minus the no-treatment rate;
control decisions left out, they are the same for every policy) of each policy, of the oracle (each
customer's truly best arm, no treatment included), of the best single variant for everyone and of
uniform random among the variants. bench/decisions.py reports them; a test runs a small world.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np

from pipeline.demo.effects import ARMS, draw_traits, observed_features, true_rates
from pipeline.demo.population import TASTES, draw_population
from pipeline.experiments import policies
from pipeline.experiments.learned import (
    learned_probabilities,
    segment_edges,
    segments,
    thompson_probabilities,
)

POLICIES = ("uniform", "propensity", "uplift", "thompson")
EXPERIMENT = "offer"


def world(seed: int, customers: int, days: int):
    """The demo world's customers (as generate_world draws them), their traits, true rates, features."""
    rng = np.random.default_rng(seed)
    taste = np.random.default_rng([seed, 5]).integers(0, TASTES, customers)
    start_ts = int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp())
    pop = draw_population(rng, customers, days, start_ts, taste)
    traits = draw_traits(pop, seed)
    return pop, true_rates(pop, traits, EXPERIMENT), observed_features(pop, traits, seed)


def probabilities(
    policy: str, x: np.ndarray, score: np.ndarray, log: dict, exploration: float, seed: int
) -> np.ndarray:
    """Every customer's probability of each arm (column 0: no treatment) from what is learned so far."""
    n, arms = len(x), len(ARMS[EXPERIMENT])
    variants = arms - 1
    cust, arm, y = (np.asarray(log[k], dtype=np.int64) for k in ("cust", "arm", "y"))
    w = np.asarray(log["w"], dtype=float)
    out = np.zeros((n, arms))
    if policy == "uniform":
        out[:, 1:] = policies.uniform(n, variants)
    elif policy == "uplift":
        eligible = np.ones((n, arms), dtype=bool)
        out, _ = learned_probabilities(
            policy, x[cust], arm, y, x, eligible, 1.0, np.zeros(variants), exploration, seed, w
        )
    elif policy == "propensity":
        eligible = np.ones((n, variants), dtype=bool)
        out[:, 1:], _ = learned_probabilities(
            policy, x[cust], arm - 1, y, x, eligible, 1.0, np.zeros(variants), exploration, seed, w
        )
    else:
        edges = segment_edges(score[cust])
        out[:, 1:], _ = thompson_probabilities(
            segments(score[cust], edges), arm - 1, y, segments(score, edges), variants, exploration, seed, w
        )
    return out


def seen(log: dict, night: int, window: int, open_windows: bool) -> dict:
    """What is learned from on ``night``: the decisions before it with the conversions landed so far
    (a conversion lands ``lag`` days after its decision) and their weights (policies.seen_weights);
    without ``open_windows`` only the decisions whose window has closed, as they ended."""
    day, lag = np.asarray(log["day"], dtype=np.int64), np.asarray(log["lag"], dtype=np.int64)
    elapsed = night - day
    keep = elapsed >= (1 if open_windows else window)
    y = np.asarray(log["y"], dtype=np.int64)[keep] * (lag[keep] < elapsed[keep])
    return {
        "cust": np.asarray(log["cust"])[keep],
        "arm": np.asarray(log["arm"])[keep],
        "y": y,
        "w": policies.seen_weights(y, elapsed[keep], window),
    }


def simulate(
    seed: int,
    customers: int,
    days: int,
    window: int = 3,
    retrain: int = 1,
    control_share: float = 0.1,
    exploration: float = 0.05,
    chosen: tuple[str, ...] = POLICIES,
    open_windows: bool = True,
) -> dict:
    """The loop for every policy on one world: true incremental conversions per 1,000 decisions."""
    _, rates, x = world(seed, customers, days)
    score = x[:, 4] + 0.1 * x[:, 5] + 0.01 * x[:, 6]  # Thompson's segments: activity, a score's stand-in
    inc = rates[:, 1:] - rates[:, :1]
    control = np.random.default_rng([seed, 23]).random(customers) < control_share
    u = np.random.default_rng([seed, 29]).random((days, customers))
    # the day a conversion lands in its window: even over the window and the same for every arm
    # (the demo's closed loop, pipeline/demo/experiments.py, draws it evenly over the days after the night)
    lags = np.random.default_rng([seed, 31]).integers(0, window, (days, customers))
    first = 1 if open_windows else window
    ids = np.char.add("C", np.arange(customers).astype(str))
    treated_days = [np.flatnonzero((np.arange(customers) % 7 == d % 7) & ~control) for d in range(days)]
    decided = np.concatenate(treated_days)
    oracle = float(np.maximum(inc.max(axis=1), 0)[decided].mean())
    best = int(inc[decided].mean(axis=0).argmax())
    out = {
        "oracle": oracle,
        "best_single_variant": float(inc[decided, best].mean()),
        "best_variant": ARMS[EXPERIMENT][best + 1],
        "random": float(inc[decided].mean()),
    }
    for policy in chosen:
        began = time.monotonic()
        log: dict[str, list] = {"cust": [], "arm": [], "y": [], "day": [], "lag": []}
        gained, late, last_week = [], [], []
        probs = probabilities(policy, x, score, seen(log, 0, window, False), exploration, seed)
        for d in range(days):
            if d >= first and (d - first) % retrain == 0:
                learned = seen(log, d, window, open_windows)
                probs = probabilities(policy, x, score, learned, exploration, seed + d)
            who = np.flatnonzero(np.arange(customers) % 7 == d % 7)
            keys = np.char.add(ids[who], f"|{EXPERIMENT}|{d}").tolist()
            arm = np.where(control[who], 0, policies.draw(probs[who], keys))
            log["cust"] += who.tolist()
            log["arm"] += arm.tolist()
            log["y"] += (u[d, who] < rates[who, arm]).astype(int).tolist()
            log["day"] += [d] * len(who)
            log["lag"] += lags[d, who].tolist()
            true_gain = (rates[who, arm] - rates[who, 0])[~control[who]]
            gained.append(true_gain)
            if d >= window:
                late.append(true_gain)
            if d >= days - 7:
                last_week.append(true_gain)
        out[policy] = float(np.concatenate(gained).mean())
        out[policy + "_after_first_window"] = float(np.concatenate(late).mean())
        out[policy + "_last_week"] = float(np.concatenate(last_week).mean())
        out[policy + "_seconds"] = time.monotonic() - began
    return out


def share(value: float, r: dict) -> float:
    """The share of the achievable gain: (value - random) / (oracle - random)."""
    return (value - r["random"]) / (r["oracle"] - r["random"])
