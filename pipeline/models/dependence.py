"""The dependence of a model's score on any of its features: each customer's value of the feature
and its SHAP value (LightGBM's ``pred_contrib``), coloured by an optional secondary feature, for a
seeded sample of the customers scored on a day; as a table, a binned summary and a plot.

``feature_dependence`` reads the warehouse and the model store; ``dependence_of`` is the pure part
(a booster and a feature frame), for anything that holds them (the read API, a notebook).
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd

from pipeline.core.warehouse import scalar
from pipeline.models import plots, store
from pipeline.models.config import ModelsConfig, ModelSpec
from pipeline.models.features import customer_features, model_input
from pipeline.models.predict import align
from pipeline.models.scoring import NoModelVersion, latest_finished
from pipeline.models.train import dependence
from pipeline.models.types import model_type

if TYPE_CHECKING:  # lightgbm is imported where a model is trained or loaded
    import lightgbm as lgb

ROWS = 1000  # customers in a dependence table (a seeded sample)
SEED = 7


@dataclass
class Dependence:
    model: str
    version: dt.date
    as_of: dt.date
    # customer_id, feature, value, shap, secondary_feature, secondary_value (one row per customer)
    table: pd.DataFrame

    def summary(self, bins: int = 10) -> pd.DataFrame:
        return summarise(self.table, bins)

    def plot(self) -> str:
        """The scatter of value against SHAP, as a Markdown image (PNG, base64)."""
        return plots.dependence_plot(self.table)

    def png(self) -> bytes:
        return base64.b64decode(self.plot().split("base64,", 1)[1].rstrip(")"))


def dependence_of(
    booster: lgb.Booster,
    X: pd.DataFrame,
    feature: str,
    secondary: str | None = None,
    best_iteration: int | None = None,
    rows: int = ROWS,
    seed: int = SEED,
) -> pd.DataFrame:
    """The dependence table of ``feature`` (and ``secondary``) over a seeded sample of ``rows`` rows of
    X (index: customer_id; the model's columns in its order)."""
    for name in (feature, secondary):
        if name is not None and name not in X.columns:
            raise LookupError(f"{name!r} is not a feature of the model; its features: {', '.join(X.columns)}")
    sample = np.sort(np.random.default_rng(seed).permutation(len(X))[:rows])
    X = X.iloc[sample]
    contributions = booster.predict(
        model_input(X, booster), pred_contrib=True, num_iteration=best_iteration or None
    )
    shap = np.asarray(contributions)[:, :-1]  # the last column is the base value
    return dependence(X.index.to_numpy(), X, shap, feature, secondary)


def summarise(table: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    """(value_from, value_to, customers, mean_shap) per quantile bin of the value (missing values in a
    last row with NaN bounds)."""
    values = table["value"].to_numpy(dtype=float)
    known = ~np.isnan(values)
    edges = np.unique(np.quantile(values[known], np.linspace(0, 1, bins + 1))) if known.any() else np.zeros(0)
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, max(len(edges) - 2, 0))
    index = np.where(known, index, -1)
    frame = pd.DataFrame({"bin": index, "value": values, "shap": table["shap"].to_numpy(dtype=float)})
    out = (
        frame.groupby("bin")
        .agg(
            value_from=("value", "min"),
            value_to=("value", "max"),
            customers=("shap", "size"),
            mean_shap=("shap", "mean"),
        )
        .reset_index()
    )
    out["order"] = np.where(out["bin"] < 0, np.iinfo(np.int64).max, out["bin"])
    return out.sort_values("order").drop(columns=["bin", "order"]).reset_index(drop=True)


def feature_dependence(
    con: duckdb.DuckDBPyConnection,
    config: ModelsConfig,
    spec: ModelSpec,
    store_dir: Path,
    feature: str,
    secondary: str | None = None,
    day: dt.date | None = None,
    rows: int = ROWS,
) -> Dependence:
    """The dependence of a response/churn model's score on ``feature`` among the customers scored on
    ``day`` (default: the last day with events), with the version in use that day."""
    if not model_type(spec.type).probability:
        raise LookupError(
            f"model {spec.name!r} is a {spec.type}: dependence tables are for response and churn models"
        )
    day = day or scalar(con, "SELECT max(_partition_date) FROM events")
    version = latest_finished(con, spec.name, day)
    if version is None:
        raise NoModelVersion(
            f"model {spec.name!r} has no FINISHED version on or before {day}: train it first"
        )
    booster, meta = store.load(store_dir, spec.name, version)
    spec = store.as_trained(spec, meta)
    X = align(customer_features(con, spec, day + dt.timedelta(days=1), scoring=True), meta["features"])
    table = dependence_of(booster, X, feature, secondary, meta.get("best_iteration"), rows)
    return Dependence(spec.name, version, day, table)
