"""Scoring helpers: predicting the distinct rows only gives every row's own score."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pyarrow as pa
import pytest

from pipeline.models.predict import predict, predict_distinct, split_cells, split_thresholds
from pipeline.models.recommend import Grid


def _booster(rng):
    X = rng.normal(size=(400, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=400) > 0).astype(int)
    return lgb.train(
        {"objective": "binary", "verbose": -1, "num_threads": 1, "seed": 1},
        lgb.Dataset(X, y),
        num_boost_round=20,
    )


def test_predicting_distinct_rows_gives_the_score_of_every_row():
    rng = np.random.default_rng(3)
    booster = _booster(rng)
    base = rng.normal(size=(50, 4))
    base[::7, 2] = np.nan  # missing values repeat too
    X = base[rng.integers(0, 50, size=3000)]  # 3000 rows, 50 distinct
    X[5] = [0.0, -0.0, np.nan, 1.0]  # -0.0 and 0.0: other bits, scored on their own
    X[6] = [-0.0, 0.0, np.nan, 1.0]
    got = predict_distinct(booster, X, {})
    want = predict(booster, X, {})
    assert got.shape == (3000,) and np.array_equal(got, want)
    assert len(np.unique(got)) <= 52 and len(np.unique(got)) > 10  # the rows did repeat, and differ
    assert np.array_equal(predict_distinct(booster, X[:1], {}), want[:1])
    assert predict_distinct(booster, np.zeros((0, 4)), {}).shape == (0,)


def _candidates_like(rng, n: int) -> np.ndarray:
    """Rows like a recommender's candidates: counts, continuous ages with missing values, exact zeros,
    values in LightGBM's zero band, and a column no split will use."""
    X = np.column_stack(
        [
            rng.poisson(0.7, n).astype(float),
            np.where(rng.random(n) < 0.4, np.nan, rng.exponential(30, n)),
            rng.random(n) * (rng.random(n) < 0.6),
            np.where(rng.random(n) < 0.05, 1e-40, rng.normal(size=n)),
            np.zeros(n),
        ]
    )
    X[::11, 2] = -0.0
    return X


@pytest.mark.parametrize("extra", [{}, {"zero_as_missing": True}, {"use_missing": False}])
def test_scores_of_split_cells_are_every_rows_own_score_bit_for_bit(extra):
    rng = np.random.default_rng(11)
    X = _candidates_like(rng, 6000)
    y = ((np.nan_to_num(X[:, 1], nan=90.0) < 20) ^ (X[:, 0] > 1) ^ (X[:, 3] > 0.5)).astype(int)
    params = {"objective": "binary", "verbose": -1, "num_threads": 1, "seed": 1, "num_leaves": 31}
    booster = lgb.train({**params, **extra}, lgb.Dataset(X, y), num_boost_round=40)
    scored = _candidates_like(np.random.default_rng(12), 20_000)
    cells = split_cells(booster, scored)
    distinct = len(np.unique(np.nan_to_num(cells, nan=-7.0), axis=0))
    if not extra.get("zero_as_missing"):  # far fewer distinct rows to walk the trees for
        assert distinct < len(np.unique(np.nan_to_num(scored, nan=-7.0), axis=0)) / 2
    assert np.array_equal(predict(booster, cells, {}), predict(booster, scored, {}))
    assert np.array_equal(predict_distinct(booster, scored, {}), predict(booster, scored, {}))
    assert (cells[:, 4] == 0).all() and 4 not in split_thresholds(booster)  # no split uses it
    if extra.get("zero_as_missing"):  # a zero-is-missing feature keeps its values (as LightGBM reads them)
        kept = [j for j, th in split_thresholds(booster).items() if th is None]
        read = np.where(np.abs(scored) <= 1e-35, 0.0, scored)
        assert kept and all(np.array_equal(cells[:, j], read[:, j], equal_nan=True) for j in kept)


