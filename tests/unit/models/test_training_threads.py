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
    (X, y), (X_eval, y_eval) = _frame(rng, 2_000), _frame(rng, 1_000)
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


def _tasks(folder, states: str):
    """A fake /proc/self/task: one thread per letter of ``states``, its stat line with that state."""
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*/stat"):
        old.unlink()
    for n, state in enumerate(states):
        (folder / str(100 + n)).mkdir(exist_ok=True)
        (folder / str(100 + n) / "stat").write_text(f"{100 + n} (worker (a) b) {state} 1 0 0 0 -1\n")
    return str(folder)


def test_threads_are_the_cores_no_other_process_runs_on(tmp_path):
    loadavg = tmp_path / "loadavg"
    cases = [
        # (running tasks, this process's threads' states, cores, threads)
        (1, "RS", 2, 2),  # only this process: every core
        (3, "RRS", 2, 1),  # one other process's task and a thread of its own: one core left
        (3, "RRR", 2, 2),  # its own DuckDB workers finishing a query are not another process
        (2, "R", 2, 1),
        (9, "RS", 2, 1),
        (1, "R", 8, 8),
        (4, "RS", 8, 5),
        (2, "S", 2, 1),  # a reading that caught none of its own threads running counts itself
        (1, "R", 1, 1),
    ]
    for running, states, cores, threads in cases:
        loadavg.write_text(f"0.50 0.40 0.30 {running}/230 4242\n")
        tasks = _tasks(tmp_path / "task", states)
        assert training_threads(cores, str(loadavg), tasks) == threads, (running, states, cores)
    loadavg.write_text("garbled\n")
    assert training_threads(2, str(loadavg), tasks) == 1
    assert training_threads(2, str(tmp_path / "missing"), tasks) == 1
