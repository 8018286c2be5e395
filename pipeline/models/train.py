"""LightGBM training (``lightgbm.train``): customer split, early stopping on the evaluation split,
metrics on the test split, SHAP values from ``pred_contrib=True``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pipeline.models import metrics as m
from pipeline.models.config import ModelSpec, SplitSpec
from pipeline.models.features import TrainingError, model_input
from pipeline.models.predict import PREDICT_THREADS, distinct_cells, group_keys

if TYPE_CHECKING:  # lightgbm is imported where a model is trained or loaded
    import lightgbm as lgb

# Deterministic by default: fixed seeds, deterministic histogram construction; recorded with one thread,
# trained on the idle cores (training_threads: the same trees on any number of threads).
DEFAULT_PARAMS: dict = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.9,
    "lambda_l2": 1.0,
    "cat_smooth": 10,
    "verbose": -1,
    "num_threads": 1,
    "deterministic": True,
    "force_row_wise": True,
}
EARLY_STOPPING_METRIC = {"auc": "auc", "logloss": "binary_logloss", "precision_at_k": "average_precision"}
RANKING_METRICS = ("auc", "average_precision")  # early-stopping metrics of the ranking alone (ties grouped)
TRAIN, EVALUATION, CALIBRATION, TEST = "train", "evaluation", "calibration", "test"
UNUSED = "unused"  # training-split customers left out by max_training_rows
# Calibration (pipeline/models/calibrate.py) up to this many non-test customers is cross-fitted: each of
# CROSS_FIT_FOLDS folds of them is scored by a booster trained on the others (the early-stopped
# booster's parameters and number of trees), the map is fitted on those out-of-fold scores, and the
# model is refit on all of them; above it, a calibration split of its own is large enough.
CROSS_FIT_MAX, CROSS_FIT_FOLDS = 50_000, 5
# customer_draws' hash: FNV-1a 64 (offset basis, prime), then MurmurHash3's fmix64 (shift, multiplier)
FNV_OFFSET, FNV_PRIME = 0xCBF29CE484222325, 0x100000001B3
FMIX64 = ((33, 0xFF51AFD7ED558CCD), (33, 0xC4CEB9FE1A85EC53), (33, 0))
LOADAVG = "/proc/loadavg"  # its 4th field: the tasks running or runnable now / all tasks (Linux)
OWN_TASKS = "/proc/self/task"  # this process's threads, each with its state in <id>/stat
THREAD_READINGS = 3  # readings of both, the busiest counting


def training_threads(cores: int | None = None, loadavg: str = LOADAVG, tasks: str = OWN_TASKS) -> int:
    """LightGBM's threads for a training starting now: the cores of this process (``cores``, else its
    CPU affinity) that no task of another process is running or waiting on (the busiest of
    THREAD_READINGS readings of ``loadavg``'s running tasks less this process's own running threads,
    ``tasks``: DuckDB's workers finishing a query are not another process), at least one; one where
    they cannot be read. With ``deterministic`` the trees are the same on any number of threads
    (tests/unit/models/test_training_threads.py), so this decides only the time: on an idle machine
    the threads share the histograms; on a busy one OpenMP's threads wait on each other at every step
    (the SF1 recommender 8 × slower on two threads than on one at load 9, bench/NOTES.md), so it
    trains on one."""
    cores = cores or len(os.sched_getaffinity(0))
    if cores < 2:
        return 1
    try:
        others = max(_running(loadavg) - max(_own_running(tasks), 1) for _ in range(THREAD_READINGS))
    except (OSError, IndexError, ValueError):
        return 1
    return max(1, cores - max(others, 0))


def _running(loadavg: str) -> int:
    with open(loadavg, encoding="ascii") as f:
        return int(f.read().split()[3].split("/")[0])


def _own_running(tasks: str) -> int:
    """This process's threads running or runnable now (state R in each <task>/stat, after the name)."""
    states = []
    for stat in Path(tasks).glob("*/stat"):
        try:
            states.append(stat.read_text(encoding="ascii", errors="replace").rsplit(")", 1)[1].split()[0])
        except (OSError, IndexError):
            continue  # a thread that ended while read
    return states.count("R")


def lightgbm_train(params: dict, data: lgb.Dataset, rounds: int, **kwargs) -> lgb.Booster:
    """``lgb.train`` with ``params``, on :func:`training_threads` where they ask for one thread (the
    default; a model's ``params`` may set others). A booster trained on more is returned as the one
    thread's: the same trees, read back from its model string with the parameter line that names its
    threads as one (LightGBM 4.7's ``reset_parameter`` of ``num_threads`` crashes), so the model
    file is the same to the byte."""
    import lightgbm as lgb

    threads = params.get("num_threads", 1)
    run = training_threads() if threads == 1 else threads
    booster = lgb.train({**params, "num_threads": run}, data, num_boost_round=rounds, **kwargs)
    if run == threads:
        return booster
    text = booster.model_to_string(num_iteration=-1)
    line = f"\n[num_threads: {run}]\n"
    assert text.count(line) == 1, "a LightGBM model string names its threads once"
    one = lgb.Booster(model_str=text.replace(line, f"\n[num_threads: {threads}]\n"))
    one.best_iteration, one.best_score = booster.best_iteration, booster.best_score
    return one


def customer_draws(ids: np.ndarray, key: str) -> np.ndarray:
    """A number in [0, 1) per customer id, kept per customer: FNV-1a (64 bits) of the UTF-8 text
    ``f"{key}:{customer_id}"`` through MurmurHash3's 64-bit finaliser (fmix64), its top 53 bits over
    2**53. The same id and key draw the same number in every training, whatever the other customers,
    on any platform and library version (the hash is written out here, not a library's, whose hash
    may change between versions); vectorised over the ids' bytes (a loop over the longest id's
    length, not over the customers)."""
    ids = np.asarray(ids)
    try:
        raw = ids.astype(np.bytes_)  # ASCII ids (NumPy refuses any other character)
    except UnicodeEncodeError:
        raw = np.char.encode(ids.astype(str), "utf-8")
    width = max(raw.dtype.itemsize, 1)
    data = np.frombuffer(raw.tobytes(), dtype=np.uint8).reshape(len(raw), width)
    lengths = np.char.str_len(raw)
    h = np.full(len(raw), _fnv1a(FNV_OFFSET, f"{key}:".encode()), dtype=np.uint64)
    for j in range(width):
        h = np.where(lengths > j, (h ^ data[:, j]) * FNV_PRIME, h)
    for shift, multiplier in FMIX64:
        h ^= h >> np.uint64(shift)
        if multiplier:
            h *= np.uint64(multiplier)
    return (h >> np.uint64(11)).astype(np.float64) / 2.0**53


def _fnv1a(h: int, data: bytes) -> int:
    for byte in data:
        h = ((h ^ byte) * FNV_PRIME) % 2**64
    return h


def split_customers(
    ids: np.ndarray, split: SplitSpec, shuffle: bool, seed: int, calibration: bool = False
) -> np.ndarray:
    """train / evaluation / test of the customers ``ids`` (in customer_id order). Shuffled: by each
    customer's draw (:func:`customer_draws` keyed by the seed), so a customer is on the same side in
    every training with the seed, whoever else is in it (a champion's training customers are never in
    a challenger's test split; the shares are the config's within sampling); else in order (the
    first ``split.train`` of the customers train, ...: a customer's side moves as customers join).

    With ``calibration`` the evaluation share is halved: its first half stays the evaluation split
    (early stopping, tuning), the second becomes the calibration split, which the calibration map is
    fitted on, so it is fitted on customers that chose nothing of the booster. The training and test
    splits are the same customers either way."""
    n = len(ids)
    share = customer_draws(ids, str(seed)) if shuffle else np.arange(n) / max(n, 1)
    held = CALIBRATION if calibration else EVALUATION
    return np.where(
        share < split.train,
        TRAIN,
        np.where(
            share < split.train + split.evaluation / (2 if calibration else 1),
            EVALUATION,
            np.where(share < split.train + split.evaluation, held, TEST),
        ),
    )


def capped(parts: np.ndarray, ids: np.ndarray, most: int | None, seed: int, part: str = TRAIN) -> np.ndarray:
    """``parts`` (one per row) with the split ``part`` cut to at most ``most`` rows: a seeded sample of
    its customers, each with all their rows (a recommender has one per candidate item), the others
    UNUSED; the other splits are unchanged."""
    train = np.flatnonzero(parts == part)
    if most is None or len(train) <= most:
        return parts
    codes, customers = pd.factorize(ids[train])
    kept = _sampled(np.bincount(codes, minlength=len(customers)), most, seed)
    out = parts.copy()
    out[train[~kept[codes]]] = UNUSED
    return out


def capped_customers(
    parts: np.ndarray, rows: np.ndarray, most: int | None, seed: int, part: str = TRAIN
) -> np.ndarray:
    """:func:`capped` one row per customer (in customer_id order) with ``rows`` training rows each: the
    same customers UNUSED as :func:`capped` leaves out of their rows, decided before any row is read."""
    train = np.flatnonzero(parts == part)
    if most is None or rows[train].sum() <= most:
        return parts
    out = parts.copy()
    out[train[~_sampled(rows[train], most, seed)]] = UNUSED
    return out


def limits(spec: ModelSpec) -> dict[str, int | None]:
    """The most rows of each split: ``max_training_rows`` for the training split, ``max_held_out_rows``
    for each of the others."""
    held = spec.max_held_out_rows
    return {TRAIN: spec.max_training_rows, EVALUATION: held, CALIBRATION: held, TEST: held}


def cut(parts: np.ndarray, ids: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """``parts`` (one per row) with every split cut to its limit (:func:`capped`)."""
    for part, most in limits(spec).items():
        parts = capped(parts, ids, most, spec.seed, part)
    return parts


def cut_customers(parts: np.ndarray, rows: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """:func:`cut` one row per customer (in customer_id order) with ``rows`` rows each."""
    for part, most in limits(spec).items():
        parts = capped_customers(parts, rows, most, spec.seed, part)
    return parts


def _sampled(rows: np.ndarray, most: int, seed: int) -> np.ndarray:
    """Which customers (``rows`` rows each, in order of first row) a seeded sample of at most ``most``
    rows keeps: customers in a seeded random order while their rows add up to ``most``."""
    order = np.random.default_rng(seed).permutation(len(rows))
    kept = np.zeros(len(rows), dtype=bool)
    kept[order[np.cumsum(rows[order]) <= most]] = True
    return kept


def customer_split(spec: ModelSpec, ids: np.ndarray, probability: bool) -> tuple[np.ndarray, bool, bool]:
    """(train / evaluation / calibration / test of the customers ``ids`` in customer_id order,
    calibrated, cross-fitted): a probability's calibration is cross-fitted up to CROSS_FIT_MAX non-test
    customers, else it has a split of its own (``split_customers``)."""
    calibrated = probability and spec.calibration != "none"
    crossed = calibrated and len(ids) * (1 - spec.split.test) <= CROSS_FIT_MAX
    parts = split_customers(ids, spec.split, spec.shuffle, spec.seed, calibrated and not crossed)
    return parts, calibrated, crossed


def scaled_params(n_train: int, positives: int, weigh_rare: bool = True) -> dict:
    """Defaults that fit the data: fewer, larger-leaved trees and a higher learning rate on small data
    (so early stopping does not stop after a handful of noisy trees), more leaves on large data; with
    ``weigh_rare`` a rare class weighted up by the square root of the class ratio (for scores that a
    calibration brings back to probabilities, or that only rank)."""
    params: dict = {
        "learning_rate": 0.1 if n_train < 5_000 else 0.05 if n_train < 100_000 else 0.03,
        "num_leaves": int(np.clip(n_train // 150, 7, 63)),
        "min_data_in_leaf": int(np.clip(n_train // 100, 20, 500)),
    }
    negatives = n_train - positives
    rare, common = min(positives, negatives), max(positives, negatives)
    if weigh_rare and rare and common / rare > 9:
        weight = float(np.sqrt(common / rare))
        params["scale_pos_weight"] = weight if positives < negatives else 1 / weight
    return params


def params_of(
    spec: ModelSpec,
    n_train: int = 0,
    positives: int = 0,
    tuned: dict | None = None,
    weigh_rare: bool = True,
) -> dict:
    """LightGBM's parameters: the defaults, those scaled to the training split (``scaled_params``), the
    tuned ones, then the config's ``params`` (they win)."""
    return {
        **DEFAULT_PARAMS,
        **(scaled_params(n_train, positives, weigh_rare) if n_train else {}),
        "metric": EARLY_STOPPING_METRIC[spec.objective],
        "seed": spec.seed,
        **(tuned or {}),
        **spec.params,
    }


def check_classes(spec: ModelSpec, y: np.ndarray, parts: np.ndarray) -> None:
    """A label with one class cannot be learned: say which and why, before LightGBM does."""
    if len(y) == 0:
        raise TrainingError(
            f"model {spec.name!r}: no customers to train on (the population at the cut-off is empty)"
        )
    values = np.unique(y)
    if len(values) < 2:
        raise TrainingError(
            f"model {spec.name!r}: the label has only one class (every customer is {int(values[0])}) "
            f"in the label window; check the label rules and the horizon. The previous version stays in use."
        )
    held = (CALIBRATION,) if (parts == CALIBRATION).any() else ()
    for part in (TRAIN, EVALUATION, *held, TEST):
        if len(np.unique(y[parts == part])) < 2:
            raise TrainingError(
                f"model {spec.name!r}: the {part} split has only one label class "
                f"({int((parts == part).sum())} customers, {int(y[parts == part].sum())} positive); "
                "more data or other split shares are needed"
            )


def fit(
    spec: ModelSpec,
    X: pd.DataFrame,
    y: np.ndarray,
    parts: np.ndarray,
    tuned: dict | None = None,
    weight: np.ndarray | None = None,
    weigh_rare: bool = True,
) -> tuple[lgb.Booster, dict]:
    """(the booster, its parameters): trained on the training split (rows weighted by ``weight``) with
    early stopping (patience ``early_stopping_rounds``) on the evaluation split (weighted alike); a rare
    class weighted up with ``weigh_rare`` (``scaled_params``)."""
    import lightgbm as lgb

    X = model_input(X)
    categorical = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
    train = parts == TRAIN
    evaluation = parts == EVALUATION
    params = params_of(spec, int(train.sum()), int(y[train].sum()), tuned, weigh_rare)
    dtrain = lgb.Dataset(
        X[train],
        y[train],
        weight=None if weight is None else weight[train],
        categorical_feature=categorical or "auto",
        free_raw_data=False,
    )
    X_eval, y_eval, w_eval = X[evaluation], y[evaluation], None if weight is None else weight[evaluation]
    if params["metric"] in RANKING_METRICS:
        X_eval, y_eval, w_eval = distinct_rows(X_eval, y_eval, w_eval)
    deval = lgb.Dataset(X_eval, y_eval, weight=w_eval, reference=dtrain)
    booster = lightgbm_train(
        params,
        dtrain,
        spec.num_boost_round,
        valid_sets=[deval],
        valid_names=[EVALUATION],
        callbacks=[lgb.early_stopping(spec.early_stopping_rounds, first_metric_only=True, verbose=False)],
    )
    return booster, params


def distinct_rows(
    X: pd.DataFrame, y: np.ndarray, weight: np.ndarray | None
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None]:
    """(X, y, weight) of an evaluation split as early stopping reads it under a ranking metric: a frame
    of numbers only (a recommender's candidates: half its rows repeat another's) as its distinct rows,
    each once with the weight of its positive rows (label 1) and once with that of its negative ones
    (label 0); other frames as they are. Equal rows have equal scores after every tree, and LightGBM's
    AUC and average precision sum the weights of tied scores before using them, so they are the same
    (integer weights, as 1 for none, the same bit for bit) and the booster is the same, for the
    scores of fewer rows after each tree."""
    if len(X) < 2 or not all(pd.api.types.is_float_dtype(t) for t in X.dtypes):
        return X, y, weight
    values = X.to_numpy(dtype=np.float64)
    values = np.where(np.isnan(values), np.nan, values)  # one NaN's bits
    first, codes = group_keys(values.view(np.uint64))
    w = np.ones(len(X)) if weight is None else np.asarray(weight, dtype=np.float64)
    positive = np.asarray(y) > 0  # LightGBM's binary metrics read a label > 0 as positive
    weights = np.concatenate(
        [np.bincount(codes, w * positive, len(first)), np.bincount(codes, w * ~positive, len(first))]
    )
    labels = np.repeat(np.array([1, 0], dtype=np.asarray(y).dtype), len(first))
    rows = np.tile(first, 2)
    kept = weights > 0
    return X.iloc[rows[kept]].reset_index(drop=True), labels[kept], weights[kept]


def cross_fit(
    params: dict,
    X: pd.DataFrame,
    y: np.ndarray,
    rows: np.ndarray,
    ids: np.ndarray,
    rounds: int,
    seed: int,
    weight: np.ndarray | None = None,
    folds: int = CROSS_FIT_FOLDS,
) -> tuple[np.ndarray, lgb.Booster]:
    """(the out-of-fold scores of ``rows`` (row indices, one customer each: ``ids``), the booster refit
    on all of them): each of ``folds`` folds is scored by a booster trained on the other folds with
    ``params`` and ``rounds`` trees, no early stopping. A customer's fold is kept per customer like
    their split (:func:`customer_draws`, keyed by the seed and "fold"), the folds equal within
    sampling. The fold boosters see about 1 − 1/folds of the rows, about what the refit model's
    training split did, so their scores are distributed like its."""
    X = model_input(X)
    categorical = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
    params = {k: v for k, v in params.items() if k != "metric"}
    fold = np.minimum((customer_draws(ids, f"{seed}:fold") * folds).astype(np.int64), folds - 1)
    scores = np.empty(len(rows))

    def train_on(fit_rows: np.ndarray) -> lgb.Booster:
        import lightgbm as lgb

        data = lgb.Dataset(
            X.iloc[fit_rows],
            y[fit_rows],
            weight=None if weight is None else weight[fit_rows],
            categorical_feature=categorical or "auto",
        )
        return lightgbm_train(params, data, rounds)

    for k in range(folds):
        scores[fold == k] = train_on(rows[fold != k]).predict(X.iloc[rows[fold == k]])
    refit = train_on(rows)
    refit.best_iteration = rounds
    return scores, refit


def binary_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    precision, recall = m.top_decile(y, p)
    return {
        "auc": m.auc(y, p),
        "logloss": m.logloss(y, p),
        "top_decile_precision": precision,
        "top_decile_recall": recall,
        "positive_rate": float(np.mean(y)),
        "mean_score": float(np.mean(p)),
        "test_customers": float(len(y)),
    }


def per_cell(booster: lgb.Booster, X: pd.DataFrame, iteration: int | None, **kind) -> np.ndarray:
    """``booster.predict`` of the rows of X (``kind``: e.g. ``pred_contrib=True``), per row, so on
    every core (PREDICT_THREADS) with the same values as on one. Frames of numbers only (a
    recommender's candidates) are predicted once per distinct cell (a score, like TreeSHAP, depends
    only on which side of each split a row's values fall), spread back to every row: the same values
    bit for bit."""
    numeric = len(X) > 1 and all(pd.api.types.is_float_dtype(t) for t in X.dtypes)
    if not numeric:
        return np.asarray(
            booster.predict(
                model_input(X, booster), num_iteration=iteration, num_threads=PREDICT_THREADS, **kind
            )
        )
    rows, codes = distinct_cells(booster, X.to_numpy(dtype=np.float64))
    return np.asarray(booster.predict(rows, num_iteration=iteration, num_threads=PREDICT_THREADS, **kind))[
        codes
    ]


def shap_values(booster: lgb.Booster, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(contributions per row and feature, base value per row); their sum is the raw score; computed
    per distinct cell where X is numbers only (:func:`per_cell`)."""
    contrib = per_cell(booster, X, booster.best_iteration or None, pred_contrib=True)
    return contrib[:, :-1], contrib[:, -1]


def feature_impact(features: list[str], shap: np.ndarray) -> pd.DataFrame:
    impact = pd.DataFrame({"feature": features, "mean_abs_shap": np.abs(shap).mean(axis=0)})
    impact = impact.sort_values(["mean_abs_shap", "feature"], ascending=[False, True], ignore_index=True)
    impact["rank"] = np.arange(1, len(impact) + 1)
    return impact


def numbers_of(X: pd.DataFrame) -> np.ndarray:
    """Every cell as a number: categorical cells as their category code (missing: NaN)."""
    if not len(X.columns):
        return np.zeros((len(X), 0))
    return np.column_stack(
        [
            X[c].cat.codes.astype(float).where(X[c].notna())
            if isinstance(X[c].dtype, pd.CategoricalDtype)
            else X[c]
            for c in X.columns
        ]
    ).astype(float)


def numeric_values(X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(numbers, texts) of every cell: categorical cells as their category code and their text."""
    texts = np.column_stack(
        [X[c].astype(object).astype(str).where(X[c].notna(), None).to_numpy() for c in X.columns]
    )
    return numbers_of(X), texts


def beeswarm(
    ids: np.ndarray, X: pd.DataFrame, shap: np.ndarray, features: list[str], sample: int, seed: int
) -> pd.DataFrame:
    """Long table (customer_id, feature, value, value_text, shap) for a seeded sample of rows and the
    given features."""
    rows = np.sort(np.random.default_rng(seed).permutation(len(X))[:sample])
    cols = [list(X.columns).index(f) for f in features]
    numbers, texts = numeric_values(X.iloc[rows][features])
    n, k = len(rows), len(cols)
    return pd.DataFrame(
        {
            "customer_id": np.repeat(ids[rows], k),
            "feature": np.tile(np.array(features, dtype=object), n),
            "value": numbers.reshape(-1),
            "value_text": texts.reshape(-1),
            "shap": shap[np.ix_(rows, np.asarray(cols, dtype=np.intp))].reshape(-1),
        }
    )


def dependence(
    ids: np.ndarray, X: pd.DataFrame, shap: np.ndarray, feature: str, secondary: str | None
) -> pd.DataFrame:
    """(customer_id, feature, value, shap, secondary_feature, secondary_value) of one feature for every
    row."""
    return dependences(ids, X, shap, [feature], [secondary])


def dependences(
    ids: np.ndarray,
    X: pd.DataFrame,
    shap: np.ndarray,
    features: list[str],
    secondaries: list[str | None],
) -> pd.DataFrame:
    """The dependence tables (:func:`dependence`) of several features, each coloured by its secondary,
    one after the other: the cells of the columns they name turned into numbers once."""
    columns = list(dict.fromkeys([*features, *(s for s in secondaries if s is not None)]))
    numbers = numbers_of(X[columns])
    at = {c: i for i, c in enumerate(columns)}
    n = len(ids)
    blank = np.full(n, np.nan)
    position = {c: i for i, c in enumerate(X.columns)}
    return pd.DataFrame(
        {
            "customer_id": np.tile(ids, len(features)),
            "feature": np.repeat(np.array(features, dtype=object), n),
            "value": np.concatenate([numbers[:, at[f]] for f in features] or [blank[:0]]),
            "shap": np.concatenate([shap[:, position[f]] for f in features] or [blank[:0]]),
            "secondary_feature": np.repeat(np.array(secondaries, dtype=object), n),
            "secondary_value": np.concatenate(
                [numbers[:, at[s]] if s is not None else blank for s in secondaries] or [blank[:0]]
            ),
        }
    )
