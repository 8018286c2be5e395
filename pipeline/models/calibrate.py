"""Calibration of a binary model's scores, fitted on the evaluation split: isotonic regression (a
non-decreasing step function, interpolated linearly between its knots) or Platt scaling (a logistic
regression on the raw score's log-odds). Stored as plain numbers in the version's metadata and
applied wherever the version predicts (pipeline/models/predict.py); the expected calibration error
measures the result on the test split."""

from __future__ import annotations

import numpy as np

from pipeline.models.baselines import fit_logistic

EPS = 1e-6
ISOTONIC, PLATT = "isotonic", "platt"


def fit(method: str, p: np.ndarray, y: np.ndarray) -> dict:
    """The calibration map (a JSON-able dict) of ``method`` from scores ``p`` to the labels ``y``."""
    from scipy.optimize import isotonic_regression

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
    from scipy.special import expit

    p = np.asarray(p, dtype=float)
    if not calibration:
        return p
    if calibration["method"] == PLATT:
        return expit(calibration["a"] * _logodds(p) + calibration["b"])
    return np.interp(p, calibration["x"], calibration["y"])


def _logodds(p: np.ndarray) -> np.ndarray:
    from scipy.special import logit

    return logit(np.clip(p, EPS, 1 - EPS))


def _bins(p: np.ndarray, bins: int, equal_mass: bool) -> np.ndarray:
    """Each score's bin: equal-width bins of [0, 1], or equal-mass bins (the scores' quantiles; tied
    scores share a bin)."""
    if not equal_mass:
        return np.minimum((p * bins).astype(int), bins - 1)
    edges = np.quantile(p, np.linspace(0, 1, bins + 1)[1:-1])
    return np.searchsorted(edges, p, side="right")


def _per_bin(y: np.ndarray, p: np.ndarray, bins: int, equal_mass: bool):
    """(customers, mean label, mean score) of the non-empty bins."""
    which = _bins(p, bins, equal_mass)
    n = np.bincount(which, minlength=bins).astype(float)
    keep = n > 0
    return (
        n[keep],
        np.bincount(which, weights=y, minlength=bins)[keep] / n[keep],
        np.bincount(which, weights=p, minlength=bins)[keep] / n[keep],
    )


def expected_calibration_error(
    y: np.ndarray, p: np.ndarray, bins: int = 10, equal_mass: bool = False
) -> float:
    """Sum over bins of predicted probability (equal width, or equal mass) of (share of customers) ×
    |observed rate − mean predicted|. ``y`` may be probabilities: with each customer's true
    probability it is the calibration error measured against the truth, free of the labels' noise."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if not len(y):
        return float("nan")
    n, observed, predicted = _per_bin(y, p, bins, equal_mass)
    return float((n * np.abs(observed - predicted)).sum() / len(y))


def debiased_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """A debiased estimate of the (L2, root-mean-square) calibration error over equal-mass bins, after
    Kumar, Liang and Ma, "Verified Uncertainty Calibration" (NeurIPS 2019): the square root of
    Σ share × (gap² − the gap's sampling variance), at least 0, where a bin's gap is the mean of
    ``y − p`` and its sampling variance the sample variance of ``y − p`` in the bin over its size
    (for 0/1 labels nearly their paper's observed × (1 − observed) / (customers − 1)). The plug-in
    gap² is biased up by exactly that variance; without it a well-calibrated score on a few hundred
    customers still measures its sampling floor. ``y`` may be true probabilities. The L2 error is at
    least the (L1) ECE of the same bins."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if len(y) < 2:
        return float("nan")
    which = _bins(p, bins, equal_mass=True)
    gap = y - p
    n = np.bincount(which, minlength=bins).astype(float)
    keep = n > 1
    mean = np.bincount(which, weights=gap, minlength=bins)[keep] / n[keep]
    square = np.bincount(which, weights=gap**2, minlength=bins)[keep] / n[keep]
    k = n[keep]
    variance = (square - mean**2) * k / (k - 1)  # the sample variance of the gap in the bin
    return float(np.sqrt(max(0.0, (k * (mean**2 - variance / k)).sum() / len(y))))


def sampling_floor(p: np.ndarray, bins: int = 10, draws: int = 100, seed: int = 0) -> float:
    """The mean ECE of ``draws`` label sets drawn from the scores themselves (seeded): what a perfectly
    calibrated score measures on this many customers by sampling alone."""
    p = np.asarray(p, dtype=float)
    if not len(p):
        return float("nan")
    labels = np.random.default_rng(seed).random((draws, len(p))) < p
    return float(np.mean([expected_calibration_error(row, p, bins) for row in labels]))
