"""Paths dictionary-encoded for the data-driven types: from Arrow as from Python lists, their channel
sets, and the learning from them equal to the learning from the lists."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from pipeline.attribution.types import markov
from pipeline.attribution.types.markov import markov_removal_effects
from pipeline.attribution.types.paths import Paths, small_unique
from pipeline.attribution.types.registry import converting_sets, model_type

# names whose sort is not their first letters' (a prefix, upper before lower case, beyond ASCII)
NAMES = ["A", "AB", "B", "a", "Display", "Email", "Search", "Zoë", "Zoe", "Z"]


def _paths(rng: np.random.Generator) -> list[list[str]]:
    k = int(rng.integers(1, len(NAMES) + 1))
    names = list(rng.choice(NAMES, size=k, replace=False))
    return [
        [names[i] for i in rng.integers(0, k, int(rng.integers(1, 9)))]
        for _ in range(int(rng.integers(1, 60)))
    ]


@pytest.mark.parametrize("seed", range(40))
def test_paths_from_arrow_equal_paths_from_lists(seed):
    rng = np.random.default_rng(seed)
    paths = _paths(rng)
    # a slice of a larger array, as each day of a range's table is read
    column = pa.array([["X"], *paths, ["Y", "X"]], type=pa.list_(pa.string())).slice(1, len(paths))
    encoded = Paths.of_arrow(column)
    assert encoded == Paths.of(paths) and hash(encoded) == hash(Paths.of(paths))
    assert encoded.names == tuple(sorted({c for p in paths for c in p}))
    assert encoded.lists() == [tuple(p) for p in paths]
    # as codes into more channels than the paths hold (the touches' channels, sorted)
    channels = sorted({*NAMES, "Zz"})
    codes = pa.array([[channels.index(c) for c in p] for p in [["Zz"], *paths]], type=pa.list_(pa.int64()))
    assert Paths.of_codes(codes.slice(1), channels) == encoded
    index, sets = encoded.sets()
    assert [sets[i] for i in index] == [frozenset(p) for p in paths]
    assert len(set(sets)) == len(sets)


@pytest.mark.parametrize("seed", range(20))
def test_learning_from_encoded_paths_equals_learning_from_lists(seed):
    rng = np.random.default_rng(seed)
    paths = _paths(rng)
    conv = rng.integers(0, 3, len(paths)).tolist()
    nulls = rng.integers(0, 5, len(paths)).tolist()
    conv[0] = 1
    encoded = Paths.of_arrow(pa.array(paths, type=pa.list_(pa.string())))
    want = sorted({frozenset(p) for p, c in zip(paths, conv, strict=True) if c > 0}, key=sorted)
    assert converting_sets(encoded, np.asarray(conv)) == want == converting_sets(paths, conv)
    for order in (1, 2, 3):
        assert markov_removal_effects(encoded, conv, nulls, order) == markov_removal_effects(
            [tuple(p) for p in paths], conv, nulls, order
        )
    shapley = model_type("shapley")
    params = {"maxExactChannels": 10, "samples": 200, "seed": 0}
    by_sets = shapley.channel_weights(params, encoded, np.asarray(conv), np.asarray(nulls))  # type: ignore[attr-defined]
    assert by_sets == _shapley_by_hand(paths, conv, nulls, params)


def _shapley_by_hand(paths, conv, nulls, params):
    """Shapley's weights as the type defines them, with Python dicts of frozensets."""
    from pipeline.attribution.types.shapley import shapley_values

    converted: dict[frozenset, int] = {}
    seen: dict[frozenset, int] = {}
    for p, c, n in zip(paths, conv, nulls, strict=True):
        converted[frozenset(p)] = converted.get(frozenset(p), 0) + c
        seen[frozenset(p)] = seen.get(frozenset(p), 0) + c + n
    rate = {s: converted[s] / seen[s] for s in converted if converted[s] > 0}
    sets = sorted({frozenset(p) for p, c in zip(paths, conv, strict=True) if c > 0}, key=sorted)
    return {s: shapley_values(sorted(s), rate, 10, 200, 0) for s in sets}


def test_an_empty_day_has_no_paths_and_no_sets():
    encoded = Paths.of_arrow(pa.array([], type=pa.list_(pa.string())))
    assert len(encoded) == 0 and encoded.names == () and encoded.lists() == []
    index, sets = encoded.sets()
    assert len(index) == 0 and sets == []


@pytest.mark.parametrize("seed", range(10))
def test_small_unique_is_numpys_unique_by_lookup(seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 50))
    values = rng.integers(0, size, int(rng.integers(0, 500)))
    used, at, rank = small_unique(values, size)
    expected, inverse = np.unique(values, return_inverse=True)
    assert used.tolist() == expected.tolist() and rank.tolist() == inverse.reshape(-1).tolist()
    assert values[at].tolist() == used.tolist()  # one position of each value (any one)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_the_chain_by_lookup_is_the_chain_by_sort(order, monkeypatch):
    rng = np.random.default_rng(order)
    for _ in range(20):
        paths = Paths.of(_paths(rng))
        markov._chain.cache_clear()
        by_lookup = markov._chain(paths, order)
        monkeypatch.setattr(markov, "SMALL_KEYS", 0)  # every key range is "large": np.unique's sort
        markov._chain.cache_clear()
        by_sort = markov._chain(paths, order)
        monkeypatch.undo()
        assert by_lookup.size == by_sort.size and by_lookup.holding == by_sort.holding
        for field in ("source", "target", "step_path", "last"):
            assert getattr(by_lookup, field).tolist() == getattr(by_sort, field).tolist()
    markov._chain.cache_clear()


@pytest.mark.parametrize("seed", range(10))
def test_first_order_windows_are_the_general_windows(seed):
    rng = np.random.default_rng(seed)
    paths = Paths.of(_paths(rng))
    rows, path, names = markov._windows(paths, 1)
    # the general code: the same paths with an empty one at the end (no shortcut for it) then cut off
    padded = Paths(paths.names, paths.codes, np.r_[paths.offsets, paths.offsets[-1]])
    all_rows, all_path, _ = markov._windows(padded, 1)
    keep = all_path < len(paths)
    assert rows.tolist() == all_rows[keep].tolist() and path.tolist() == all_path[keep].tolist()
    assert names == paths.names
