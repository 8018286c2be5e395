"""Simulated worlds of a learned policy whose variants do nothing, for the report's tests
(tests/unit/experiments/test_report_learned.py).

Each world is an experiment of its own: CUSTOMERS customers with a feature s uniform in [0, 1] and a
conversion rate 0.02 + 0.5 s whatever they are given (no variant has an effect), CONTROL_SHARE of them
held out by a hash fixed for ever, every customer decided on each of NIGHTS nights. The policy draws
`discount_10` or `discount_20` for every customer, held out or not (as sql/experiments/decide.sql
draws before the hold-out): uniformly on the first night (a learned policy's warm-up), then with
P(discount_20) = 0.05 + 0.9 s (it learned to send the larger discount to the customers it predicts to
respond). The customers drawn `discount_20` are then those of higher rates, and more so on the later
night, so against the whole control group the variant shows a lift it does not have.

The rows are written as decide.sql and pipeline/experiments/conversions.py write them: `results`
(the control rows with the arm drawn for them in ``held_out_variant``, unless ``record`` is false: a
warehouse decided before the column) and `conversions` (each presentation converted with the
customer's rate; a pre-period conversion, the CUPED covariate, with the same rate; a value when
converted).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipeline.config import parse_config
from pipeline.core.sql import sql
from pipeline.experiments.config import ExperimentsConfig
from tests.conftest import example_dict

D = dt.date(2026, 3, 10)
WORLDS, CUSTOMERS, NIGHTS, CONTROL_SHARE = 200, 400, 2, 0.3
ARMS = ("discount_10", "discount_20")


@functools.cache
def config(policy: str = "thompson", worlds: int = WORLDS) -> ExperimentsConfig:
    """The worlds as experiments of ``policy`` (two discount variants, CONTROL_SHARE held out)."""
    data = copy.deepcopy(example_dict())
    data["experiments"] = [
        {
            "name": f"w{k}",
            "type": "NBO",
            "policy": policy,
            "model": "purchase_30d",
            "variants": list(ARMS),
            "control_share": CONTROL_SHARE,
        }
        for k in range(worlds)
    ]
    data["groups"] = []
    data["conversions"] = {"window_days": 5, "definitions": []}
    return parse_config(data, "nightjar.yaml", Path("."))


def decisions(seed: int, worlds: int = WORLDS) -> pd.DataFrame:
    """Every presentation of every world: date, customer, experiment, the arm drawn, held out or not,
    and the customer's conversion rate."""
    rng = np.random.default_rng(seed)
    n = worlds * CUSTOMERS
    s = rng.random(n)
    held = rng.random(n) < CONTROL_SHARE
    customers = pd.DataFrame(
        {
            "customer_id": [f"w{k}c{i}" for k in range(worlds) for i in range(CUSTOMERS)],
            "experiment": np.repeat([f"w{k}" for k in range(worlds)], CUSTOMERS),
            "is_control": held,
            "rate": 0.02 + 0.5 * s,
            "pre_converted": rng.random(n) < 0.02 + 0.5 * s,
        }
    )
    nights = []
    for night in range(NIGHTS):
        p20 = np.full(n, 0.5) if night == 0 else 0.05 + 0.9 * s
        drawn = np.where(rng.random(n) < p20, ARMS[1], ARMS[0])
        converted = rng.random(n) < customers["rate"].to_numpy()
        nights.append(
            customers.assign(
                date=D + dt.timedelta(days=night),
                drawn=drawn,
                converted=converted,
                value=np.where(converted, np.round(rng.gamma(2.0, 10.0, n), 2), 0.0),
            )
        )
    return pd.concat(nights, ignore_index=True)


def warehouse(frame: pd.DataFrame, record: bool = True) -> duckdb.DuckDBPyConnection:
    """`results` and `conversions` of the presentations in ``frame`` (complete windows)."""
    con = duckdb.connect()
    con.execute(sql("experiments/create_results"))
    con.execute(sql("experiments/create_conversions"))
    given = np.where(frame["is_control"], "control", frame["drawn"])
    rows = frame.assign(variant=given, drawn_variant=given)
    results = rows.assign(
        score=0.5,
        reason=np.where(frame["is_control"], "control: held out", "thompson: drawn"),
    )[["date", "customer_id", "experiment", "variant", "drawn_variant", "is_control", "score", "reason"]]
    if record:
        results = results.assign(held_out_variant=frame["drawn"].where(frame["is_control"]))
    start = pd.to_datetime(frame["date"])
    conversions = rows.assign(
        conversions=frame["converted"].astype(int),
        window_start=start,
        window_end=start + pd.Timedelta(days=5),
        window_complete=True,
    )[
        [
            *("date", "customer_id", "experiment", "variant", "drawn_variant", "is_control"),
            *("converted", "conversions", "value", "window_start", "window_end", "window_complete"),
            "pre_converted",
        ]
    ]
    for table, part in (("results", results), ("conversions", conversions)):
        con.register("_rows", part)
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
        con.unregister("_rows")
    return con
