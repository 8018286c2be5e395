"""A training's threads (train.training_threads) decide only its time: the same booster, bit for bit
(model string, parameters included), on one thread and on two, with and without early stopping."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from pipeline.models import train
from pipeline.models.train import DEFAULT_PARAMS, lightgbm_train, training_threads


def _frame(rng, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    X = pd.DataFrame(
        {
            "orders": rng.poisson(2.0, n).astype(float),
            "days_since": np.where(rng.random(n) < 0.3, np.nan, rng.exponential(20.0, n)),
            "spend": rng.gamma(2.0, 30.0, n),
            "city": pd.Categorical(rng.choice(["a", "b", "c", "d"], n)),
        }
    )
    logit = 0.6 * X["orders"] - 0.03 * X["days_since"].fillna(60) + 0.004 * X["spend"] - 1.0
    return X, (rng.random(n) < 1 / (1 + np.exp(-logit.to_numpy()))).astype(np.int32)


@pytest.mark.parametrize("metric", ["auc", "binary_logloss"])
def test_the_same_booster_on_one_thread_and_on_two(monkeypatch, metric):
    rng = np.random.default_rng(11)
    (X, y), (X_eval, y_eval) = _frame(rng, 4_000), _frame(rng, 2_000)
    params = {**DEFAULT_PARAMS, "metric": metric, "seed": 3}
    strings = []
    for threads in (1, 2):
        monkeypatch.setattr(train, "training_threads", lambda threads=threads: threads)
        data = lgb.Dataset(X, y, free_raw_data=False)
        valid = lgb.Dataset(X_eval, y_eval, reference=data)
        stop = lgb.early_stopping(15, first_metric_only=True, verbose=False)
        booster = lightgbm_train(params, data, 200, valid_sets=[valid], callbacks=[stop])
        strings.append((booster.best_iteration, booster.model_to_string()))
    (one_best, one), (two_best, two) = strings
    assert 0 < one_best < 200 and one_best == two_best
    assert "[num_threads: 1]" in one
    assert one == two


def test_threads_are_the_cores_no_other_task_runs_on(tmp_path):
    loadavg = tmp_path / "loadavg"
    for running, cores, threads in [(1, 2, 2), (2, 2, 1), (9, 2, 1), (1, 8, 8), (3, 8, 6), (1, 1, 1)]:
        loadavg.write_text(f"0.50 0.40 0.30 {running}/230 4242\n")
        assert training_threads(cores, str(loadavg)) == threads
    loadavg.write_text("garbled\n")
    assert training_threads(2, str(loadavg)) == 1
    assert training_threads(2, str(tmp_path / "missing")) == 1
