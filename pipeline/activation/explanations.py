"""What a customer's waterfall needs beyond the explanation tables: each model version's base value.

A waterfall is the base value (the model's expected raw score, log-odds) plus each feature's SHAP
value. LightGBM returns the base value as the last column of ``pred_contrib``; in its TreeSHAP it is
the trees' expected value over the training data, the same for every input, so it is read off the
model file with one row of missing values. The published snapshot carries it as ``model_base_values``
(model, version, base_value) beside ``model_beeswarm``, whose sampled customers' SHAP values of the
model's top features are the waterfall's steps (the read API's ``.../waterfall``).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from pipeline.core.sql import sql
from pipeline.core.warehouse import table_exists

BASE_VALUES = "model_base_values"


def base_value(booster) -> float:
    """The booster's expected raw score: the bias column of ``pred_contrib`` (input-independent)."""
    row = np.full((1, booster.num_feature()), np.nan)
    contrib = np.asarray(
        booster.predict(row, pred_contrib=True, num_iteration=booster.best_iteration or None)
    )
    return float(contrib[0, -1])


def base_values(con: duckdb.DuckDBPyConnection, models: Path) -> pa.Table | None:
    """(model, version, base_value) of every version with a LightGBM model file in the store
    ``models``; None without model_trainings."""
    if not table_exists(con, "model_trainings"):
        return None
    # here, not at the top: a publication without models (a `nightjar` command's own process) does
    # not pay for LightGBM and the models' imports
    from pipeline.models import store

    rows: list[tuple] = []
    for model, version in con.execute(sql("activation/trained_versions")).fetchall():
        try:
            booster, _ = store.load(models, model, version)
        except FileNotFoundError:  # a type that fits itself (clv) has no booster, or the file is gone
            continue
        rows.append((model, version, base_value(booster)))
    return pa.table(
        {
            "model": pa.array([r[0] for r in rows], pa.string()),
            "version": pa.array([r[1] for r in rows], pa.date32()),
            "base_value": pa.array([r[2] for r in rows], pa.float64()),
        }
    )
