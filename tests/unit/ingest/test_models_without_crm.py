"""Models on an order feed alone, no customer data: each feed key is its own customer (identity
unknown_keys: own_id), so churn, response and clv models train on the keys seen before the cut-off
and score every key seen by the night. The simulated buyers buy at their own rate until they stop;
churn and response must rank who stops (AUC well above chance), clv must fit and score them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import parse_config
from pipeline.core.warehouse import connect
from pipeline.customers.events import build_event_days
from pipeline.ingest.ranges import ingest_range_file
from pipeline.ingest.sources.local_files import landed_file
from pipeline.models import training
from pipeline.models.scoring import score

START = dt.date(2026, 1, 1)
DAYS = 120
# ~190 test keys: the AUC over split seeds 1-20 is 0.76-0.88 (on 400 keys, ~76 test keys, 0.63-0.95)
KEYS = 1000
LAST = START + dt.timedelta(days=DAYS - 1)
ORDERS = [{"transaction": "completedOrder"}]


def _orders(seed: int) -> tuple[str, set[str]]:
    """A range file of orders: key i buys with probability rate_i a day from its first day until the
    day it stops; returns the CSV and the keys with an order."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(2.0, 0.06, KEYS)
    first = rng.integers(0, 40, KEYS)
    stop = first + rng.integers(20, 2 * DAYS, KEYS)
    day = np.arange(DAYS)
    buys = (rng.random((KEYS, DAYS)) < rate[:, None]) & (day >= first[:, None]) & (day < stop[:, None])
    who, when = np.nonzero(buys)
    amount = np.round(rng.gamma(3.0, 10.0, len(who)) + 1, 2)
    stamps = (np.datetime64(START) + when.astype("timedelta64[D]")).astype("datetime64[s]") + np.timedelta64(
        12, "h"
    )
    keys = np.char.add("K", np.char.zfill(who.astype(str), 4))
    lines = [f"{k},{t},{a:.2f}" for k, t, a in zip(keys, stamps.astype(str), amount, strict=True)]
    return "visitor,at,value\n" + "\n".join(lines) + "\n", {k.lower() for k in keys}


def _config(root: Path) -> dict:
    label = {"rules": ORDERS, "horizon_days": 30}
    return {
        "start_date": START.isoformat(),
        "warehouse": "w.duckdb",
        "sources": [{"name": "landing", "kind": "local_files", "folder": "files"}],
        "transactions": [
            {
                "name": "orders",
                "source": "landing",
                "file_name": "orders",
                "files": "range",
                "customer_field": "visitor",
                "time_field": "at",
                "event": {"type": "completedOrder", "value": "value"},
                "fields": [
                    {"name": "visitor", "type": "String"},
                    {"name": "at", "type": "Timestamp"},
                    {"name": "value", "type": "Decimal", "scale": 2},
                ],
            }
        ],
        "models": [
            {"name": "churn", "type": "churn", "label": label, "history_days": 90, "windows": [7, 30, 90]},
            {"name": "buy", "type": "response", "label": label, "history_days": 90, "windows": [7, 30, 90]},
            {
                "name": "ltv",
                "type": "clv",
                "label": {"rules": ORDERS, "horizon_days": 14},
                "time_unit": "weeks",
            },
        ],
    }


@pytest.fixture(scope="module")
def feed_only(tmp_path_factory):
    root = tmp_path_factory.mktemp("models_without_crm")
    config = parse_config(_config(root), "t.yaml", root)
    (root / "files").mkdir()
    text, keys = _orders(seed=11)
    path = root / "files" / "orders.csv"
    path.write_text(text)
    with connect(config.warehouse_path) as con:
        ingest_range_file(con, config.transactions[0], "landing", landed_file(path, LAST))
        build_event_days(con, config, [START + dt.timedelta(days=i) for i in range(DAYS)])
    return config, keys


@pytest.mark.parametrize("name", ["churn", "buy", "ltv"])
def test_models_train_and_score_on_the_feeds_own_keys(feed_only, tmp_path: Path, name: str) -> None:
    config, keys = feed_only
    spec = next(s for s in config.models if s.name == name)
    with connect(config.warehouse_path) as con:
        cutoff = {"c": LAST - dt.timedelta(29)}
        seen = con.execute("SELECT list(DISTINCT customer_id) FROM events WHERE occurred_at < $c", cutoff)
        seen = set(seen.fetchall()[0][0])
        stand_in = "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'customers'"
        assert con.execute(stand_in).fetchall() == [(0,)]  # no customer data in the warehouse
        training.mark(con, spec, LAST, training.RUNNING)
        prepared = training.prepare(con, config, spec, LAST)
        trained = training.train(prepared, spec, draw=False)
        training.record(con, spec, trained, tmp_path)
        _, rows = score(con, config, spec, LAST, tmp_path)
    if spec.type == "clv":  # the buyers before the cut-off (the last 14 days are its holdout)
        assert set(prepared.ids) <= keys and len(prepared.ids) > KEYS // 2
        assert {"bgnbd_r", "gamma_gamma_p"} <= set(trained.metrics)
        assert trained.metrics["holdout_correlation"] > 0.3
    else:  # the population: every key with an event before the cut-off (day 90)
        assert set(prepared.ids) == seen, (len(prepared.ids), len(seen))
        print(f"\n{name}: AUC {trained.metrics['auc']:.3f} on {len(prepared.ids)} keys")
        assert trained.metrics["auc"] > 0.7, trained.metrics["auc"]
    assert set(rows["customer_id"]) <= keys and len(rows) > KEYS // 2
    assert rows["score"].between(0, 1).all()