def test_the_top_k_ranked_on_the_grid_matches_the_pandas_ranking_ties_by_item_name():
    import pandas as pd

    from pipeline.models.recommend import scored_top_k, top_k

    rng = np.random.default_rng(5)  # customers and items in no order, as assemble lays them out
    customers = np.repeat(rng.permutation([f"C{i:03d}" for i in range(40)]), 12)
    items = np.tile(rng.permutation([f"item{j:02d}" for j in range(12)]), 40)
    scores = rng.integers(0, 4, size=len(items)) / 4  # many ties: the item name breaks them
    table = pa.table({"customer_id": customers, "item": items})
    got = scored_top_k(table, scores, 3)
    want = top_k(pd.DataFrame({"customer_id": customers, "item": items, "s": scores}), "s", 3)
    assert got["customer_id"].tolist() == sorted(set(customers))
    expected = want.groupby("customer_id")["item"].apply(list)
    assert [list(x) for x in got["items"]] == [expected[c] for c in got["customer_id"]]
    assert np.allclose(
        got["score"], want.groupby("customer_id")["score"].max().reindex(got["customer_id"]).to_numpy()
    )
    assert all(len(x) == 3 for x in got["items"])
    every = scored_top_k(table, scores, 20)  # k above a customer's candidates: all of them, best first
    ranked = top_k(pd.DataFrame({"customer_id": customers, "item": items, "s": scores}), "s", 20)
    expected = ranked.groupby("customer_id")["item"].apply(list)
    assert [list(x) for x in every["items"]] == [expected[c] for c in every["customer_id"]]
    assert all(len(x) == 12 for x in every["items"])
    one = scored_top_k(table.slice(0, 12), scores[:12], 2)  # one customer
    assert list(one["items"][0]) == expected[customers[0]][:2] and one["score"][0] == scores[:12].max()
    assert scored_top_k(table.slice(0, 0), scores[:0], 2).empty


def test_shap_values_and_scores_of_numeric_rows_are_every_rows_own_bit_for_bit():
    import pandas as pd

    from pipeline.models.train import per_cell, shap_values

    rng = np.random.default_rng(13)
    X = _candidates_like(rng, 4000)
    y = ((np.nan_to_num(X[:, 1], nan=90.0) < 20) ^ (X[:, 0] > 1)).astype(int)
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "num_threads": 1, "seed": 1}, lgb.Dataset(X, y), 30
    )
    frame = pd.DataFrame(_candidates_like(np.random.default_rng(14), 5000), columns=list("abcde"))
    shap, base = shap_values(booster, frame)
    want = booster.predict(frame.to_numpy(), pred_contrib=True)
    assert np.array_equal(shap, want[:, :-1]) and np.array_equal(base, want[:, -1])
    assert np.allclose(shap.sum(axis=1) + base, booster.predict(frame.to_numpy(), raw_score=True))
    # a training's test scores are predicted per distinct cell the same way, bit for bit
    for iteration in (None, 12):
        want_p = booster.predict(frame.to_numpy(), num_iteration=iteration)
        assert np.array_equal(per_cell(booster, frame, iteration), want_p)


def test_cells_scored_on_an_earlier_night_are_reused_and_every_score_equals_a_full_rescoring(tmp_path):
    import datetime as dt

    from pipeline.models import store
    from pipeline.models.predict import CellScores

    rng = np.random.default_rng(21)
    X = _candidates_like(rng, 6000)
    y = ((np.nan_to_num(X[:, 1], nan=90.0) < 20) ^ (X[:, 0] > 1)).astype(int)
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "num_threads": 1, "seed": 1}, lgb.Dataset(X, y), 30
    )
    night1 = _candidates_like(np.random.default_rng(22), 8000)
    night2 = np.vstack([night1[:5000], _candidates_like(np.random.default_rng(23), 3000)])  # a part is new
    memo = CellScores()
    assert np.array_equal(predict_distinct(booster, night1, {}, memo), predict(booster, night1, {}))
    assert 0 < len(memo.keys) < len(night1)
    version = dt.date(2026, 3, 1)
    store.version_dir(tmp_path, "m", version).mkdir(parents=True)
    store.save_cells(tmp_path, "m", version, memo)
    kept = store.load_cells(tmp_path, "m", version)
    assert np.array_equal(kept.keys, memo.keys) and np.array_equal(kept.scores, memo.scores)
    assert np.array_equal(predict_distinct(booster, night2, {}, kept), predict(booster, night2, {}))
    # the known cells were not predicted again: a memo with other scores gives those back
    poisoned = CellScores(memo.keys, np.full(len(memo.scores), -1.0))
    assert (predict_distinct(booster, night1, {}, poisoned) == -1.0).all()
    assert len(store.load_cells(tmp_path, "m", dt.date(2026, 3, 2)).keys) == 0  # none yet


