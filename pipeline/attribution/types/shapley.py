"""The ``shapley`` model type: each channel weighs its Shapley value in the conversion's channel set."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations
from typing import Annotated

import numpy as np
from pydantic import Field

from pipeline.attribution.types.paths import Counts, Paths, PathsLike
from pipeline.attribution.types.registry import (
    ChannelWeights,
    DataDriven,
    Parameter,
    Params,
    converting_sets,
    register,
)


def shapley_values(
    players: Sequence[str],
    value: dict[frozenset[str], float],
    max_exact: int = 10,
    samples: int = 2000,
    seed: int = 0,
) -> dict[str, float]:
    """Shapley values of ``players`` in the game v(T) = ``value`` of T (0 when absent).

    Exact (every subset, weights |T|!(n-|T|-1)!/n!) up to ``max_exact`` players; beyond it, the mean
    marginal contribution over ``samples`` random orders drawn with ``seed`` (deterministic).
    """
    n = len(players)
    if n <= max_exact:
        phi = dict.fromkeys(players, 0.0)
        for size in range(n):
            w = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for coalition in combinations(players, size):
                base = value.get(frozenset(coalition), 0.0)
                for p in players:
                    if p not in coalition:
                        phi[p] += w * (value.get(frozenset((*coalition, p)), 0.0) - base)
        return phi
    rng = np.random.default_rng(seed)
    phi_sampled = np.zeros(n)
    for _ in range(samples):
        order = rng.permutation(n)
        members: list[str] = []
        before = 0.0
        for i in order:
            members.append(players[i])
            after = value.get(frozenset(members), 0.0)
            phi_sampled[i] += after - before
            before = after
    return {p: float(phi_sampled[i] / samples) for i, p in enumerate(players)}


def _channel_weights(params: Params, paths: PathsLike, conversions: Counts, nulls: Counts) -> ChannelWeights:
    """v(T) is the conversion rate of the paths whose channel set is T; each converting set's channels
    weigh their Shapley values in it."""
    paths = Paths.of(paths)
    index, distinct = paths.sets()
    # whole counts summed exactly in float64 (below 2^53), then divided once: as Python's int / int
    conv = np.bincount(index, weights=np.asarray(conversions, dtype=float), minlength=len(distinct))
    seen = conv + np.bincount(index, weights=np.asarray(nulls, dtype=float), minlength=len(distinct))
    rate = {distinct[i]: float(conv[i] / seen[i]) for i in np.flatnonzero(conv > 0).tolist()}  # sets
    exact, samples, seed = (int(params[k]) for k in ("maxExactChannels", "samples", "seed"))
    sets = converting_sets(paths, conversions)
    return {s: shapley_values(sorted(s), rate, exact, samples, seed) for s in sets}


def _describe(params: Params) -> str:
    return (
        f"exact up to {params['maxExactChannels']} channels, else {params['samples']} samples, "
        f"seed {params['seed']}"
    )


register(
    DataDriven(
        name="shapley",
        parameters=(
            Parameter("maxExactChannels", 10, Annotated[int, Field(ge=1, le=16)]),
            Parameter("samples", 2000, Annotated[int, Field(ge=1, le=100_000)]),
            Parameter("seed", 0, Annotated[int, Field(ge=0)]),  # NumPy seeds are 0 or more
        ),
        describe=_describe,
        channel_weights=_channel_weights,
        split_over_touches=True,
    )
)
