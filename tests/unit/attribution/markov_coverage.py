"""How often the bootstrap intervals of Markov `allocation: total` credits cover the truth, over worlds
drawn from a known first-order chain (no self-loops, so collapsing repeats changes nothing). Not a test
(two minutes): run `.venv/bin/python -m tests.unit.attribution.markov_coverage [WORLDS JOURNEYS REPLICATES]`;
the README quotes its output for 200 2000 200."""

from __future__ import annotations

import sys

import numpy as np

from pipeline.attribution.bootstrap import percentile_interval, redraw_nulls, resample_counts
from pipeline.attribution.types.markov import markov_removal_effects, removal_shares

CHANNELS = ["A", "B", "C", "D"]
# From start (first row) and from each channel: into A, B, C, D, conversion, null.
CHAIN = np.array(
    [
        [0.4, 0.3, 0.2, 0.1, 0.0, 0.0],
        [0.0, 0.3, 0.1, 0.1, 0.05, 0.45],
        [0.2, 0.0, 0.1, 0.1, 0.15, 0.45],
        [0.1, 0.2, 0.0, 0.1, 0.02, 0.58],
        [0.1, 0.1, 0.1, 0.0, 0.10, 0.60],
    ]
)


def true_shares() -> dict[str, float]:
    """Each channel's share of the removal effects of the chain itself."""

    def p_conversion(removed: int | None) -> float:
        q = np.zeros((5, 5))
        q[:, 1:] = CHAIN[:, :4]
        r = CHAIN[:, 4].copy()
        if removed is not None:
            q[:, removed] = q[removed, :] = r[removed] = 0.0
        return float(np.linalg.solve(np.eye(5) - q, r)[0])

    base = p_conversion(None)
    return removal_shares({c: 1 - p_conversion(i + 1) / base for i, c in enumerate(CHANNELS)})


def journeys(rng: np.random.Generator, n: int) -> tuple[list[tuple[str, ...]], np.ndarray]:
    paths, converted = [], []
    for _ in range(n):
        state, path = 0, []
        while (step := rng.choice(6, p=CHAIN[state])) < 4:
            path.append(CHANNELS[step])
            state = step + 1
        paths.append(tuple(path))
        converted.append(step == 4)
    return paths, np.array(converted)


def coverage(worlds: int, n: int, replicates: int, seed: int = 0) -> np.ndarray:
    """(worlds x channels) whether each world's interval of a channel's credited conversions covers the
    world's conversions x the channel's true share."""
    rng, shares, hits = np.random.default_rng(seed), true_shares(), []
    for _ in range(worlds):
        paths, converted = journeys(rng, n)
        converting = [p for p, c in zip(paths, converted, strict=True) if c]
        distinct = sorted(set(converting))
        path_of = np.array([distinct.index(p) for p in converting])
        nulls = sorted({p for p, c in zip(paths, converted, strict=True) if not c})
        null_counts = np.array(
            [sum(p == q for q, c in zip(paths, converted, strict=True) if not c) for p in nulls]
        )
        counts = resample_counts(rng, np.zeros(len(converting), dtype=int), replicates)
        redrawn = redraw_nulls(rng, null_counts.astype(float), replicates)
        totals = np.zeros((replicates, len(CHANNELS)))
        for b in range(replicates):
            per_path = np.bincount(path_of, weights=counts[b], minlength=len(distinct))
            effects = markov_removal_effects(
                distinct + nulls, [*per_path, *[0] * len(nulls)], [*[0] * len(distinct), *redrawn[b]]
            )
            totals[b] = [len(converting) * removal_shares(effects).get(c, 0.0) for c in CHANNELS]
        lower, upper = percentile_interval(totals)
        truth = np.array([len(converting) * shares[c] for c in CHANNELS])
        hits.append((lower <= truth) & (truth <= upper))
    return np.array(hits)


if __name__ == "__main__":
    worlds, n, replicates = (int(a) for a in sys.argv[1:4]) if len(sys.argv) > 3 else (200, 2000, 200)
    hits = coverage(worlds, n, replicates)
    print(
        f"{worlds} worlds of {n} journeys, {replicates} replicates: coverage per channel "
        f"{hits.mean(axis=0).round(3).tolist()}, overall {hits.mean():.3f}"
    )
