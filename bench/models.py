"""Benchmark of model training and scoring at scale: `python bench/models.py --customers 100000 --days 14`.

Phase 1 (this process) generates the demo world and loads it (ingestion, identities, events) as one run.
Phase 2 (a fresh process, so its peak memory is the models' alone) trains each model of the demo config
for the last day and scores every customer, printing wall time per step and the peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA = ["tx_pos", "tx_web_sessions", "tx_campaign_events", "customers", "customer_identities", "events"]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(out: Path, customers: int, days: int, start: dt.date, seed: int = 7) -> None:
    import dagster as dg

    from pipeline.cli import write_demo_config
    from pipeline.config import load_config
    from pipeline.definitions import build_definitions
    from pipeline.demo import generate_world

    began = time.monotonic()
    world = generate_world(out, customers=customers, days=days, start=start, seed=seed)
    config = load_config(write_demo_config(out, start))
    generated = time.monotonic()
    job = build_definitions(config).resolve_job_def("nightly")
    result = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        tags={
            "dagster/asset_partition_range_start": world.start.isoformat(),
            "dagster/asset_partition_range_end": world.end.isoformat(),
        },
        asset_selection=[dg.AssetKey(a) for a in DATA],
        raise_on_error=True,
    )
    assert result.success
    print(
        f"world {customers} customers x {days} days: generated in {generated - began:.1f} s, "
        f"loaded in {time.monotonic() - generated:.1f} s, peak {peak_mb():.0f} MB",
        flush=True,
    )


def untrained(warehouse: Path, day: dt.date) -> None:
    """The warehouse as it was before the versions of ``day`` were trained: the backfill trains its last
    day, and a trained version is never trained again (training.record refuses it), so the copy
    forgets those versions' records (their explanation rows are replaced when they are recorded again)."""
    from pipeline.core.warehouse import connect, table_exists

    with connect(warehouse) as con:
        if table_exists(con, "model_trainings"):
            con.execute("DELETE FROM model_trainings WHERE version = $day", {"day": day})


def train_and_score(config, day: dt.date, models: Path, report=print) -> list[dict]:
    """Train each model of ``config`` for ``day`` and score every customer, as the model and predictions
    assets do; one dict of timings per model (also used by bench/measures.py ``model_training``)."""
    from pipeline.core.warehouse import connect
    from pipeline.models import training
    from pipeline.models.features import NotEnoughData
    from pipeline.models.scoring import score

    out, cache = [], {}  # the predictions asset shares customer features between models in a night, as here
    run = f"bench {time.time_ns()}"  # the models' steps share the night's features in a run (the asset)
    for spec in config.models:
        t0 = time.monotonic()
        with connect(config.warehouse_path) as con:
            training.mark(con, spec, day, training.RUNNING)
        try:
            with connect(config.warehouse_path, read_only=True) as con:
                prepared = training.prepare(con, config, spec, day)
                # the drift reference, shared by the models with the same windows, as the asset does
                night = training.night_features(con, spec, prepared, run, config.models)
            t1 = time.monotonic()
            reference, _ = training.reference_scores(config, spec)
            trained = training.train(prepared, spec, reference, night=night)
        except NotEnoughData as e:  # recorded FAILED and the night goes on, as the model asset does
            with connect(config.warehouse_path) as con:
                training.fail(con, spec, day, str(e))
            report(f"{spec.name}: not trained: {e}")
            continue
        t2 = time.monotonic()
        with connect(config.warehouse_path) as con:
            training.record(con, spec, trained, models)
        t3 = time.monotonic()
        with connect(config.warehouse_path, read_only=True) as con:
            _, rows = score(con, config, spec, day, models, cache)
        t4 = time.monotonic()
        key = {"recommender": "precision_at_k", "clv": "holdout_mae"}.get(spec.type, "auc")
        r = {
            "model": spec.name,
            "type": spec.type,
            "rows": len(prepared.X),
            "fitted_rows": int(trained.metrics.get("training_rows", 0)),  # the training split, capped
            "features": int(prepared.X.shape[1]),
            "features_s": t1 - t0,
            "train_explain_s": t2 - t1,
            "record_s": t3 - t2,
            "scored": len(rows),
            "score_s": t4 - t3,
            "seconds": t4 - t0,
            key: float(trained.metrics[key]),
            "peak_mb": peak_mb(),
        }
        report(
            f"{spec.name}: {r['rows']} rows x {r['features']} features ({r['fitted_rows']} fitted on); "
            f"features {r['features_s']:.1f} s, "
            f"train+explain {r['train_explain_s']:.1f} s, record {r['record_s']:.1f} s, score {r['scored']} "
            f"customers {r['score_s']:.1f} s; {key} {r[key]:.4f}; peak {r['peak_mb']:.0f} MB"
        )
        out.append(r)
    return out


def train(out: Path, day: dt.date) -> None:
    from pipeline.config import load_config

    train_and_score(
        load_config(out / "nightjar.yaml"), day, out / "models", report=lambda line: print(line, flush=True)
    )
    print(f"peak memory of training and scoring: {peak_mb():.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out"))
    parser.add_argument("--phase", choices=["all", "build", "train"], default="all")
    args = parser.parse_args()
    out = Path(args.out)
    start = dt.date(2026, 1, 1)
    last = start + dt.timedelta(days=args.days - 1)
    if args.phase in ("all", "build"):
        out.mkdir(parents=True, exist_ok=True)
        build(out, args.customers, args.days, start)
    if args.phase == "all":
        subprocess.run(
            [sys.executable, __file__, "--out", str(out), "--days", str(args.days), "--phase", "train"],
            check=True,
        )
    elif args.phase == "train":
        train(out, last)


if __name__ == "__main__":
    main()
