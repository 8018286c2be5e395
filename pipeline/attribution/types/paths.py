"""Paths of channels as the data-driven types read them: dictionary-encoded NumPy arrays.

A day's aggregated paths (sql/attribution/paths.sql) come as an Arrow list column of channel codes
(:meth:`Paths.of_codes`, without a Python object per path); :meth:`Paths.of_arrow` encodes a column
of channel names alike and :meth:`Paths.of` Python lists (tests, the bootstrap's replicates). The
types read the codes (Markov's chain states) and each path's channel set (:meth:`Paths.sets`:
Shapley's coalitions, the converting sets) as arrays.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def small_unique(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What ``np.unique(values, return_index=True, return_inverse=True)`` gives for integers in
    [0, ``size``), by lookup tables instead of a sort (O(len + size)): the distinct values in order, where
    one of each occurs (any one, not necessarily the first) and each value's rank among them."""
    seen = np.zeros(size, dtype=bool)
    seen[values] = True
    used = np.flatnonzero(seen)
    rank = np.zeros(size, dtype=np.int64)
    rank[used] = np.arange(len(used))
    where = np.zeros(size, dtype=np.int64)
    where[values] = np.arange(len(values))  # of repeated values, one position is kept
    return used, where[used], rank[values]


@dataclass(frozen=True, eq=False)
class Paths:
    """``names``: the channels the paths hold, sorted; ``codes``: every path's channels one after the
    other, as indices into ``names``; ``offsets``: where each path starts in ``codes`` (one more than
    the paths, the last is ``len(codes)``). Equal when their content is (a cache key)."""

    names: tuple[str, ...]
    codes: np.ndarray
    offsets: np.ndarray

    @classmethod
    def of(cls, paths: PathsLike) -> Paths:
        """Paths of Python sequences of channel names (a Paths is returned as it is)."""
        if isinstance(paths, Paths):
            return paths
        lengths = np.fromiter(map(len, paths), dtype=np.int64, count=len(paths))
        names = sorted(set(itertools.chain.from_iterable(paths)))
        code = {n: i for i, n in enumerate(names)}
        codes = np.fromiter(map(code.__getitem__, itertools.chain.from_iterable(paths)), dtype=np.int64)
        return cls(tuple(names), codes, np.r_[0, np.cumsum(lengths)].astype(np.int64))

    @classmethod
    def of_arrow(cls, paths: pa.Array | pa.ChunkedArray) -> Paths:
        """Paths of an Arrow list-of-strings array (or a slice of one)."""
        if isinstance(paths, pa.ChunkedArray):
            paths = paths.combine_chunks()
        lengths = pc.fill_null(pc.list_value_length(paths), 0).to_numpy(zero_copy_only=False).astype(np.int64)
        encoded = pc.dictionary_encode(paths.flatten())
        dictionary = encoded.dictionary
        order = pc.sort_indices(dictionary).to_numpy()  # byte order of UTF-8: Python's order of str
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        codes = rank[encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)]
        names = tuple(dictionary.take(pa.array(order)).to_pylist())
        return cls(names, codes, np.r_[0, np.cumsum(lengths)].astype(np.int64))

    @classmethod
    def of_codes(cls, paths: pa.Array | pa.ChunkedArray, channels: Sequence[str]) -> Paths:
        """Paths of an Arrow list-of-integers array (or a slice of one) of codes into ``channels``, which
        are sorted (only the channels the paths hold are kept)."""
        if isinstance(paths, pa.ChunkedArray):
            paths = paths.combine_chunks()
        lengths = pc.fill_null(pc.list_value_length(paths), 0).to_numpy(zero_copy_only=False).astype(np.int64)
        flat = paths.flatten().to_numpy(zero_copy_only=False).astype(np.int64)
        used, _, codes = small_unique(flat, len(channels))
        names = tuple(channels[i] for i in used.tolist())  # channels, not paths
        return cls(names, codes, np.r_[0, np.cumsum(lengths)].astype(np.int64))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def lists(self) -> list[tuple[str, ...]]:
        """The paths as tuples of channel names."""
        if not len(self):
            return []
        named = np.asarray(self.names, dtype=object)[self.codes]
        return [tuple(p) for p in np.split(named, self.offsets[1:-1])]

    @functools.cached_property
    def _key(self) -> tuple:
        return (self.names, self.codes.tobytes(), self.offsets.tobytes())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Paths) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    @functools.cached_property
    def _sets(self) -> tuple[np.ndarray, list[frozenset[str]]]:
        n, k = len(self), len(self.names)
        width = max(1, (k + 7) // 8)
        path = np.repeat(np.arange(n), self.lengths())
        bits = np.zeros((n, width), dtype=np.uint8)  # each path's channels as a bitmap
        np.bitwise_or.at(bits, (path, self.codes >> 3), np.left_shift(1, self.codes & 7).astype(np.uint8))
        keys = np.ascontiguousarray(bits).view(np.dtype((np.void, width))).ravel()
        distinct, index = np.unique(keys, return_inverse=True)
        members = distinct.view(np.uint8).reshape(len(distinct), width)
        held = np.unpackbits(members, axis=1, bitorder="little")
        sets = [frozenset(self.names[c] for c in np.flatnonzero(row)) for row in held]  # sets, not paths
        return index.reshape(-1), sets

    def sets(self) -> tuple[np.ndarray, list[frozenset[str]]]:
        """Each path's channel set, as an index into the distinct sets (listed in no particular order)."""
        return self._sets


PathsLike = Paths | Sequence[Sequence[str]]
Counts = Sequence[int] | Sequence[float] | np.ndarray  # each path's conversions (or nulls)
