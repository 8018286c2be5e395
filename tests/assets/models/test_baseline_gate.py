"""With ``promote_if.min_gain_over_baseline`` set, a response or churn version that does not beat its
better baseline (recency alone, RFM) by it is REJECTED, a first version too (the night goes on without
the model) and a challenger within the champion's tolerance too; ``null`` (the default) only warns;
`nightjar model promote` still puts a REJECTED version in use."""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg
import numpy as np
import pandas as pd
import yaml
from scipy.special import expit

from pipeline.cli import main
from pipeline.config import parse_config
from pipeline.core.warehouse import connect
from pipeline.models import champion, training
from pipeline.models.config import PromoteIf
from pipeline.models.train import TEST, split_customers
from tests.assets.models.conftest import LAST, copy_world, q
from tests.conftest import run_nightly

MODEL = "recency_only"


def _recency_labels(config, path) -> None:
    """A small shop's customer list: 300 customers of the population at LAST's cut-off, each labelled
    1 with a probability that falls with the days since their last event (recency alone, with noise):
    LightGBM on 180 training customers cannot beat a logistic regression on recency."""
    spec = config.model("purchase_30d")  # the same 30-day horizon: the same cut-off and population
    with connect(config.warehouse_path, read_only=True) as con:
        prepared = training.prepare(con, config, spec, LAST)
    recency = np.nan_to_num(prepared.X["days_since_last_event"].to_numpy(dtype=float), nan=400.0)
    y = np.random.default_rng(1).random(len(recency)) < expit(2.0 - 0.9 * np.log1p(recency))
    labels = pd.DataFrame({"customer_id": prepared.ids, "label": y.astype(int)})
    labels.sample(300, random_state=1).to_csv(path, index=False)


def _with_recency_model(config, tmp_path, promote_if: dict | None = None):
    """A copy of the world whose config adds a response model on the recency labels (retrained every
    night), and the offer experiment weighs its choice by it; returns (config, CLI arguments)."""
    labels = tmp_path / "recency_labels.csv"
    _recency_labels(config, labels)
    data = copy_world(config, tmp_path)
    model = {
        "name": MODEL,
        "type": "response",
        "label": {"customer_list": str(labels), "horizon_days": 30},
        "retrain_every_days": 1,
    }
    data["models"].append({**model, **({"promote_if": promote_if} if promote_if else {})})
    offer = data["experiments"][0]  # decides the night after LAST, weighing its choice by the model
    offer.update(model=MODEL, start=str(LAST), end=str(LAST + dt.timedelta(days=7)))
    # the CLI reads the config from a file: beside the world's, as its relative paths are
    path = config.base_dir / f"nightjar-{tmp_path.name}.yaml"
    path.write_text(yaml.safe_dump(data))
    copy = parse_config(data, path, config.base_dir)
    return copy, ["--config", str(path), "--warehouse", str(copy.warehouse_path)]


def _training(config, version):
    rows = q(
        config,
        "SELECT status, reason, metrics FROM model_trainings WHERE model = $m AND version = $v",
        {"m": MODEL, "v": version},
    )
    return rows[0][0], rows[0][1], json.loads(rows[0][2])


def _scored(config, model: str, day) -> set:
    rows = q(
        config,
        "SELECT DISTINCT version FROM predictions WHERE model = $m AND date = $d",
        {"m": model, "d": day},
    )
    return {r[0] for r in rows}


def test_a_first_version_below_its_baseline_is_rejected_the_night_goes_on_and_promote_forces_it(
    world, tmp_path, capsys
):
    config, _ = world
    copy, cli = _with_recency_model(config, tmp_path, {"min_gain_over_baseline": 0.0})
    instance = dg.DagsterInstance.ephemeral()
    result = run_nightly(copy, LAST, assets=[f"model_{MODEL}", "predictions"], instance=instance)
    assert result.success
    status, reason, m = _training(copy, LAST)
    with capsys.disabled():
        print(
            f"\n{MODEL}: AUC {m['auc']:.4f}, recency {m['baseline_recency_auc']:.4f}, "
            f"RFM {m['baseline_rfm_auc']:.4f}, gain {m['auc_gain_over_baseline']:+.4f}"
        )
    assert m["auc_gain_over_baseline"] < 0 and "champion_auc_same_customers" not in m  # no champion
    assert status == "REJECTED"
    best = max(("recency", "rfm"), key=lambda b: m[f"baseline_{b}_auc"])
    assert reason == (
        f"test AUC {m['auc']:.4f} is below its better baseline ({best}) {m[f'baseline_{best}_auc']:.4f} by "
        f"{-m['auc_gain_over_baseline']:.4f} on the same test customers; promote_if.min_gain_over_baseline "
        "asks a gain of at least 0"
    )
    # no FINISHED version: the night scores the other models and skips this one, saying so
    said = [e.user_message for e in instance.all_logs(result.run_id)]
    assert any(f"{MODEL} {LAST}: REJECTED: {reason}" in s for s in said)
    assert any(f"model '{MODEL}' has no FINISHED version on or before {LAST}; not scored" in s for s in said)
    assert _scored(copy, MODEL, LAST) == set() and _scored(copy, "purchase_30d", LAST) == {LAST}
    # the night's decisions (for the next day) of the experiment weighing by it go on (score 1: the
    # propensity alone)
    day = LAST + dt.timedelta(days=1)
    assert run_nightly(copy, LAST, assets=["results"]).success
    decided = q(copy, "SELECT count(*) FROM results WHERE experiment = 'offer' AND date = $d", {"d": day})
    assert decided[0][0] > 0
    assert main(["model", "versions", MODEL, *cli]) == 0
    assert f"{LAST}  REJECTED" in capsys.readouterr().out
    # a person can still put it in use
    assert main(["model", "promote", MODEL, str(LAST), *cli]) == 0
    assert f"version {LAST} is in use" in capsys.readouterr().out
    assert run_nightly(copy, LAST, assets=["predictions"]).success
    assert _scored(copy, MODEL, LAST) == {LAST}


