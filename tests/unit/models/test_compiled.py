"""A version's trees compiled to machine code score every row as LightGBM does, bit for bit; the
compiled code is kept beside the version and reused; a forest that scores otherwise is not used."""

from __future__ import annotations

import datetime as dt

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from pipeline.models import compiled, store
from pipeline.models.features import model_input
from pipeline.models.predict import predict, predict_distinct

VERSION = dt.date(2026, 3, 1)


def _numeric(rng, n: int) -> np.ndarray:
    X = np.column_stack(
        [
            rng.poisson(0.7, n).astype(float),
            np.where(rng.random(n) < 0.3, np.nan, rng.exponential(30, n)),
            rng.random(n) * (rng.random(n) < 0.6),
            np.where(rng.random(n) < 0.05, 1e-40, rng.normal(size=n)),
        ]
    )
    X[::13, 2] = -0.0
    return X


def _labels(X: np.ndarray, rng) -> np.ndarray:
    return ((np.nan_to_num(X[:, 1], nan=90.0) < 20) ^ (X[:, 0] > 1) ^ (X[:, 3] > rng.normal())).astype(int)


def _saved(tmp_path, booster: lgb.Booster, meta: dict, name: str = "m") -> dict:
    store.save(tmp_path, name, VERSION, booster, meta)
    loaded, meta = store.load(tmp_path, name, VERSION)
    return store.load_compiled(tmp_path, name, VERSION, loaded, meta)


PARAMS = {"objective": "binary", "verbose": -1, "num_threads": 1, "seed": 1, "num_leaves": 15}


@pytest.mark.parametrize("extra", [{}, {"use_missing": False}, {"objective": "regression"}])
def test_compiled_trees_score_every_row_as_lightgbm_bit_for_bit(tmp_path, extra):
    rng = np.random.default_rng(5)
    X = _numeric(rng, 4000)
    booster = lgb.train({**PARAMS, **extra}, lgb.Dataset(X, _labels(X, rng)), num_boost_round=30)
    meta = {"best_iteration": 24}  # scored with its first 24 trees, as LightGBM's num_iteration
    scored = _numeric(np.random.default_rng(6), 30_000)
    with_forest = _saved(tmp_path, booster, meta)
    assert compiled.FOREST in with_forest
    raw = with_forest[compiled.FOREST].predict(scored, n_jobs=2)
    want = booster.predict(scored, num_iteration=24)
    assert np.array_equal(raw, want)  # the compiled forest itself, every row
    assert np.array_equal(predict(booster, scored, with_forest), predict(booster, scored, meta))
    assert np.array_equal(predict_distinct(booster, scored, with_forest), want)
    assert not np.array_equal(want, booster.predict(scored))  # the 24 trees were what it compiled


def test_categories_and_calibration_score_as_lightgbm(tmp_path):
    rng = np.random.default_rng(8)
    n = 3000
    frame = pd.DataFrame(
        {
            "num_a": rng.normal(size=n),
            "txt_city": pd.Categorical(rng.choice(["oslo", "rome", "lima", None], n)),
            "cnt_b": rng.poisson(1.5, n).astype(float),
        }
    )
    y = ((frame["txt_city"] == "rome").to_numpy() ^ (frame["num_a"].to_numpy() > 0.3)).astype(int)
    booster = lgb.train({**PARAMS, "min_data_per_group": 5}, lgb.Dataset(model_input(frame), y), 25)
    meta = {"calibrator": {"method": "platt", "a": 1.3, "b": -0.2}}
    later = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)  # the same texts in other rows
    later["txt_city"] = pd.Categorical(later["txt_city"].astype(object), categories=["lima", "oslo", "rome"])
    got = predict(booster, later, _saved(tmp_path, booster, meta))
    assert np.array_equal(got, predict(booster, later, meta))
    assert len(np.unique(got)) > 5


@pytest.mark.parametrize("extra", [{"zero_as_missing": True}, {"linear_tree": True}])
def test_a_version_the_compiler_would_score_otherwise_is_scored_by_lightgbm(tmp_path, extra):
    rng = np.random.default_rng(5)
    X = np.nan_to_num(_numeric(rng, 4000)) if extra.get("linear_tree") else _numeric(rng, 4000)
    booster = lgb.train({**PARAMS, **extra}, lgb.Dataset(X, _labels(X, rng)), 30)
    assert compiled.unsupported(booster)
    meta = _saved(tmp_path, booster, {})
    assert compiled.FOREST not in meta
    scored = _numeric(np.random.default_rng(6), 5000)  # values within 1e-35 of 0 among them
    assert np.array_equal(predict(booster, scored, meta), booster.predict(scored))


