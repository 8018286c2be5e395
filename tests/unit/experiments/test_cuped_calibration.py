"""CUPED on the demo world's response model (pipeline/demo/experiments.py), over many simulated
worlds (seeded counts, pure functions): with the pre-period purchases predicting the outcome as the
demo world makes them, the adjusted interval is at most 0.85 x the unadjusted width (in 99 % of the
worlds) and still covers the true lift at its nominal rate."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.demo.experiments import REPEAT_SHARE, TRUE_RATES, repeat_rate, response_rate
from pipeline.experiments import stats
from pipeline.experiments.cuped import Paired, cuped

WORLDS = 1000
# about what a demo of 2000 customers presents: each treated variant, and control (its 20% share)
TREATED_N, CONTROL_N = 280, 200


def _group(rng: np.random.Generator, n: int, rate: float, q: float, h: float) -> np.ndarray:
    """(x, y, x and y) counts of WORLDS worlds: x of n bought before; their rate is h, the others'
    (rate - q h) / (1 - q) (the demo's model)."""
    x = rng.binomial(n, q, WORLDS)
    again, others = response_rate(np.full(2, rate), np.array([True, False]), np.full(2, q), np.full(2, h))
    y1 = rng.binomial(x, again)
    y0 = rng.binomial(n - x, others)
    return np.stack([x, y1 + y0, y1], axis=1)


@pytest.mark.parametrize("experiment", sorted(TRUE_RATES))
def test_cuped_narrows_the_demo_worlds_intervals_and_covers_the_true_lift(experiment):
    rates = TRUE_RATES[experiment]
    q = REPEAT_SHARE * 0.8  # some of the share signed up too late to have bought before
    h = repeat_rate(rates, q)
    rng = np.random.default_rng(len(experiment))
    control = _group(rng, CONTROL_N, rates["control"], q, h)
    for variant, rate in rates.items():
        if variant == "control":
            continue
        treated = _group(rng, TREATED_N, rate, q, h)
        truth = rate - rates["control"]
        ratios, hits, raw_hits = [], 0, 0
        for (tx, ty, txy), (cx, cy, cxy) in zip(treated.tolist(), control.tolist(), strict=True):
            t, c = Paired(TREATED_N, ty, ty, tx, tx, txy), Paired(CONTROL_N, cy, cy, cx, cx, cxy)
            adj_t, adj_c, _ = cuped(t, c)
            raw = stats.lift(stats.proportion(ty, TREATED_N), stats.proportion(cy, CONTROL_N))
            adj = stats.lift(adj_t, adj_c)
            ratios.append((adj.high - adj.low) / (raw.high - raw.low))
            hits += adj.low <= truth <= adj.high
            raw_hits += raw.low <= truth <= raw.high
        assert np.quantile(ratios, 0.99) <= 0.85, (experiment, variant, np.quantile(ratios, [0.5, 0.99]))
        assert 0.93 <= hits / WORLDS <= 0.97, (experiment, variant, hits / WORLDS)
        assert 0.93 <= raw_hits / WORLDS <= 0.97, (experiment, variant, raw_hits / WORLDS)
