"""The binary classifiers (response, churn): one row per customer of the population, the label
from the label rules (or a customer list) in the label window."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, ClassVar

import duckdb
import numpy as np
import pandas as pd

from pipeline.core.settings import at
from pipeline.models import metrics as m
from pipeline.models.config import ModelsConfig, ModelSpec
from pipeline.models.features import TrainingWindow, customer_features, labels
from pipeline.models.predict import CellScores, align, boosted, predict, scoring_features
from pipeline.models.types.base import ModelType, Prepared

if TYPE_CHECKING:  # lightgbm is imported where a model is trained or loaded
    import lightgbm as lgb


class BinaryClassifier(ModelType):
    """A probability per customer; ``inverted`` types label the customers WITHOUT a qualifying event."""

    inverted: ClassVar[bool] = False

    def check(self, spec: ModelSpec) -> None:
        if spec.item_field:
            raise at("item_field", "item_field is for recommenders only")
        if any(rule.weight != 1 for rule in spec.label.rules):
            raise at("label.rules", "a rule's weight is for recommenders (the weight of a response)")
        if self.inverted and spec.label.goal:
            raise at("label.goal", "a goal labels a response model (1: the goal reached in the window)")

    def prepare(
        self, con: duckdb.DuckDBPyConnection, config: ModelsConfig, spec: ModelSpec, window: TrainingWindow
    ) -> Prepared:
        X = customer_features(con, spec, window.cutoff)
        y = labels(con, config, spec, window, inverted=self.inverted)
        X = X.loc[X.index.intersection(y.index)]
        return Prepared(window, X.index.to_numpy(), X, y.reindex(X.index).to_numpy(dtype=np.int32))

    def evaluate(
        self,
        prepared: Prepared,
        spec: ModelSpec,
        test: np.ndarray,
        p_test: np.ndarray,
        reference: pd.Series | None,
    ) -> tuple[dict[str, float], pd.DataFrame | None]:
        """The calibration table, and the AUC of the reference scores on the same test customers."""
        y = prepared.y[test]
        calibration = m.calibration(y, p_test)
        metrics: dict[str, float] = {}
        if reference is not None:
            ref = reference.reindex(prepared.ids[test]).to_numpy(dtype=float)
            known = ~np.isnan(ref)
            metrics["reference_auc"] = m.auc(y[known], ref[known])
            metrics["model_auc_same_customers"] = m.auc(y[known], p_test[known])
            metrics["auc_ratio_to_reference"] = metrics["model_auc_same_customers"] / metrics["reference_auc"]
        return metrics, calibration

    def score(
        self,
        con: duckdb.DuckDBPyConnection,
        config: ModelsConfig,
        spec: ModelSpec,
        cutoff: dt.date,
        booster: lgb.Booster | None,
        meta: dict,
        cache: dict | None,
        memo: CellScores | None = None,
    ) -> pd.DataFrame:
        X = align(scoring_features(con, spec, cutoff, cache), meta["features"])
        return pd.DataFrame(
            {"customer_id": X.index.to_numpy(), "score": predict(boosted(booster), X, meta), "items": None}
        )

    def explain_frame(
        self,
        con: duckdb.DuckDBPyConnection,
        config: ModelsConfig,
        spec: ModelSpec,
        cutoff: dt.date,
        features: list[str],
        only: str,
    ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        return align(customer_features(con, spec, cutoff, only=only, scoring=True), features), None
