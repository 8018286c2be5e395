"""Model quality on demo worlds of growing size: `python bench/model_quality.py --customers 2000 10000`.

For each size: a demo world of 56 days (the model tests' length) is generated and loaded, then the
demo's response and churn models are trained for the last day (as the model assets do, without
plots) and a clv model is fitted. Printed per model: test customers, AUC, the better baseline's AUC
and the gain over it, the AUC of the truth on the same test customers and the ratio, the test ECE
(calibrated and not) beside the ECE that a perfectly calibrated score reaches on that many test
customers by sampling alone (the mean over 200 label draws from the calibrated scores).
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

DAYS = 56
DRAWS = 200


def sampling_ece(p: np.ndarray, seed: int = 0) -> float:
    """The mean ECE of labels drawn from ``p`` itself: what a perfectly calibrated score shows."""
    from pipeline.models.calibrate import expected_calibration_error

    rng = np.random.default_rng(seed)
    return float(np.mean([expected_calibration_error(rng.random(len(p)) < p, p) for _ in range(DRAWS)]))


def measure(out: Path, customers: int) -> list[dict]:
    from pipeline.config import load_config
    from pipeline.core.warehouse import connect
    from pipeline.models import training
    from pipeline.models.predict import predict

    start = dt.date(2026, 1, 1)
    last = start + dt.timedelta(days=DAYS - 1)
    if not (out / "nightjar.yaml").is_file():  # a world built by an earlier run is reused
        build(out, customers, DAYS, start)
    config = load_config(out / "nightjar.yaml")
    rows = []
    for spec in [s for s in config.models if s.type in ("response", "churn")]:
        t0 = time.monotonic()
        with connect(config.warehouse_path, read_only=True) as con:
            prepared = training.prepare(con, config, spec, last)
        reference, _ = training.reference_scores(config, spec)
        trained = training.train(prepared, spec, reference, draw=False)
        m = trained.metrics
        assert trained.test is not None
        p_test = predict(trained.booster, prepared.X[trained.test], {"calibrator": trained.calibrator})
        row = {
            "customers": customers,
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
            "seconds": time.monotonic() - t0,
        }
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "model_quality"))
    args = parser.parse_args()
    rows = []
    for n in args.customers:
        folder = Path(args.out) / str(n)
        folder.mkdir(parents=True, exist_ok=True)
        rows += measure(folder, n)
    (Path(args.out) / "results.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
