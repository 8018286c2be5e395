"""One training run (one model version): read the data, train, evaluate, explain, store, record.

The warehouse is read in ``prepare`` and written in ``record``/``mark``; ``train`` needs no connection,
so an asset can close the warehouse while LightGBM works (DuckDB has one writer).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd

from pipeline.core.catalog import CUSTOMER_ID, register_customer_table
from pipeline.core.sql import bind, ident, sql
from pipeline.core.warehouse import execute_statements, scalar, transaction
from pipeline.models import baselines, calibrate, drift, plots, store, tuning
from pipeline.models import metrics as m
from pipeline.models.config import ModelsConfig, ModelSpec
from pipeline.models.features import (
    TrainingError,
    TrainingWindow,
    first_event_day,
    repeated,
    training_window,
)
from pipeline.models.predict import align, scoring_features
from pipeline.models.train import (
    CALIBRATION,
    EVALUATION,
    TEST,
    TRAIN,
    UNUSED,
    beeswarm,
    binary_metrics,
    check_classes,
    cross_fit,
    customer_split,
    cut,
    dependences,
    feature_impact,
    fit,
    per_cell,
    shap_values,
)
from pipeline.models.types import Prepared, model_type

if TYPE_CHECKING:  # lightgbm is imported where a model is trained or loaded
    import lightgbm as lgb

QUEUED, RUNNING, FINISHED, FAILED = "QUEUED", "RUNNING", "FINISHED", "FAILED"
REJECTED, RETIRED = "REJECTED", "RETIRED"
# a version whose training ended (RETIRED: FINISHED once): never trained again, its files and record kept
TRAINED = (FINISHED, REJECTED, RETIRED)
MODEL_TRAININGS = "model_trainings"
EXPLANATION_TABLES = ("model_feature_impact", "model_beeswarm", "model_dependence")
BEESWARM_ROWS, BEESWARM_FEATURES, DEPENDENCE_ROWS = 300, 10, 1000
# SHAP values (TreeSHAP is the slow part: rows x trees x leaves x depth²) on at most this many test
# rows, a seeded sample: on the SF1 models 2,000 rows give the same 10 most important features as
# 5,000 (near-ties may swap places) and every mean |SHAP| within 2 % of the largest, in 40 % of the
# time (README, Models at scale); the beeswarm (300 rows) and dependence tables (1,000) are samples
# of them
EXPLAIN_ROWS = 2_000


class VersionTrained(ValueError):
    """A training of a version already trained (TRAINED): a version is never replaced."""


@dataclass
class Trained:
    window: TrainingWindow
    booster: lgb.Booster | None  # None: a type that fits itself (clv)
    features: list[str]
    params: dict
    metrics: dict[str, float]
    customers: int
    positives: int
    impact: pd.DataFrame
    beeswarm: pd.DataFrame
    dependence: pd.DataFrame
    calibration: pd.DataFrame | None = None
    plots: dict[str, str] = field(default_factory=dict)
    calibrator: dict | None = None  # the calibration map (pipeline/models/calibrate.py), in the metadata
    best_baseline: str | None = None
    test: np.ndarray | None = None  # the test rows of the training frame
    status: str = FINISHED  # or REJECTED (pipeline/models/champion.py)
    drift: dict | None = None  # the reference bins of the drift checks (pipeline/models/drift.py)
    reason: str | None = None  # why REJECTED
    # a FINISHED version's shortfall, said in the run's log and metadata (pipeline/models/champion.py)
    warning: str | None = None


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(sql("models/create"))
    for table in ("model_beeswarm", "model_dependence", "predictions", "clv"):
        register_customer_table(con, table, "customer_id", CUSTOMER_ID)


def mark(con: duckdb.DuckDBPyConnection, spec: ModelSpec, version: dt.date, status: str) -> None:
    """Start a version's row (QUEUED or RUNNING), replacing a previous run of the same version that did
    not end (FAILED, or left QUEUED or RUNNING); a TRAINED version's row stays as it is."""
    create_tables(con)
    with transaction(con):
        execute_statements(
            con,
            sql("models/set_status"),
            {"model": spec.name, "version": version, "type": spec.type, "status": status},
        )


def prepare(
    con: duckdb.DuckDBPyConnection, config: ModelsConfig, spec: ModelSpec, version: dt.date
) -> Prepared:
    """Features and labels of a version's training (reads the warehouse only), as its type builds them."""
    window = training_window(spec, version, first_event_day(con))
    return model_type(spec.type).prepare(con, config, spec, window)


