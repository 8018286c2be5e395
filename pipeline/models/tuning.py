"""The optional bounded hyperparameter search (``tuning: {trials, seconds}``): Optuna's TPE sampler,
seeded, each trial a LightGBM training on the training split scored by its early-stopping metric on
the evaluation split (never the test split, which stays for the honest measure and the champion)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pipeline.models.config import ModelSpec
from pipeline.models.train import EARLY_STOPPING_METRIC, fit

if TYPE_CHECKING:
    import optuna

# the metrics LightGBM reports where larger is better (the rest, binary_logloss, smaller)
GREATER_IS_BETTER = ("auc", "average_precision")


def search_space(trial: optuna.Trial) -> dict:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 4, 127, log=True),
        "min_data_in_leaf": trial.suggest_int("min_data_in_leaf", 5, 500, log=True),
        "feature_fraction": trial.suggest_float("feature_fraction", 0.5, 1.0),
        "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 100.0, log=True),
    }


def tune(spec: ModelSpec, X: pd.DataFrame, y: np.ndarray, parts: np.ndarray, weigh_rare: bool = True) -> dict:
    """The best parameters found within ``spec.tuning``'s trials and seconds (a rare class weighted up
    with ``weigh_rare``, as the training will: pipeline/models/train.py ``scaled_params``)."""
    assert spec.tuning is not None
    import optuna  # here, not at the top: only a tuned training needs it (a night imports the module)

    optuna.logging.set_verbosity(logging.WARNING)

    def objective(trial: optuna.Trial) -> float:
        booster, params = fit(spec, X, y, parts, search_space(trial), weigh_rare=weigh_rare)
        return float(booster.best_score["evaluation"][params["metric"]])

    metric = EARLY_STOPPING_METRIC[spec.objective]
    study = optuna.create_study(
        direction="maximize" if metric in GREATER_IS_BETTER else "minimize",
        sampler=optuna.samplers.TPESampler(seed=spec.seed),
    )
    study.optimize(objective, n_trials=spec.tuning.trials, timeout=spec.tuning.seconds)
    return dict(study.best_params)