def test_cell_keys_of_many_features_span_words_and_group_as_the_split_cells():
    from pipeline.models.predict import cell_keys, distinct_cells

    rng = np.random.default_rng(31)
    X = rng.normal(size=(5000, 12))
    X[::9, 3] = np.nan
    y = (X[:, :6].sum(axis=1) + rng.normal(size=5000) > 0).astype(int)
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "num_threads": 1, "seed": 1, "num_leaves": 63},
        lgb.Dataset(X, y),
        80,
    )
    base = rng.normal(size=(2000, 12))
    scored = base[rng.integers(0, 2000, 20_000)] + rng.normal(scale=1e-9, size=(20_000, 12))  # same cells
    keys = cell_keys(booster, scored)
    assert keys.shape == (20_000, 2)  # twelve features of ~100 cells each take more than 64 bits
    by_cells = np.unique(np.nan_to_num(split_cells(booster, scored), nan=-7.0), axis=0, return_inverse=True)[
        1
    ]
    by_keys = np.unique(keys, axis=0, return_inverse=True)[1]
    assert len(np.unique(by_keys)) == len(np.unique(by_cells)) < len(scored)
    assert np.array_equal(np.unique(np.column_stack([by_keys, by_cells]), axis=0)[:, 0], np.unique(by_keys))
    rows, codes = distinct_cells(booster, scored)
    assert np.array_equal(predict(booster, rows, {})[codes], predict(booster, scored, {}))
    assert np.array_equal(predict_distinct(booster, scored, {}), predict(booster, scored, {}))


@pytest.mark.parametrize("extra", [{}, {"zero_as_missing": True}])
def test_a_grid_scores_from_its_columns_as_from_the_matrix_of_its_rows(extra):
    """The recommender's grid is scored from its columns as they are (a customer's or an item's own
    figure a view repeating it, its cells found once): the same keys, cells and scores, bit for bit,
    as the matrix of its rows customer by customer."""
    from pipeline.models.predict import cell_keys, distinct_cells

    rng = np.random.default_rng(9)
    n, k = 400, 15
    X = _candidates_like(rng, 6000)
    y = ((np.nan_to_num(X[:, 1], nan=90.0) < 20) ^ (X[:, 0] > 1) ^ (X[:, 3] > 0.5)).astype(int)
    params = {"objective": "binary", "verbose": -1, "num_threads": 1, "seed": 1, "num_leaves": 31}
    booster = lgb.train({**params, **extra}, lgb.Dataset(X, y), num_boost_round=40)
    own = _candidates_like(rng, n + k)
    full = _candidates_like(rng, n * k)
    columns = {
        "count": full[:, 0].reshape(n, k),
        "age": np.broadcast_to(own[:n, 1][:, None], (n, k)),  # a customer's own (NaN included)
        "share": np.broadcast_to(own[n:, 2], (n, k)),  # an item's own (-0.0 included)
        "score": full[:, 3].reshape(n, k),
        "unused": np.broadcast_to(np.zeros(k), (n, k)),
    }
    grid = Grid(
        pa.chunked_array([pa.array([f"c{i}" for i in range(n)])]), pa.array(list("abcdefghijklmno")), columns
    )
    order = ["count", "age", "share", "score", "unused"]
    cols = grid.feature_columns(order)
    assert all(c is columns[f] for c, f in zip(cols, order, strict=True))  # as they are, not copied
    rows = np.column_stack([c.reshape(-1) for c in cols])  # customer by customer, as Grid.table
    if extra:
        assert any(th is None for th in split_thresholds(booster).values())  # a value kept as it is
    assert np.array_equal(cell_keys(booster, cols), cell_keys(booster, rows))
    (a, codes_a), (b, codes_b) = distinct_cells(booster, cols), distinct_cells(booster, rows)
    assert np.array_equal(a, b, equal_nan=True) and np.array_equal(codes_a, codes_b) and len(a) < n * k
    assert np.array_equal(predict_distinct(booster, cols, {}), predict(booster, rows, {}))
    assert np.array_equal(predict(booster, np.asfortranarray(rows), {}), predict(booster, rows, {}))
    empty = Grid(pa.chunked_array([pa.array([], pa.string())]), pa.array(list("ab")), {"a": np.zeros((0, 2))})
    assert predict_distinct(booster, empty.feature_columns(["a"] * 5), {}).shape == (0,)


@pytest.mark.parametrize("band", [False, True])
def test_cells_between_thresholds_read_near_zero_values_as_zero_and_nan_as_its_own_cell(band):
    from pipeline.models.predict import _cells

    rng = np.random.default_rng(5 + band)
    th = np.sort(rng.normal(size=30))
    if band:  # thresholds within LightGBM's zero band: a value there is read as 0, not as itself
        th = np.sort(np.concatenate([th, [-1e-35, -4e-36, 0.0, 6e-36]]))
    values = np.concatenate(
        [rng.normal(size=5000), th, [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-36, -1e-36, 1e-40, -1e-35, 1e-35]]
    )
    read = np.where(np.abs(values) <= 1e-35, 0.0, values)
    want = np.where(np.isnan(read), len(th) + 1, np.searchsorted(th, read, side="left"))
    assert np.array_equal(_cells(th, values), want.astype(np.uint64))
    assert band == (
        len(np.unique(_cells(th, values[-7:]))) < len(np.unique(np.searchsorted(th, values[-7:])))
    )
