"""The recommender: one row per customer and candidate item (pipeline/models/recommend.py), labelled 1
when the customer took the item in the label window; scored as each customer's top-k items."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd

from pipeline.core.settings import at
from pipeline.models import metrics as m
from pipeline.models import recommend
from pipeline.models.config import ModelsConfig, ModelSpec
from pipeline.models.features import TrainingWindow
from pipeline.models.predict import CellScores, boosted, predict_distinct
from pipeline.models.registry import register
from pipeline.models.train import UNUSED, customer_split, cut_customers
from pipeline.models.types.base import ModelType, Prepared

if TYPE_CHECKING:  # lightgbm is imported where a model is trained or loaded
    import lightgbm as lgb


@register
class Recommender(ModelType):
    name = "recommender"
    probability = False  # its baseline is popularity (evaluate); a new version always becomes current

    def check(self, spec: ModelSpec) -> None:
        if not spec.item_field:
            raise at("item_field", "a recommender needs item_field (the field naming the item, e.g. product)")
        if not spec.label.rules:
            raise at("label.rules", "a recommender learns from rules (the events that take an item)")
        if spec.population:
            raise at(
                "population",
                "population (a training segment) is for response and churn models: "
                "a recommender trains on every customer",
            )

    def prepare(
        self, con: duckdb.DuckDBPyConnection, config: ModelsConfig, spec: ModelSpec, window: TrainingWindow
    ) -> Prepared:
        """Only the rows the training uses: the customers are split and each split cut to its limit
        (``max_training_rows``, ``max_held_out_rows``) as pipeline/models/training.py will, from the
        customer list alone, and only the rows of the customers kept are read: memory grows with the
        rows used, not with the population x items."""

        def choose(customers: np.ndarray, rows: np.ndarray) -> np.ndarray:
            parts, _, _ = customer_split(spec, customers, self.probability)
            return cut_customers(parts, rows, spec) != UNUSED

        rows, took = recommend.training_rows(con, config, spec, window, choose)
        return Prepared(
            window,
            rows.candidates["customer_id"].to_numpy(),
            rows.X,
            rows.y,
            rows.candidates,
            took,
            rows.weight,
            customers=rows.customers,
            positives=rows.positives,
        )

    def evaluate(
        self,
        prepared: Prepared,
        spec: ModelSpec,
        test: np.ndarray,
        p_test: np.ndarray,
        reference: pd.Series | None,
    ) -> tuple[dict[str, float], pd.DataFrame | None]:
        """precision/recall@k and hit rate of the model and of the popularity baseline on the test
        customers (no calibration: a score ranks items, it is not a customer's probability)."""
        if prepared.candidates is None or prepared.taken is None:
            raise ValueError("a recommender's training frame has its candidates and what was taken")
        cands = prepared.candidates[test].astype({"customer_id": object, "item": object})
        cands = cands.assign(model_score=p_test)
        took = prepared.taken[prepared.taken["customer_id"].isin(cands["customer_id"].unique())]
        model = m.at_k(recommend.top_k(cands, "model_score", spec.k), took, spec.k)
        baseline = m.at_k(recommend.popularity_top_k(cands, spec.k), took, spec.k)
        metrics = {
            "precision_at_k": model["precision_at_k"],
            "recall_at_k": model["recall_at_k"],
            "hit_rate": model["hit_rate"],
            "baseline_precision_at_k": baseline["precision_at_k"],
            "baseline_recall_at_k": baseline["recall_at_k"],
            "baseline_hit_rate": baseline["hit_rate"],
            "k": float(spec.k),
            "held_out_customers": model["customers"],
        }
        return metrics, None

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
        grid = recommend.candidate_grid(con, config, spec, cutoff)
        # scored from the grid's columns as they are: no matrix of SF10's 30 M candidates (about 2 GB),
        # a customer's or an item's own figure keyed once; freed before the ranking needs its own
        p = predict_distinct(boosted(booster), grid.feature_columns(meta["features"]), meta, memo)
        grid.columns.clear()
        return recommend.grid_top_k(grid.customers, grid.items, p, spec.k)

    def explain_frame(
        self,
        con: duckdb.DuckDBPyConnection,
        config: ModelsConfig,
        spec: ModelSpec,
        cutoff: dt.date,
        features: list[str],
        only: str,
    ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        cands = recommend.candidates(con, config, spec, cutoff, only)
        return cands[features].astype(float), cands
