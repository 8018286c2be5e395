"""The demo world the model tests share (built once): 56 days, its models trained on the last day."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time

import pytest
import yaml

from pipeline.cli import write_demo_config
from pipeline.config import load_config
from pipeline.core.warehouse import connect
from pipeline.demo import generate_world
from tests.conftest import run_nightly

START, DAYS, CUSTOMERS = dt.date(2026, 1, 1), 56, 2000
LAST = START + dt.timedelta(days=DAYS - 1)
DATA = ["tx_pos", "tx_web_sessions", "tx_campaign_events", "customers", "customer_identities", "events"]
MODELS = ["model_purchase_30d", "model_churn_60d", "model_product_recommender", "model_ltv"]


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    """The demo world (56 days, so the 30-day label window is complete) with its models trained on the
    last day."""
    out = tmp_path_factory.mktemp("models")
    began = time.monotonic()
    generate_world(out, customers=CUSTOMERS, days=DAYS, start=START)
    config = load_config(write_demo_config(out, START))
    assert run_nightly(config, START, LAST, assets=DATA).success
    built = time.monotonic()
    result = run_nightly(config, LAST, assets=MODELS + ["predictions"])
    assert result.success
    print(f"\nworld + warehouse {built - began:.1f} s, training and scoring {time.monotonic() - built:.1f} s")
    return config, result


def q(config, query: str, params=None):
    with connect(config.warehouse_path, read_only=True) as con:
        return con.execute(query, params or {}).fetchall()


def trainings(config) -> dict[str, dict]:
    rows = q(
        config,
        "SELECT model, status, version, cutoff, label_start, label_end, metrics, features, error "
        "FROM model_trainings",
    )
    return {
        r[0]: {
            "status": r[1],
            "version": r[2],
            "cutoff": r[3],
            "label_start": r[4],
            "label_end": r[5],
            "metrics": json.loads(r[6]) if r[6] else None,
            "features": json.loads(r[7]) if r[7] else None,
            "error": r[8],
        }
        for r in rows
    }


def materialization(result, asset: str) -> dict:
    events = result.asset_materializations_for_node(asset)
    assert len(events) == 1
    return events[0].metadata


def copy_world(config, tmp_path):
    """A copy of the warehouse and its model store, with a config pointing at it."""
    shutil.copy(config.warehouse_path, tmp_path / "warehouse.duckdb")
    shutil.copytree(config.warehouse_path.parent / "models", tmp_path / "models")
    data = yaml.safe_load((config.base_dir / "nightjar.yaml").read_text())
    data["warehouse"] = str(tmp_path / "warehouse.duckdb")
    # the demo's experiments score with purchase_30d: a test that declares other models names its own
    # (and offer_uplift's uplift policy, which learns from that model's features, decides uniformly)
    data["experiments"] = [
        {k: v for k, v in e.items() if k not in ("model", "policy")} for e in data["experiments"]
    ]
    return data
