"""Is the champion / challenger comparison fair? `python bench/champion_fairness.py --pairs 200`.

Both versions are trained by ``training.train`` on equally good data (2,000 customers; a label drawn
from the same true probabilities in two windows, a latent trait of each customer that no feature
holds, the features a little noisier a week later; ``--new`` customers join between the two
trainings, at random places in customer_id order). The champion (the first) is scored on the
challenger's test customers, as ``champion.challenge`` does, and the challenger wins when its test AUC
is at least the champion's there. A fair comparison lets it win about half the time.

The split is kept per customer (``train.customer_draws``: a hash of the customer id and the seed), so
none of the challenger's test customers was in the champion's training (or calibration) customers.
Printed: the share of them the champion fitted, then the wins, the promotions (within the default
``auc_tolerance`` 0.01) and the mean AUC gap, first as compared, then on the test customers the
champion did not fit (its test split, or joined since): the same customers now.

Measured (200 pairs, --new 100, 2 cores shared with other work, 648 s): the champion fitted none of
the challenger's ~420 test customers; the challenger won 0.520 of the pairs (promoted 0.740), mean
gap +0.0013 (se 0.0012). Before, with the split a seeded permutation of the customer count (100
pairs, 287 s): 0.747 of them were the champion's fitted customers; the challenger won 0.340
(promoted 0.600), mean gap -0.0057 (se 0.0020); on the ~106 it did not fit 0.520 (promoted 0.580),
+0.0032 (se 0.0031). 200 pairs the session before: 0.330, -0.0063 (se 0.0013).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.models import metrics as m  # noqa: E402
from pipeline.models import training  # noqa: E402
from pipeline.models.config import ModelSpec  # noqa: E402
from pipeline.models.features import TrainingWindow  # noqa: E402
from pipeline.models.predict import predict  # noqa: E402
from pipeline.models.train import TEST, customer_split  # noqa: E402
from pipeline.models.types import Prepared  # noqa: E402

SPEC = ModelSpec(name="m", type="response", label={"rules": [{"transaction": "pos"}]})
CUSTOMERS = 2000
TOLERANCE = 0.01  # promote_if.auc_tolerance's default


def _fit(ids: np.ndarray, X: pd.DataFrame, y: np.ndarray, day: dt.date) -> training.Trained:
    window = TrainingWindow(day, day, day, day, False)
    return training.train(Prepared(window, ids, X, y), SPEC, draw=False)


def _scores(trained: training.Trained, X: pd.DataFrame) -> np.ndarray:
    assert trained.booster is not None
    meta = {"best_iteration": trained.booster.best_iteration, "calibrator": trained.calibrator}
    return predict(trained.booster, X, meta)


def pair(seed: int, new: int) -> tuple[float, float, float, float, float, int]:
    """(challenger AUC, champion AUC on its test customers, the share of them the champion fitted, the
    same two AUCs on the customers it did not fit, how many)."""
    rng = np.random.default_rng(seed)
    n = CUSTOMERS + new
    ids = np.array(sorted(f"C{v:09d}" for v in rng.choice(10**9, n, replace=False)), dtype=object)
    X = pd.DataFrame(rng.normal(size=(n, 5)), columns=[f"f{i}" for i in range(5)], index=ids)
    z = (0.8 * X["f0"] + 0.5 * X["f1"] - 0.3 * X["f2"] + rng.normal(size=n) - 0.3).to_numpy()
    old = np.sort(rng.choice(n, CUSTOMERS, replace=False))  # the champion's customers
    y1 = (rng.random(n) < expit(z)).astype(np.int32)
    y2 = (rng.random(n) < expit(z)).astype(np.int32)
    X2 = X + rng.normal(scale=0.05, size=X.shape)
    champ = _fit(ids[old], X.iloc[old], y1[old], dt.date(2026, 1, 1))
    chall = _fit(ids, X2, y2, dt.date(2026, 1, 8))
    test = chall.test
    assert test is not None
    y, p_champ, p_chall = y2[test], _scores(champ, X2[test]), _scores(chall, X2[test])
    parts, _, _ = customer_split(SPEC, ids[old], True)
    fitted = pd.Series(parts != TEST, index=ids[old]).reindex(ids[test], fill_value=False).to_numpy(bool)
    unseen = ~fitted
    return (
        chall.metrics["auc"],
        m.auc(y, p_champ),
        float(fitted.mean()),
        m.auc(y[unseen], p_chall[unseen]),
        m.auc(y[unseen], p_champ[unseen]),
        int(unseen.sum()),
    )


def _line(label: str, gap: np.ndarray) -> str:
    se = gap.std(ddof=1) / np.sqrt(len(gap))
    return (
        f"{label}: challenger won {np.mean(gap >= 0):.3f}, promoted {np.mean(gap >= -TOLERANCE):.3f}, "
        f"mean gap {gap.mean():+.4f} (se {se:.4f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--new", type=int, default=100, help="customers who join between the trainings")
    args = parser.parse_args()
    began = time.monotonic()
    rows = np.array([pair(seed, args.new) for seed in range(args.pairs)])
    print(
        f"{args.pairs} pairs, {time.monotonic() - began:.0f} s; the champion fitted "
        f"{rows[:, 2].mean():.3f} of the challenger's test customers"
    )
    print(_line("as compared now", rows[:, 0] - rows[:, 1]))
    print(_line(f"on the ~{rows[:, 5].mean():.0f} it did not fit", rows[:, 3] - rows[:, 4]))


if __name__ == "__main__":
    main()
