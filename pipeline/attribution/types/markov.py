"""The ``markov`` model type: each channel weighs its Markov removal effect (order 1..4).

``allocation: per_conversion`` (the default) weighs each touch of a conversion by its channel's
removal effect, normalised over the conversion's touches; ``allocation: total`` splits every
conversion over all channels by their share of the removal effects, so that the day's credited
conversions of a channel are the total conversions x its share (ChannelAttribution's ``markov_model``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from pipeline.attribution.types.registry import (
    EVERY_SET,
    ChannelWeights,
    DataDriven,
    Parameter,
    Params,
    converting_sets,
    register,
)

State = tuple[str, ...]


def chain_states(path: Sequence[str], order: int = 1) -> list[State]:
    """A path's states in a chain of ``order``: its windows of ``order`` consecutive touches (a shorter
    path is one state), consecutive equal states collapsed. Order 1: the channels without consecutive
    repeats (A > A > B is A > B); order 2: A > B > C is (A, B) > (B, C)."""
    windows = [tuple(path[i : i + order]) for i in range(max(1, len(path) - order + 1))]
    return [w for i, w in enumerate(windows) if i == 0 or w != windows[i - 1]]


@dataclass(frozen=True)
class _Chain:
    """The chain of a set of paths: its states (1..k; 0 is start, k+1 conversion, k+2 null), every
    path's steps between states (``source`` -> ``target``, of path ``step_path``), each path's last
    state, and the states holding each channel."""

    size: int
    source: np.ndarray
    target: np.ndarray
    step_path: np.ndarray
    last: np.ndarray
    holding: dict[str, list[int]]


@functools.lru_cache(maxsize=16)  # a bootstrap learns again from the same paths with other counts
def _chain(paths: tuple[tuple[str, ...], ...], order: int) -> _Chain:
    walks = [chain_states(p, order) for p in paths]
    states = sorted({s for w in walks for s in w})
    index = {s: i + 1 for i, s in enumerate(states)}
    ids = [[0] + [index[s] for s in w] for w in walks]
    steps = [(a, b, i) for i, w in enumerate(ids) for a, b in zip(w, w[1:], strict=False)]
    source, target, step_path = np.array(steps, dtype=np.int64).reshape(-1, 3).T
    channels = sorted({c for s in states for c in s})
    return _Chain(
        size=len(states),
        source=source,
        target=target,
        step_path=step_path,
        last=np.array([w[-1] for w in ids], dtype=np.int64),
        holding={c: [index[s] for s in states if c in s] for c in channels},
    )


def markov_removal_effects(
    paths: Sequence[Sequence[str]],
    conversions: Sequence[float],
    nulls: Sequence[float],
    order: int = 1,
) -> dict[str, float]:
    """Markov removal effects of a chain of ``order``, exactly: P(conversion) from the absorbing chain by a
    linear solve.

    States: start, each state of :func:`chain_states` seen in the paths, conversion, null. Transition
    counts come from the paths, each path weighted by its conversions + nulls and ending in conversion
    or null. The removal effect of channel c is 1 - P'(conversion) / P(conversion) where in P' every
    transition into a state holding c goes to null instead.
    """
    chain = _chain(tuple(tuple(p) for p in paths), order)
    if not chain.holding:
        return {}
    k = chain.size
    conv, null = np.asarray(conversions, dtype=float), np.asarray(nulls, dtype=float)
    counts = np.zeros((k + 3, k + 3))  # whole counts: the sums do not depend on their order
    np.add.at(counts, (chain.source, chain.target), (conv + null)[chain.step_path])
    np.add.at(counts[:, k + 1], chain.last, conv)
    np.add.at(counts[:, k + 2], chain.last, null)
    totals = counts.sum(axis=1, keepdims=True)
    transition = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)

    def p_conversion(removed: list[int]) -> float:
        q = transition[: k + 1, : k + 1].copy()  # transient states: start and the chain's states
        r = transition[: k + 1, k + 1].copy()  # into conversion
        if removed:
            q[:, removed] = 0.0  # going into a removed state ends the path (null)
            q[removed, :] = 0.0
            r[removed] = 0.0
        # x = Q x + r  (x[s] = P(reaching conversion from s)); solve (I - Q) x = r.
        return float(np.linalg.solve(np.eye(k + 1) - q, r)[0])

    base = p_conversion([])
    if base <= 0:
        return dict.fromkeys(chain.holding, 0.0)
    return {c: 1.0 - p_conversion(states) / base for c, states in chain.holding.items()}


def removal_shares(effects: dict[str, float]) -> dict[str, float]:
    """Each channel's share of the removal effects (they sum to 1; all 0 when no channel has an effect)."""
    total = sum(effects.values())
    return {c: e / total if total > 0 else 0.0 for c, e in effects.items()}


def _channel_weights(
    params: Params, paths: Sequence[Sequence[str]], conversions: Sequence[int], nulls: Sequence[int]
) -> ChannelWeights:
    """per_conversion: each touch weighs its channel's removal effect (the same in every channel set);
    total: every conversion is split over the channels by their share of the removal effects."""
    effects = markov_removal_effects(paths, conversions, nulls, int(params["order"]))
    if params["allocation"] == "total":
        return {EVERY_SET: removal_shares(effects)}
    return {s: {c: effects[c] for c in s} for s in converting_sets(paths, conversions)}


def _describe(params: Params) -> str:
    return f"order {params['order']}, allocation {params['allocation']}"


register(
    DataDriven(
        name="markov",
        parameters=(
            Parameter("order", 1, Annotated[int, Field(ge=1, le=4)]),
            Parameter("allocation", "per_conversion", Literal["per_conversion", "total"]),
        ),
        describe=_describe,
        channel_weights=_channel_weights,
    )
)
