"""What a model type is: the record registered under its name (pipeline/models/registry.py).

A type decides what one row of its training frame is and its label (``prepare``), what it asks of
its config entry (``check``), the metrics of the test split beyond the common ones (``evaluate``),
and the rows it writes to ``predictions`` (``score``) or explains (``explain_frame``). The common
part of a run (the window, the customer split, LightGBM with early stopping, SHAP, the store, the
``model_trainings`` row) is in pipeline/models/training.py and scoring.py.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import duckdb
import numpy as np
import pandas as pd

from pipeline.models.config import ModelsConfig, ModelSpec
from pipeline.models.features import TrainingWindow
from pipeline.models.predict import CellScores

if TYPE_CHECKING:  # lightgbm is imported where a model is trained or loaded
    import lightgbm as lgb


@dataclass
class Prepared:
    """A version's training frame: one row per customer (or per customer and item), its label."""

    window: TrainingWindow
    ids: np.ndarray  # customer_id per row
    X: pd.DataFrame
    y: np.ndarray
    candidates: pd.DataFrame | None = None  # recommender: (customer_id, item, ...) per row
    taken: pd.DataFrame | None = None  # recommender: what each customer took in the label window
    weight: np.ndarray | None = None  # a training weight per row (recommender: the response's weight)
    # a type that reads only the customers the training uses (recommender): every customer of the
    # population in customer_id order, and the positive rows of them all
    customers: np.ndarray | None = None
    positives: int | None = None
    # a type that fits its stored parameters on more than the frame it is measured on (clv): the frame
    # of the whole history up to the version day (the data before window.label_end, which is exclusive)
    whole_history: pd.DataFrame | None = None


@dataclass
class OwnFit:
    """What a type that is not ``boosted`` fits (``fit_own``)."""

    params: dict  # the parameters scoring reads (the version's metadata)
    metrics: dict[str, float]
    customers: int  # the customers the parameters were fitted on
    positives: int  # of them, those the type counts as positive (clv: with a repeat purchase)
    warning: str | None = None  # a shortfall of a version in use all the same (Trained.warning)


class ModelType(ABC):
    """One model type; subclass it in a module of pipeline/models/types/ and decorate with
    ``@register`` (pipeline.models.registry)."""

    name: ClassVar[str]  # the config's models[].type
    # scores are a customer's probability: calibrated, measured against the recency and RFM baselines
    # and against the current version's AUC (champion / challenger)
    probability: ClassVar[bool] = True
    # trained as a LightGBM booster by pipeline/models/training.py; a type that is not fits itself
    # (``fit_own``) and stores only its metadata
    boosted: ClassVar[bool] = True

    @abstractmethod
    def check(self, spec: ModelSpec) -> None:
        """Raise ``at(key, message)`` (pipeline.core.settings) when the spec does not fit the type."""

    @abstractmethod
    def prepare(
        self, con: duckdb.DuckDBPyConnection, config: ModelsConfig, spec: ModelSpec, window: TrainingWindow
    ) -> Prepared:
        """Features and labels of a training (reads the warehouse only)."""

    @abstractmethod
    def evaluate(
        self,
        prepared: Prepared,
        spec: ModelSpec,
        test: np.ndarray,
        p_test: np.ndarray,
        reference: pd.Series | None,
    ) -> tuple[dict[str, float], pd.DataFrame | None]:
        """(metrics beyond the common binary ones, the calibration table or None) on the test rows."""

    def fit_own(self, prepared: Prepared, spec: ModelSpec) -> OwnFit:
        """The fitted parameters and the metrics of a type that is not ``boosted``."""
        raise NotImplementedError(f"the model type {self.name!r} is trained as a LightGBM booster")

    @abstractmethod
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
        """The predictions rows (customer_id, score, items) of every active customer as of ``cutoff``
        (``booster``: None for a type that is not ``boosted``; ``memo``: the cells the version scored
        last, which a type may reuse and replace, see predict.predict_distinct)."""

    @abstractmethod
    def explain_frame(
        self,
        con: duckdb.DuckDBPyConnection,
        config: ModelsConfig,
        spec: ModelSpec,
        cutoff: dt.date,
        features: list[str],
        only: str,
    ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """(the model's features of one customer's rows, their candidates or None) as of ``cutoff``;
        with candidates, the explanation is of the best-scored row."""