# The night's features of the response/churn models trained in one run (night_features): models with
# the same feature windows share one computation (predict.scoring_features' cache) and the frame is
# dropped once each of them has read it, or when another run starts. Dagster runs a run's steps one
# after another in one process; nothing a run writes before its last model changes the night's events.
# A run that also scores the version's day keeps the frame for its predictions step (SCORING, the last
# reader: scored_night takes it), whose scoring computes the same features (same call, same cut-off).
# run -> (scoring_features' cache, per key the readers still to read it); only the latest run's kept
_SHARED_NIGHT: dict[str, tuple[dict, dict]] = {}
SCORING = "predictions"  # the reader that is the run's scoring of the night


def night_features(
    con: duckdb.DuckDBPyConnection,
    spec: ModelSpec,
    prepared: Prepared,
    run: str | None = None,
    models: Sequence[ModelSpec] = (),
    scored: bool = False,
) -> pd.DataFrame | None:
    """The training population's features on the version's night, as that night's scoring computes
    them (a response/churn model's; None for the others): the drift checks' reference. Measured at the
    cut-off instead, the reference would differ from every night's customers by the horizon's days of
    ageing alone (recency, tenure), which on a warehouse younger than the feature windows is a large
    shift that means nothing. With ``run`` (a run's id) and its ``models``, the models of the run with
    the same windows compute the night's features once; ``scored``: the run scores the night after
    them, and its predictions step takes the frame (scored_night) instead of computing it again."""
    if not model_type(spec.type).probability:
        return None
    night = prepared.window.version + dt.timedelta(days=1)
    if run is None:
        return scoring_features(con, spec, night, None).reindex(prepared.ids)
    shared = _SHARED_NIGHT.get(run)
    if shared is None:
        shared = ({}, {})
        _SHARED_NIGHT.clear()
        _SHARED_NIGHT[run] = shared
    cache, waiting = shared
    key = (night, spec.history_days, tuple(spec.windows))  # scoring_features' cache key
    readers = {s.name for s in models if model_type(s.type).probability and _windows(s) == _windows(spec)}
    unread = waiting.setdefault(key, readers | {spec.name} | ({SCORING} if scored else set()))
    frame = scoring_features(con, spec, night, cache)
    unread.discard(spec.name)
    if not unread:
        cache.pop(key, None)
    return frame.reindex(prepared.ids)


def scored_night(run: str, cutoff: dt.date) -> dict:
    """The night features (scoring_features' cache entries) the run's trainings computed for ``cutoff``
    and kept for its scoring (night_features' ``scored``), handed over to the caller's cache of that
    night: the run keeps them no longer. Empty when there are none (a run that did not train)."""
    shared = _SHARED_NIGHT.get(run)
    if shared is None:
        return {}
    cache, waiting = shared
    taken = {key: cache.pop(key) for key in [k for k in cache if k[0] == cutoff]}
    for key in taken:
        waiting.pop(key, None)
    return taken


def release_night(run: str) -> None:
    """Drop whatever the run's trainings kept for its scoring (the scoring of another day took none)."""
    _SHARED_NIGHT.pop(run, None)


def _windows(spec: ModelSpec) -> tuple:
    return spec.history_days, tuple(spec.windows)


