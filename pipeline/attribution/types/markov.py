"""The ``markov`` model type: each channel weighs its first-order Markov removal effect."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.attribution.types.registry import ChannelWeights, DataDriven, Params, converting_sets, register


def _collapse(path: Sequence[str]) -> list[str]:
    """The path without consecutive repeats (A > A > B is A > B for the Markov chain)."""
    return [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]


def markov_removal_effects(
    paths: Sequence[Sequence[str]], conversions: Sequence[float], nulls: Sequence[float]
) -> dict[str, float]:
    """First-order Markov removal effects, exactly: P(conversion) from the absorbing chain by a linear solve.

    States: start, each channel, conversion, null. Transition counts come from the paths (consecutive
    repeats collapsed), each path weighted by its conversions + nulls and ending in conversion or null.
    The removal effect of channel c is 1 - P'(conversion) / P(conversion) where in P' every transition
    into c goes to null instead.
    """
    channels = sorted({c for p in paths for c in p})
    if not channels:
        return {}
    index = {c: i + 1 for i, c in enumerate(channels)}  # 0 = start; k+1 = conversion; k+2 = null
    k = len(channels)
    counts = np.zeros((k + 3, k + 3))
    for path, conv, null in zip(paths, conversions, nulls, strict=True):
        states = [0] + [index[c] for c in _collapse(path)]
        for a, b in zip(states, states[1:], strict=False):
            counts[a, b] += conv + null
        counts[states[-1], k + 1] += conv
        counts[states[-1], k + 2] += null
    totals = counts.sum(axis=1, keepdims=True)
    transition = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)

    def p_conversion(removed: int | None) -> float:
        q = transition[: k + 1, : k + 1].copy()  # transient states: start and the channels
        r = transition[: k + 1, k + 1].copy()  # into conversion
        if removed is not None:
            q[:, removed] = 0.0  # going into the removed channel ends the path (null)
            q[removed, :] = 0.0
            r[removed] = 0.0
        # x = Q x + r  (x[s] = P(reaching conversion from s)); solve (I - Q) x = r.
        return float(np.linalg.solve(np.eye(k + 1) - q, r)[0])

    base = p_conversion(None)
    if base <= 0:
        return {c: 0.0 for c in channels}
    return {c: 1.0 - p_conversion(index[c]) / base for c in channels}


def _channel_weights(
    params: Params, paths: Sequence[Sequence[str]], conversions: Sequence[int], nulls: Sequence[int]
) -> ChannelWeights:
    """Each touch weighs its channel's removal effect (the same in every channel set)."""
    effects = markov_removal_effects(paths, conversions, nulls)
    return {s: {c: effects[c] for c in s} for s in converting_sets(paths, conversions)}


register(DataDriven(name="markov", channel_weights=_channel_weights))
