"""Bootstrap intervals of every model's credited conversions and value per channel, for one day.

A replicate draws the day's conversions with replacement (as many as there are, within each conversion
source) as multinomial counts ``w`` per conversion; the data-driven models also redraw their
non-converting paths (as many as there are) and learn again from the redrawn paths. A rule-based
model's credits of a conversion do not change, so its replicates are one product ``W @ S`` of the
counts and the conversions' shares; a data-driven model's replicates are one learning each. The
interval is the replicates' percentile interval at ``LEVEL``.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.attribution.types.registry import EVERY_SET, ChannelWeights, DataDriven, Params

LEVEL = 0.95


def day_rng(seed: int, day_ordinal: int, model: str | None = None) -> np.random.Generator:
    """The generator of a day (and model): re-running a day draws the same replicates, and a model's
    replicates do not depend on which other models there are."""
    key = [seed, day_ordinal] + ([zlib.crc32(model.encode())] if model is not None else [])
    return np.random.default_rng(key)


def resample_counts(rng: np.random.Generator, strata: np.ndarray, replicates: int) -> np.ndarray:
    """(replicates x n) multinomial counts: each replicate draws, within each stratum (e.g. a conversion
    source), as many items as the stratum holds, uniformly with replacement."""
    counts = np.zeros((replicates, len(strata)))
    for s in np.unique(strata):  # a loop over the strata (the config's conversion sources), not rows
        members = np.flatnonzero(strata == s)
        uniform = np.full(len(members), 1 / len(members))
        counts[:, members] = rng.multinomial(len(members), uniform, replicates)
    return counts


def percentile_interval(samples: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """The lower and upper percentile bounds over the first axis (the replicates)."""
    tail = (1 - level) / 2
    lower, upper = np.quantile(samples, [tail, 1 - tail], axis=0)
    return lower, upper


@dataclass(frozen=True)
class LearntPaths:
    """A data-driven model's day: its conversions with a touch (``rows``: their index among the day's
    conversions; ``path_of``: their path's index in ``paths``) and its non-converting paths with their
    counts."""

    rows: np.ndarray
    path_of: np.ndarray
    paths: list[tuple[str, ...]]
    null_paths: list[tuple[str, ...]]
    null_counts: np.ndarray

    def touches(self, channels: Sequence[str]) -> np.ndarray:
        """(paths x channels) how many touches of each channel each converting path has."""
        col = {c: j for j, c in enumerate(channels)}
        counts = np.zeros((len(self.paths), len(channels)))
        for i, p in enumerate(self.paths):  # a loop over the distinct paths (as the learning itself)
            np.add.at(counts[i], [col[c] for c in p], 1.0)
        return counts


def conversion_shares(
    weights: ChannelWeights,
    paths: Sequence[Sequence[str]],
    touches: np.ndarray,
    channels: Sequence[str],
    split: bool,
) -> np.ndarray:
    """(paths x channels) each converting path's shares, as sql/attribution/data_driven_shares.sql and
    data_driven_totals.sql give them: a touch weighs its channel's weight in the path's channel set
    (split over the channel's touches when ``split``), normalised; equal per touch when they sum to 0;
    the weights under EVERY_SET whatever the path."""
    col = {c: j for j, c in enumerate(channels)}
    if EVERY_SET in weights:
        shares = np.zeros(len(channels))
        for c, w in weights[EVERY_SET].items():
            shares[col[c]] = w
        return np.broadcast_to(shares, touches.shape).copy()
    per_channel = np.zeros_like(touches)
    for i, p in enumerate(paths):  # ``touches`` holds each path's touches per channel
        for c, w in weights.get(frozenset(p), {}).items():
            per_channel[i, col[c]] = w
    weighed = per_channel * (touches > 0) if split else per_channel * touches
    totals = weighed.sum(axis=1, keepdims=True)
    equal = touches / touches.sum(axis=1, keepdims=True)
    return np.where(totals != 0, weighed / np.where(totals != 0, totals, 1.0), equal)


def redraw_nulls(rng: np.random.Generator, null_counts: np.ndarray, replicates: int) -> np.ndarray:
    """(replicates x paths) the non-converting paths redrawn: as many as there are, with replacement."""
    n = int(null_counts.sum())
    return rng.multinomial(n, null_counts / n, replicates) if n else np.zeros((replicates, len(null_counts)))


def data_driven_replicates(
    kind: DataDriven,
    params: Params,
    learnt: LearntPaths,
    counts: np.ndarray,
    nulls: np.ndarray,
    values: np.ndarray,
    strata: np.ndarray,
    channels: Sequence[str],
) -> tuple[np.ndarray, np.ndarray]:
    """(replicates x strata x channels) a data-driven model's credited conversions and value of its
    conversions with a touch: each replicate learns from the redrawn paths and credits the redrawn
    conversions. ``counts``: the day's conversions' replicate counts (``values``, ``strata``: theirs);
    ``nulls``: the non-converting paths' replicate counts."""
    replicates, n_strata = counts.shape[0], int(strata.max()) + 1
    onehot = np.eye(n_strata)[strata[learnt.rows]]  # the model's conversions x strata
    conv_out = np.zeros((replicates, n_strata, len(channels)))
    value_out = np.zeros_like(conv_out)
    all_paths = [*learnt.paths, *learnt.null_paths]
    zeros_conv, zeros_null = [0] * len(learnt.paths), [0] * len(learnt.null_paths)
    touches = learnt.touches(channels)
    for b in range(replicates):  # one learning per replicate
        w = counts[b, learnt.rows]
        per_path = np.bincount(learnt.path_of, weights=w, minlength=len(learnt.paths))
        conv_b, null_b = per_path.round().astype(int).tolist(), nulls[b].astype(int).tolist()
        weights = kind.channel_weights(params, all_paths, [*conv_b, *zeros_null], [*zeros_conv, *null_b])
        shares = conversion_shares(weights, learnt.paths, touches, channels, kind.split_over_touches)
        shares = shares[learnt.path_of]
        conv_out[b] = onehot.T @ (w[:, None] * shares)
        value_out[b] = onehot.T @ ((w * values[learnt.rows])[:, None] * shares)
    return conv_out, value_out