def train(
    prepared: Prepared,
    spec: ModelSpec,
    reference: pd.Series | None = None,
    draw: bool = True,
    night: pd.DataFrame | None = None,
) -> Trained:
    """Split by customer, fit with early stopping, evaluate and explain on the test split (and plot,
    with ``draw``). ``night``: the population's features on the version's night (``night_features``),
    the drift reference (else the training features at the cut-off)."""
    kind = model_type(spec.type)
    if not kind.boosted:
        return fitted_own(prepared, spec)
    # a type that read only some customers' rows (``Prepared.customers``) splits them all the same way
    customers = np.unique(prepared.ids) if prepared.customers is None else prepared.customers
    split, calibrated, crossed = customer_split(spec, customers, kind.probability)
    by_customer = pd.Series(split, index=customers)
    parts = cut(by_customer.reindex(prepared.ids).to_numpy(), prepared.ids, spec)
    X, y = prepared.X, prepared.y
    check_classes(spec, y, parts)
    # a rare class weighted up only where the scores are calibrated back to probabilities or only rank
    # (a recommender): with calibration "none" a probability is LightGBM's own
    weigh_rare = calibrated or not kind.probability
    tuned = tuning.tune(spec, X, y, parts, weigh_rare) if spec.tuning else None
    booster, params = fit(spec, X, y, parts, tuned, prepared.weight, weigh_rare)
    test = parts == TEST
    early_stopped = booster.best_iteration or booster.current_iteration()
    if crossed:  # out-of-fold scores of the non-test customers, and the model refit on all of them
        held = np.flatnonzero(~test & (parts != UNUSED))
        p_held, booster = cross_fit(
            params, X, y, held, prepared.ids[held], early_stopped, spec.seed, prepared.weight
        )
    elif calibrated:  # the calibration split: customers neither training nor early stopping saw
        held = np.flatnonzero(parts == CALIBRATION)
        p_held = per_cell(booster, X.iloc[held], early_stopped)
    p_test = per_cell(booster, X[test], booster.best_iteration or None)
    calibrator, best_baseline, extra_metrics = None, None, {}
    if kind.probability:
        extra_metrics = {
            "auc_uncalibrated": m.auc(y[test], p_test),
            "logloss_uncalibrated": m.logloss(y[test], p_test),
            "ece_uncalibrated": calibrate.expected_calibration_error(y[test], p_test),
        }
        if calibrated:
            calibrator = calibrate.fit(spec.calibration, p_held, y[held])
            p_test = calibrate.apply(calibrator, p_test)
    metrics = binary_metrics(y[test], p_test)
    metrics.update(extra_metrics)
    if kind.probability:
        metrics.update(calibration_errors(y[test], p_test))
        window = max(spec.windows)
        base = baselines.baseline_metrics(X, y, parts == TRAIN, test, window, spec.history_days)
        flat, best_baseline = baselines.summary(metrics["auc"], metrics["logloss"], base)
        metrics.update(flat)
    metrics["best_iteration"] = float(early_stopped)
    metrics["training_rows"] = float((parts == TRAIN).sum())
    metrics["evaluation_customers"] = float(pd.unique(prepared.ids[parts == EVALUATION]).size)
    if calibrated:  # the customers the calibration map was fitted on; cross-fitted or a split of its own
        metrics["calibration_customers"] = float(len(held))
        metrics["calibration_cross_fitted"] = float(crossed)
    extra, calibration = kind.evaluate(prepared, spec, test, p_test, reference)
    metrics.update(extra)
    explained = explained_rows(test, spec.seed)
    ids, X_explained = prepared.ids[explained], X.iloc[explained]
    shap, _ = shap_values(booster, X_explained)
    features = list(X.columns)
    impact = feature_impact(features, shap)
    top = impact["feature"].head(BEESWARM_FEATURES).tolist()
    swarm = beeswarm(ids, X_explained, shap, top, BEESWARM_ROWS, spec.seed)
    sample = np.sort(np.random.default_rng(spec.seed).permutation(len(explained))[:DEPENDENCE_ROWS])
    # every feature's dependence (the read API serves any of them), coloured by the most important
    # other feature; the sampled rows' cells turned into numbers once for all of them
    ranked = impact["feature"].tolist()
    secondaries = [next((o for o in ranked if o != f), None) for f in ranked]
    dep = dependences(ids[sample], X_explained.iloc[sample], shap[sample], ranked, secondaries)
    reference_bins = None
    if kind.probability:  # the score and top numeric features of the training population (on its night)
        X_ref = X if night is None else align(night, features)
        p_all = calibrate.apply(calibrator, per_cell(booster, X_ref, booster.best_iteration or None))
        reference_bins = drift.reference(X_ref, p_all, drift.monitored(X_ref, ranked, spec.drift.features))
    trained = Trained(
        prepared.window,
        booster,
        features,
        params,
        metrics,
        len(customers),
        int(y.sum()) if prepared.positives is None else prepared.positives,
        impact,
        swarm,
        dep,
        calibration,
        calibrator=calibrator,
        best_baseline=best_baseline,
        test=test,
        drift=reference_bins,
    )
    if not draw:
        return trained
    trained.plots = {
        "feature_impact": plots.impact_bars(impact),
        "beeswarm": plots.beeswarm_plot(swarm, top, spec.seed),
        "dependence": plots.dependence_plot(dep[dep["feature"] == top[0]]),
        **({"calibration_curve": plots.calibration_plot(calibration)} if calibration is not None else {}),
    }
    return trained


def explained_rows(test: np.ndarray, seed: int, most: int = EXPLAIN_ROWS) -> np.ndarray:
    """The rows (indices, in order) whose SHAP values a training computes: the test rows (``test``, a
    mask), or a seeded sample of ``most`` of them."""
    rows = np.flatnonzero(test)
    if len(rows) <= most:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, most, replace=False))


