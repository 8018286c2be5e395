"""The baselines every binary training is measured against, on the same test split: recency alone, and
a simple RFM model (recency, frequency, monetary value in a logistic regression).

Both are logistic regressions (L2-penalised, fitted by L-BFGS on the training split) over log-scaled
inputs; a customer with no event has the longest recency (the history window plus a day) and a flag.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from pipeline.models import metrics as m

RECENCY = "days_since_last_event"
L2 = 1e-3  # per-sample penalty on the standardised coefficients (not on the intercept)


def rfm_columns(X: pd.DataFrame, window: int, history_days: int) -> pd.DataFrame:
    """recency (days since the last event, the history plus one day when none), frequency (events in
    the longest window, every type) and monetary (their value), log-scaled, and a no-event flag."""
    count = re.compile(rf"^count_(?!channel_).+_{window}d$")
    value = re.compile(rf"^value_.+_{window}d$")
    recency = X[RECENCY].to_numpy(dtype=float) if RECENCY in X else np.full(len(X), np.nan)
    none = np.isnan(recency)
    frequency = X[[c for c in X.columns if count.match(c)]].to_numpy(dtype=float).sum(axis=1)
    monetary = X[[c for c in X.columns if value.match(c)]].to_numpy(dtype=float).sum(axis=1)
    return pd.DataFrame(
        {
            "recency": np.log1p(np.where(none, history_days + 1.0, recency)),
            "frequency": np.log1p(np.maximum(frequency, 0)),
            "monetary": np.sign(monetary) * np.log1p(np.abs(monetary)),
            "no_event": none.astype(float),
        },
        index=X.index,
    )


def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float = L2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(coefficients with the intercept first, column means, column scales) of an L2-penalised logistic
    regression on standardised columns (a constant column gets scale 1 and, penalised, weight 0)."""
    from scipy.optimize import minimize
    from scipy.special import expit, log_expit

    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    Z = np.column_stack([np.ones(len(X)), (X - mean) / scale])
    y = np.asarray(y, dtype=float)
    n = len(y)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        t = Z @ w
        value = -(y * log_expit(t) + (1 - y) * log_expit(-t)).sum() / n + l2 * (w[1:] @ w[1:]) / 2
        grad = Z.T @ (expit(t) - y) / n
        grad[1:] += l2 * w[1:]
        return float(value), grad

    w0 = np.zeros(Z.shape[1])
    rate = np.clip(y.mean(), 1e-6, 1 - 1e-6)
    w0[0] = np.log(rate / (1 - rate))
    result = minimize(loss, w0, jac=True, method="L-BFGS-B", options={"maxiter": 500, "gtol": 1e-8})
    return result.x, mean, scale


def predict_logistic(fitted: tuple[np.ndarray, np.ndarray, np.ndarray], X: np.ndarray) -> np.ndarray:
    from scipy.special import expit

    w, mean, scale = fitted
    return expit(w[0] + ((X - mean) / scale) @ w[1:])


def baseline_metrics(
    X: pd.DataFrame, y: np.ndarray, train: np.ndarray, test: np.ndarray, window: int, history_days: int
) -> dict[str, dict[str, float]]:
    """{baseline: {auc, logloss}} on the test rows of recency alone and of RFM, each fitted on the
    training rows."""
    rfm = rfm_columns(X, window, history_days)
    out: dict[str, dict[str, float]] = {}
    for name, columns in (("recency", ["recency", "no_event"]), ("rfm", list(rfm.columns))):
        values = rfm[columns].to_numpy()
        fitted = fit_logistic(values[train], y[train])
        p = predict_logistic(fitted, values[test])
        out[name] = {"auc": m.auc(y[test], p), "logloss": m.logloss(y[test], p)}
    return out


def summary(
    model_auc: float, model_logloss: float, baselines: dict[str, dict[str, float]]
) -> tuple[dict[str, float], str]:
    """(flat metrics: each baseline's AUC and log loss and the model's gain over the better baseline,
    AUC up and log loss down; the better baseline's name, by AUC)."""
    flat: dict[str, float] = {}
    for name, values in baselines.items():
        flat[f"baseline_{name}_auc"] = values["auc"]
        flat[f"baseline_{name}_logloss"] = values["logloss"]
    best = max(baselines, key=lambda b: baselines[b]["auc"])
    flat["auc_gain_over_baseline"] = model_auc - baselines[best]["auc"]
    flat["logloss_gain_over_baseline"] = baselines[best]["logloss"] - model_logloss
    return flat, best
