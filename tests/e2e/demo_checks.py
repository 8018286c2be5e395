"""What the demo's end-to-end tests share: the environment of a run, the world's first day, queries of
the demo's warehouse, and the binomial check of 95 % intervals."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from scipy import stats

from pipeline.core.warehouse import connect


def env_for(dagster_home: Path, config: Path | None = None) -> dict:
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home)}
    if config:
        env["NIGHTJAR_CONFIG"] = str(config)
    return env


def first_day(out: Path) -> dt.date:
    """The world's first day (DAYS days before the day the demo ran)."""
    return dt.date.fromisoformat(json.loads((out / "truth" / "world.json").read_text())["start"])


def q(out: Path, sql: str, params=None):
    with connect(out / "warehouse.duckdb", read_only=True) as con:
        return con.execute(sql, params or {}).fetchall()


def consistent_with_95(covered: list[bool]) -> bool:
    """The count of intervals missing the truth is not improbable for 95 % intervals (one-sided
    binomial test at 0.001: at most 2 misses of 5)."""
    return float(stats.binom.sf(covered.count(False) - 1, len(covered), 0.05)) > 0.001


def true_policy_values(out: Path, experiment: str) -> dict[str, float]:
    """Per policy that policy_evaluation evaluates, its true conversion rate per logged decision of
    ``experiment``: the policy's probabilities of each arm for each logged decision, set as the
    evaluation sets them (the same cross-fitted reward model, pipeline/experiments/policy_evaluation.py),
    times the customer's true rate of that arm (truth/decision_rates.csv; REPEAT_RATE for a decision
    truth/decisions.csv marks as a repeat buyer's, whatever the arm)."""
    import numpy as np
    import pandas as pd

    from pipeline.config import load_config
    from pipeline.demo.effects import rate_column
    from pipeline.demo.experiments import REPEAT_RATE, world_experiment
    from pipeline.experiments.config import NO_TREATMENT
    from pipeline.experiments.policies.learner import TLearner
    from pipeline.experiments.policy_evaluation import logged_decisions, target_policies

    config = load_config(out / "nightjar.yaml")
    exp = config.experiment(experiment)
    with connect(config.warehouse_path, read_only=True) as con:
        d = logged_decisions(con, config, exp)
    assert d is not None, f"{experiment}: too few logged decisions to evaluate"
    converted = d.log["converted"].to_numpy(dtype=bool)
    learner = TLearner(arms=len(d.cost) + 1, seed=0).fit(d.x, d.arm, converted.astype(int))
    targets = target_policies(learner.out_of_fold, d.arm, converted, d.cost, exp.exploration, 0, d.eligible)
    decisions = pd.read_csv(out / "truth" / "decisions.csv", parse_dates=["date"])
    keys = d.log[["date", "customer_id"]].assign(date=pd.to_datetime(d.log["date"]), experiment=experiment)
    repeat = keys.merge(decisions, on=["date", "customer_id", "experiment"], how="left")["repeat"]
    assert repeat.notna().all(), f"{experiment}: a logged decision is missing from truth/decisions.csv"
    rates = pd.read_csv(out / "truth" / "decision_rates.csv").set_index("customuid")
    world = world_experiment(experiment)
    columns = [rate_column(world, a) for a in (NO_TREATMENT, *exp.variants)]
    true = np.where(
        repeat.to_numpy(dtype=bool)[:, None], REPEAT_RATE, rates.loc[d.log["customer_id"], columns].to_numpy()
    )
    return {name: float((p * true).sum(axis=1).mean()) for name, p in targets.items()}
