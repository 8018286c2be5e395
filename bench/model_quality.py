"""Model quality on demo worlds of growing size and several seeds:
`python bench/model_quality.py --customers 2000 10000 --seeds 7 1 2 3 4`.

For each size and seed: a demo world of 56 days (the model tests' length) is generated and loaded,
then the demo's response and churn models are trained for the last day (as the model assets do,
without plots). Printed per model: test customers, AUC, the better baseline's AUC and the gain over
it, the AUC of the truth on the same test customers and the ratio, the test ECE (calibrated and not)
beside the ECE that a perfectly calibrated score reaches on that many test customers by sampling
alone (the mean over 200 label draws from the calibrated scores), the debiased and equal-mass
estimates, and the calibration error against the truth: each test customer's true probability of
the label from the world's rules (tests/assets/models/truth.py), plug-in and debiased.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.models import build  # noqa: E402
from tests.assets.models.truth import label_probabilities  # noqa: E402

DAYS = 56
DRAWS = 200


def sampling_ece(p: np.ndarray, seed: int = 0) -> float:
    """The mean ECE of labels drawn from ``p`` itself: what a perfectly calibrated score shows."""
    from pipeline.models.calibrate import expected_calibration_error

    rng = np.random.default_rng(seed)
    return float(np.mean([expected_calibration_error(rng.random(len(p)) < p, p) for _ in range(DRAWS)]))


TRUTH = {"response": "purchase", "churn": "no_activity"}


def measure(out: Path, customers: int, seed: int = 7) -> list[dict]:
    import pandas as pd

    from pipeline.config import load_config
    from pipeline.core.warehouse import connect
    from pipeline.models import calibrate, training
    from pipeline.models.predict import predict

    start = dt.date(2026, 1, 1)
    last = start + dt.timedelta(days=DAYS - 1)
    if not (out / "nightjar.yaml").is_file():  # a world built by an earlier run is reused
        build(out, customers, DAYS, start, seed)
    config = load_config(out / "nightjar.yaml")
    rows = []
    for spec in [s for s in config.models if s.type in ("response", "churn")]:
        t0 = time.monotonic()
        with connect(config.warehouse_path, read_only=True) as con:
            prepared = training.prepare(con, config, spec, last)
            night = training.night_features(con, spec, prepared)
        reference, _ = training.reference_scores(config, spec)
        trained = training.train(prepared, spec, reference, draw=False, night=night)
        m = trained.metrics
        assert trained.test is not None
        p_test = predict(trained.booster, prepared.X[trained.test], {"calibrator": trained.calibrator})
        window = prepared.window
        truth = label_probabilities(out, window.label_start, window.label_end)
        q = pd.Series(truth[TRUTH[spec.type]], index=truth["customer_id"]).reindex(prepared.ids).to_numpy()
        q_test = q[trained.test]
        row = {
            "customers": customers,
            "seed": seed,
            "model": spec.name,
            "test_customers": int(m["test_customers"]),
            "auc": m["auc"],
            "best_baseline": trained.best_baseline,
            "baseline_auc": m["auc"] - m["auc_gain_over_baseline"],
            "gain": m["auc_gain_over_baseline"],
            "truth_auc": m.get("reference_auc"),
            "ratio_to_truth": m.get("auc_ratio_to_reference"),
            "ece": m["ece"],
            "ece_uncalibrated": m["ece_uncalibrated"],
            "ece_of_a_perfect_score": sampling_ece(p_test),
            "ece_equal_mass": m["ece_equal_mass"],
            "ece_debiased": m["ece_debiased"],
            "truth_ece": calibrate.expected_calibration_error(q_test, p_test),
            "truth_ece_debiased": calibrate.debiased_calibration_error(q_test, p_test),
            "truth_mean_gap": float(p_test.mean() - q_test.mean()),
            "labels_minus_truth": float(prepared.y.mean() - q.mean()),
            "seconds": time.monotonic() - t0,
        }
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[7])
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "model_quality"))
    args = parser.parse_args()
    rows = []
    for n in args.customers:
        for seed in args.seeds:
            folder = Path(args.out) / (str(n) if seed == 7 else f"{n}-seed{seed}")
            folder.mkdir(parents=True, exist_ok=True)
            rows += measure(folder, n, seed)
    (Path(args.out) / "results.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