def test_the_compiled_forest_is_kept_beside_the_version_and_reused(tmp_path):
    rng = np.random.default_rng(9)
    X = _numeric(rng, 2000)
    booster = lgb.train(PARAMS, lgb.Dataset(X, _labels(X, rng)), num_boost_round=10)
    _saved(tmp_path, booster, {})
    folder = store.version_dir(tmp_path, "m", VERSION)
    kept = sorted(folder.glob(f"{compiled.FILE_PREFIX}*"))
    assert len(kept) == 1 and kept[0].stat().st_size > 0
    stamp = kept[0].stat().st_mtime_ns
    loaded, meta = store.load(tmp_path, "m", VERSION)
    again = store.load_compiled(tmp_path, "m", VERSION, loaded, meta)  # read, not compiled again
    assert sorted(folder.glob(f"{compiled.FILE_PREFIX}*")) == kept and kept[0].stat().st_mtime_ns == stamp
    assert np.array_equal(again[compiled.FOREST].predict(X), booster.predict(X))
    assert not list(folder.glob("*.tmp"))
    store.save(tmp_path, "m", VERSION, booster, {})  # a version saved again starts without it
    assert not list(folder.glob(f"{compiled.FILE_PREFIX}*"))


def test_a_forest_that_scores_otherwise_is_not_used(tmp_path, caplog):
    rng = np.random.default_rng(10)
    X = _numeric(rng, 2000)
    y = _labels(X, rng)
    booster = lgb.train(PARAMS, lgb.Dataset(X, y), num_boost_round=12)
    other = lgb.train({**PARAMS, "seed": 2, "num_leaves": 4}, lgb.Dataset(X, 1 - y), num_boost_round=12)
    wrong = {compiled.FOREST: _saved(tmp_path, other, {}, name="other")[compiled.FOREST]}
    with caplog.at_level("WARNING"):
        got = predict(booster, X, wrong)
    assert np.array_equal(got, booster.predict(X))  # LightGBM's own, not the other forest's
    assert not np.array_equal(wrong[compiled.FOREST].predict(X), got)
    assert "LightGBM used" in caplog.text


def test_a_compile_started_in_the_background_is_waited_for_and_its_file_read(tmp_path):
    rng = np.random.default_rng(11)
    X = _numeric(rng, 3000)
    booster = lgb.train(PARAMS, lgb.Dataset(X, _labels(X, rng)), num_boost_round=20)
    meta = {"best_iteration": 15}
    store.save(tmp_path, "m", VERSION, booster, meta)
    folder = store.version_dir(tmp_path, "m", VERSION)
    store.compile_soon(tmp_path, "m", VERSION)
    store.compile_soon(tmp_path, "m", VERSION)  # started once
    compiled.wait(folder)
    kept = sorted(folder.glob(f"{compiled.FILE_PREFIX}*"))
    assert len(kept) == 1  # written by the background compile, before any scoring
    stamp = kept[0].stat().st_mtime_ns
    loaded, meta = store.load(tmp_path, "m", VERSION)
    scored = store.load_compiled(tmp_path, "m", VERSION, loaded, meta)  # reads it, compiles nothing
    assert sorted(folder.glob(f"{compiled.FILE_PREFIX}*")) == kept and kept[0].stat().st_mtime_ns == stamp
    assert np.array_equal(scored[compiled.FOREST].predict(X), booster.predict(X, num_iteration=15))
    assert not list(folder.glob("*.tmp"))


def test_a_scoring_waits_for_the_background_compile_of_its_version(tmp_path):
    rng = np.random.default_rng(12)
    X = _numeric(rng, 3000)
    booster = lgb.train(PARAMS, lgb.Dataset(X, _labels(X, rng)), num_boost_round=40)
    store.save(tmp_path, "m", VERSION, booster, {})
    store.compile_soon(tmp_path, "m", VERSION)
    loaded, meta = store.load(tmp_path, "m", VERSION)
    scored = store.load_compiled(tmp_path, "m", VERSION, loaded, meta)  # at once: waits for it
    folder = store.version_dir(tmp_path, "m", VERSION)
    assert len(list(folder.glob(f"{compiled.FILE_PREFIX}*"))) == 1 and not list(folder.glob("*.tmp"))
    assert np.array_equal(scored[compiled.FOREST].predict(X), booster.predict(X))