def calibration_errors(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """The test split's calibration: the plug-in ECE (10 equal-width bins), the same over equal-mass
    bins, the debiased L2 error (pipeline/models/calibrate.py) and the ECE that a perfectly calibrated
    score would show on as many customers by sampling alone (its floor)."""
    return {
        "ece": calibrate.expected_calibration_error(y, p),
        "ece_equal_mass": calibrate.expected_calibration_error(y, p, equal_mass=True),
        "ece_debiased": calibrate.debiased_calibration_error(y, p),
        "ece_sampling_floor": calibrate.sampling_floor(p),
    }


def fitted_own(prepared: Prepared, spec: ModelSpec) -> Trained:
    """The training of a type that fits itself (``fit_own``): its parameters and metrics, no booster
    and no SHAP explanations."""
    own = model_type(spec.type).fit_own(prepared, spec)
    empty = pd.DataFrame({"rank": [], "feature": [], "mean_abs_shap": []})
    return Trained(
        prepared.window,
        None,
        list(prepared.X.columns),
        own.params,
        own.metrics,
        own.customers,
        own.positives,
        empty,
        pd.DataFrame(),
        pd.DataFrame(),
        warning=own.warning,
    )


def reference_scores(config: ModelsConfig, spec: ModelSpec) -> tuple[pd.Series | None, str | None]:
    """The configured reference scores (customer -> score), or (None, why not)."""
    ref = spec.reference_scores
    if ref is None:
        return None, None
    path = config.resolve(ref.file)
    if not path.is_file():
        return None, f"reference scores {path} not found: no reference AUC"
    frame = pd.read_csv(path, usecols=[ref.customer_column, ref.column], dtype={ref.customer_column: str})
    if twice := repeated(frame[ref.customer_column]):
        return None, f"reference scores {path} have {twice}: no reference AUC"
    return frame.set_index(ref.customer_column)[ref.column].astype(float), None


def _json(value) -> str:
    return json.dumps(value, default=str, allow_nan=True)


def record(con: duckdb.DuckDBPyConnection, spec: ModelSpec, trained: Trained, store_dir: Path) -> Path:
    """Save the model files, then in one transaction: the FINISHED row and the explanation tables.
    Refused (VersionTrained, nothing written) for a version already trained: it is never replaced."""
    version = trained.window.version
    create_tables(con)
    q = sql("models/status_of")
    if (status := scalar(con, q, bind(q, {"model": spec.name, "version": version}))) in TRAINED:
        raise VersionTrained(
            f"model {spec.name!r} version {version} is already trained ({status}); a trained version "
            "is never replaced"
        )
    meta = {
        "model": spec.name,
        "version": version,
        "type": spec.type,
        "cutoff": trained.window.cutoff,
        "label_start": trained.window.label_start,
        "label_end": trained.window.label_end,
        "features": trained.features,
        "params": trained.params,
        "metrics": trained.metrics,
        "best_iteration": trained.booster.best_iteration if trained.booster else None,
        "calibrator": trained.calibrator,
        "best_baseline": trained.best_baseline,
        "status": trained.status,
        "reason": trained.reason,
        "drift": trained.drift,
        **store.trained_with(spec),
    }
    path = store.save(store_dir, spec.name, version, trained.booster, meta)
    key = {"model": spec.name, "version": version}
    explanations = (
        (
            ("model_feature_impact", trained.impact),
            ("model_beeswarm", trained.beeswarm),
            ("model_dependence", trained.dependence),
        )
        if trained.booster is not None
        else ()
    )
    with transaction(con):
        for table, frame in explanations:
            columns = ", ".join(ident(c) for c in frame.columns)
            q = sql(
                "models/replace_explanation",
                idents={"table": table},
                fragments={"columns": columns},
                schema=EXPLANATION_TABLES,
            )
            con.register("_frame", frame)
            execute_statements(con, q, key)
            con.unregister("_frame")
        _finish(con, spec, trained.window, trained.status, None, trained, str(path))
    return path


def _finish(
    con,
    spec: ModelSpec,
    window: TrainingWindow | None,
    status: str,
    error: str | None,
    trained: Trained | None = None,
    path: str | None = None,
) -> None:
    q = sql("models/finish")
    con.execute(
        q,
        bind(
            q,
            {
                "model": spec.name,
                "version": window.version if window else None,
                "status": status,
                "error": error,
                "cutoff": window.cutoff if window else None,
                "label_start": window.label_start if window else None,
                "label_end": window.label_end if window else None,
                "customers": trained.customers if trained else None,
                "positives": trained.positives if trained else None,
                "best_iteration": trained.booster.best_iteration if trained and trained.booster else None,
                "features": _json(trained.features) if trained else None,
                "params": _json(trained.params) if trained else None,
                "metrics": _json(trained.metrics) if trained else None,
                "calibration": trained.calibration.reset_index(names="bin").to_json(orient="records")
                if trained is not None and trained.calibration is not None
                else None,
                "model_path": path,
                "reason": trained.reason if trained else None,
            },
        ),
    )


def fail(con: duckdb.DuckDBPyConnection, spec: ModelSpec, version: dt.date, error: str) -> None:
    """Record a FAILED version (the latest FINISHED one stays in use for scoring); a failed re-run of a
    TRAINED version leaves its record as it was."""
    create_tables(con)
    q = sql("models/fail")
    con.execute(q, bind(q, {"model": spec.name, "version": version, "error": error}))


__all__ = [
    "TrainingError",
    "Prepared",
    "Trained",
    "VersionTrained",
    "mark",
    "prepare",
    "night_features",
    "train",
    "record",
    "fail",
    "reference_scores",
]