def test_with_the_check_off_a_version_below_its_baseline_is_finished_and_scores(world, tmp_path):
    config, _ = world
    copy, _ = _with_recency_model(config, tmp_path, {"min_gain_over_baseline": None})
    assert run_nightly(copy, LAST, assets=[f"model_{MODEL}", "predictions"]).success
    status, reason, m = _training(copy, LAST)
    assert m["auc_gain_over_baseline"] < 0 and (status, reason) == ("FINISHED", None)
    assert _scored(copy, MODEL, LAST) == {LAST}


def _plant_noisy_challenger(config, day, promote_if: dict):
    """Train purchase_30d for ``day`` with the labels of 80 % of its non-test customers shuffled (the
    test split keeps the true labels), then challenge the champion (the demo's version of LAST) and
    record it, as the asset does."""
    spec = config.model("purchase_30d").model_copy(update={"promote_if": PromoteIf(**promote_if)})
    models = config.warehouse_path.parent / "models"
    with connect(config.warehouse_path) as con:
        training.mark(con, spec, day, training.RUNNING)
        prepared = training.prepare(con, config, spec, day)
    customers = np.unique(prepared.ids)
    parts = pd.Series(split_customers(customers, spec.split, spec.shuffle, spec.seed), index=customers)
    rng = np.random.default_rng(0)
    rows = np.flatnonzero(parts.reindex(prepared.ids).to_numpy() != TEST)
    rows = rng.choice(rows, int(0.8 * len(rows)), replace=False)
    y = prepared.y.copy()
    y[rows] = rng.permutation(y[rows])
    planted = training.Prepared(prepared.window, prepared.ids, prepared.X, y)
    trained = training.train(planted, spec, draw=False)
    with connect(config.warehouse_path) as con:
        champion.challenge(con, spec, planted, trained, models)
        training.record(con, spec, trained, models)
    return trained


def test_a_challenger_below_its_baseline_is_rejected_though_within_the_champions_tolerance(world, tmp_path):
    config, _ = world
    copy = parse_config(copy_world(config, tmp_path), config.base_dir / "nightjar.yaml", config.base_dir)
    day = LAST + dt.timedelta(days=1)
    trained = _plant_noisy_challenger(copy, day, {"auc_tolerance": 1, "min_gain_over_baseline": 0.0})
    m = trained.metrics
    print(
        f"\nnoisy labels: AUC {m['auc']:.4f}, champion {m['champion_auc_same_customers']:.4f}, gain over "
        f"the baseline {m['auc_gain_over_baseline']:+.4f}"
    )
    assert m["auc_gain_over_baseline"] < 0 and m["auc"] <= m["champion_auc_same_customers"]
    assert trained.status == training.REJECTED and trained.warning is None
    row = q(
        copy,
        "SELECT status, reason FROM model_trainings WHERE model = 'purchase_30d' AND version = $v",
        {"v": day},
    )
    assert row[0][0] == "REJECTED" and row[0][1] == trained.reason
    assert trained.reason.startswith(f"test AUC {m['auc']:.4f} is below its better baseline (")
    assert "below the current version" not in trained.reason  # within the tolerance of 1
    assert run_nightly(copy, day, assets=["predictions"]).success
    assert _scored(copy, "purchase_30d", day) == {LAST}
    # the check off: the same planting (a day later: the REJECTED version is never trained again) is
    # within the tolerance, FINISHED and scores
    later = day + dt.timedelta(days=1)
    trained = _plant_noisy_challenger(copy, later, {"auc_tolerance": 1, "min_gain_over_baseline": None})
    assert trained.status == training.FINISHED and trained.reason is None
    assert run_nightly(copy, later, assets=["predictions"]).success
    assert _scored(copy, "purchase_30d", later) == {later}
