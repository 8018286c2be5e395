"""Calibration of a binary model's scores, fitted on the evaluation split: isotonic regression (a
non-decreasing step function, interpolated linearly between its knots) or Platt scaling (a logistic
regression on the raw score's log-odds). Stored as plain numbers in the version's metadata and
applied wherever the version predicts (pipeline/models/predict.py); the expected calibration error
measures the result on the test split."""

from __future__ import annotations

import numpy as np
from scipy.optimize import isotonic_regression
from scipy.special import expit, logit

from pipeline.models.baselines import fit_logistic

EPS = 1e-6
ISOTONIC, PLATT = "isotonic", "platt"


def fit(method: str, p: np.ndarray, y: np.ndarray) -> dict:
    """The calibration map (a JSON-able dict) of ``method`` from scores ``p`` to the labels ``y``."""
    p = np.asarray(p, dtype=float)
    y = np.asarray(y, dtype=float)
    if method == PLATT:
        w, mean, scale = fit_logistic(_logodds(p)[:, None], y, l2=0.0)
        return {"method": PLATT, "a": float(w[1] / scale[0]), "b": float(w[0] - w[1] * mean[0] / scale[0])}
    if method != ISOTONIC:
        raise ValueError(f"unknown calibration method {method!r}")
    order = np.argsort(p, kind="stable")
    xs, ys = p[order], y[order]
    knots, first = np.unique(xs, return_index=True)  # tied scores are one point, weighted by their count
    counts = np.diff(np.append(first, len(xs)))
    means = np.add.reduceat(ys, first) / counts
    fitted = isotonic_regression(means, weights=counts).x
    return {"method": ISOTONIC, "x": knots.tolist(), "y": np.clip(fitted, EPS, 1 - EPS).tolist()}


def apply(calibration: dict | None, p: np.ndarray) -> np.ndarray:
    """The calibrated scores (``p`` unchanged without a calibration map)."""
    p = np.asarray(p, dtype=float)
    if not calibration:
        return p
    if calibration["method"] == PLATT:
        return expit(calibration["a"] * _logodds(p) + calibration["b"])
    return np.interp(p, calibration["x"], calibration["y"])


def _logodds(p: np.ndarray) -> np.ndarray:
    return logit(np.clip(p, EPS, 1 - EPS))


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Sum over equal-width bins of predicted probability of (share of customers) × |observed rate −
    mean predicted|."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if not len(y):
        return float("nan")
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in np.unique(which):
        inside = which == b
        total += inside.sum() * abs(y[inside].mean() - p[inside].mean())
    return float(total / len(y))
