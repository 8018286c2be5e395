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

from pipeline.attribution.types.paths import Counts, Paths, PathsLike, small_unique
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
# The chain's states are found by lookup tables when their keys number at most this (8 MB of them),
# else by a sort (np.unique): the same states, the lookup in linear time.
SMALL_KEYS = 1 << 20


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


def _windows(paths: Paths, order: int) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Every path's chain states as rows of channel codes (codes into the sorted channels, -1 padding a
    state shorter than ``order``), consecutive equal states collapsed (:func:`chain_states`, at once),
    with the path of each row."""
    lengths, codes, names = paths.lengths(), paths.codes, paths.names
    starts = np.cumsum(lengths) - lengths
    if order == 1 and len(paths) and lengths.min() > 0:  # a window is a touch: no padding, no offsets
        path = np.repeat(np.arange(len(paths)), lengths)
        first = np.zeros(len(codes), dtype=bool)
        first[starts] = True
        keep = first | (codes != np.roll(codes, 1))
        return codes[keep][:, None], path[keep], names
    counts = np.maximum(1, lengths - order + 1)  # windows per path
    path = np.repeat(np.arange(len(paths)), counts)
    j = np.arange(len(path)) - np.repeat(np.cumsum(counts) - counts, counts)  # the window's position
    offset = j[:, None] + np.arange(order)[None, :]
    inside = offset < lengths[path][:, None]
    rows = np.where(inside, codes[np.where(inside, starts[path][:, None] + offset, 0)], -1)
    keep = (j == 0) | (rows != np.roll(rows, 1, axis=0)).any(axis=1)
    return rows[keep], path[keep], names


# A bootstrap learns again from the same paths with other counts, one model after the other: one entry
# serves it. More would keep as many days' paths alive (gigabytes at SF1 in a backfill).
@functools.lru_cache(maxsize=1)
def _chain(paths: Paths, order: int) -> _Chain:
    """The chain of :func:`chain_states` over the paths, in NumPy: states sorted as their tuples of
    channels sort (a code row's -1 padding sorts a shorter state first, as a tuple prefix does)."""
    if not len(paths):
        empty = np.zeros(0, dtype=np.int64)
        return _Chain(size=0, source=empty, target=empty, step_path=empty, last=empty, holding={})
    rows, path, channels = _windows(paths, order)
    # a row as one number whose order is the rows' lexicographic order (-1 padding: digit 0)
    size = (len(channels) + 1) ** order
    keys = ((rows + 1) * (len(channels) + 1) ** np.arange(order - 1, -1, -1)[None, :]).sum(axis=1)
    if size <= SMALL_KEYS:  # a key is its row: any row of a key is the state's
        _, at, index = small_unique(keys, size)
    else:
        _, at, index = np.unique(keys, return_index=True, return_inverse=True)
    states, index = rows[at], index.reshape(-1) + 1
    first = np.r_[True, path[1:] != path[:-1]]
    source = np.where(first, 0, np.roll(index, 1))
    last = np.r_[first[1:], True]  # a path's last state: the next row starts another path
    held = (states[:, :, None] == np.arange(len(channels))[None, None, :]).any(axis=1)
    return _Chain(
        size=len(states),
        source=source,
        target=index,
        step_path=path,
        last=index[last],
        holding={c: (np.flatnonzero(held[:, i]) + 1).tolist() for i, c in enumerate(channels)},
    )


def markov_removal_effects(
    paths: PathsLike,
    conversions: Counts,
    nulls: Counts,
    order: int = 1,
) -> dict[str, float]:
    """Markov removal effects of a chain of ``order``, exactly: P(conversion) from the absorbing chain by a
    linear solve.

    States: start, each state of :func:`chain_states` seen in the paths, conversion, null. Transition
    counts come from the paths, each path weighted by its conversions + nulls and ending in conversion
    or null. The removal effect of channel c is 1 - P'(conversion) / P(conversion) where in P' every
    transition into a state holding c goes to null instead.
    """
    chain = _chain(Paths.of(paths), order)
    if not chain.holding:
        return {}
    k = chain.size
    conv, null = np.asarray(conversions, dtype=float), np.asarray(nulls, dtype=float)
    size = k + 3  # whole counts (bincount, faster than np.add.at): the sums do not depend on their order
    pairs = np.asarray(chain.source, dtype=np.int64) * size + np.asarray(chain.target, dtype=np.int64)
    weights = (conv + null)[chain.step_path]
    counts = np.bincount(pairs, weights=weights, minlength=size * size).reshape(size, size)
    counts[:, k + 1] += np.bincount(chain.last, weights=conv, minlength=size)
    counts[:, k + 2] += np.bincount(chain.last, weights=null, minlength=size)
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


def _channel_weights(params: Params, paths: PathsLike, conversions: Counts, nulls: Counts) -> ChannelWeights:
    """per_conversion: each touch weighs its channel's removal effect (the same in every channel set);
    total: every conversion is split over the channels by their share of the removal effects."""
    paths = Paths.of(paths)
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
