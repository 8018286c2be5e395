"""The demo's experiments, with known true effects, closed over the pipeline's own decisions.

Decisions are the pipeline's (the `results` asset), made after the world's first days have landed;
so the demo runs in two steps (``nightjar demo`` does both):

0. before the pipeline runs, :func:`seed_history` lets a ``REPEAT_SHARE`` of the customers buy each
   experiment's promoted product once in the week before P (appended to the point-of-sale files):
   the pre-period conversions that CUPED adjusts by;
1. the pipeline runs up to the eve of the presentation day P (the experiments' ``start`` = ``end`` =
   P in the demo config), so the models are trained and score that eve, then runs P alone: it decides
   who gets which variant on P with those scores (results read the predictions of the day before);
2. :func:`simulate_responses` reads those decisions and lets each presented customer respond with
   THEIR true rate of the arm they actually got (truth/decision_rates.csv, pipeline/demo/effects.py:
   the rates differ between customers, some are hurt by a variant; control and no_treatment: the
   customer's no-treatment rate), except that a customer who bought the experiment's product before
   P (step 0) buys it again with probability ``REPEAT_RATE`` whatever they get (so pre-period
   purchases predict the outcome, and the variants work on the others only): a responder buys the
   experiment's promoted product (``PROMO-OFFER`` / ``PROMO-CHANNEL``, sold nowhere else) once, on a
   day drawn uniformly within the window P .. P + window_days - 1, for a fixed amount. These rows are
   appended to that day's point-of-sale file; the true rates and lifts go to
   ``truth/experiments.json``;
3. the pipeline runs again from P to the last day: ingestion, conversions and the report measure
   what the world did, and tests compare the report's lifts with the truth.

Because every presented customer responds at most once and only the experiment's product counts,
the true absolute lift of a variant over the experiment's presented customers (treated and control
alike, who are selected alike) is the mean over them of (their rate of the variant - their
no-treatment rate), both REPEAT_RATE for a repeat buyer, and the true value lift is that times the
amount. ``true_incremental`` is, per arm given, the sum over its customers of their own (rate -
no-treatment rate): the conversions the decisions caused.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import cast

import duckdb
import numpy as np
import pandas as pd

from pipeline.core.warehouse import table_exists
from pipeline.demo.effects import ARMS, rate_column

PRODUCT = {"offer": "PROMO-OFFER", "channel": "PROMO-CHANNEL"}
AMOUNT = {"offer": 25.0, "channel": 40.0}
POS_FILE = "trans_pos_{day:%Y%m%d}.csv"
REPEAT_SHARE = 0.2  # of the customers, per experiment: bought its product in the week before P
REPEAT_RATE = 0.95  # they buy it again, whatever they are given
HISTORY_DAYS = 7


def _append(files: Path, rows: pd.DataFrame, first: dt.date, tag: str) -> None:
    """Append purchases of the experiments' products (``customer_id, experiment, offset`` = days after
    ``first``) to the point-of-sale files of their days."""
    for k, part in rows.groupby("offset", sort=True):
        when = first + dt.timedelta(days=int(cast(int, k)))  # a key of the integer column `offset`
        path = files / POS_FILE.format(day=when)
        with open(path, encoding="utf-8") as fh:
            header = next(csv.reader(fh))
        columns = {
            "order_id": [f"{tag}{when:%Y%m%d}-{i:05d}" for i in range(len(part))],
            "customer_id": part.customer_id.tolist(),
            "purchased_at": [f"{when:%m/%d/%Y}"] * len(part),
            "store": ["ST01"] * len(part),
            "product": [PRODUCT[e] for e in part.experiment],
            "quantity": ["1"] * len(part),
            "amount": [f"{AMOUNT[e]:.2f}" for e in part.experiment],
        }
        with open(path, "a", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(zip(*(columns[h] for h in header), strict=True))


def seed_history(out_dir: Path, day: dt.date, world_start: dt.date, seed: int = 7) -> int:
    """Before the pipeline runs: per experiment, a REPEAT_SHARE of the customers (signed up before
    ``day``) buy its product once, on a uniform day of the HISTORY_DAYS before ``day`` (not before
    they signed up nor before the world starts). Returns the purchases appended."""
    people = pd.read_csv(out_dir / "truth" / "customers.csv", usecols=["customuid", "signed_up_on"])
    signed = pd.to_datetime(people.signed_up_on)
    known = people[signed.notna() & (signed < pd.Timestamp(day))]
    first = max(day - dt.timedelta(days=HISTORY_DAYS), world_start)
    rng = np.random.default_rng([seed, day.toordinal(), 1])
    since = (signed[known.index] - pd.Timestamp(first)).dt.days.clip(lower=0).to_numpy()
    rows = []
    for exp in ARMS:
        chosen = rng.random(len(known)) < REPEAT_SHARE
        span = (day - first).days - since
        offset = since + np.floor(rng.random(len(known)) * span).astype(int)
        rows.append(
            pd.DataFrame({"customer_id": known.customuid, "experiment": exp, "offset": offset})[chosen]
        )
    history = pd.concat(rows)
    _append(out_dir / "files", history, first, "H")
    return len(history)


def simulate_responses(
    warehouse: Path, out_dir: Path, day: dt.date, last_day: dt.date, window_days: int, seed: int = 7
) -> dict:
    """Append the responses to the decisions of ``day`` to the pos files; write and return the truth."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        decided = con.execute(
            "SELECT customer_id, experiment, variant FROM results WHERE date = $d "
            "ORDER BY experiment, customer_id",
            {"d": day},
        ).df()
        # who bought the experiment's product before the day (seed_history): they buy it again
        before = (
            con.execute(
                "SELECT DISTINCT customer_id, product, true AS repeat FROM tx_pos "
                "WHERE _partition_date < $d AND list_contains($p, product)",
                {"d": day, "p": list(PRODUCT.values())},
            ).df()
            if table_exists(con, "tx_pos")
            else pd.DataFrame({"customer_id": [], "product": [], "repeat": []})
        )
    rng = np.random.default_rng([seed, day.toordinal()])
    truth_rates = pd.read_csv(out_dir / "truth" / "decision_rates.csv").set_index("customuid")
    truth_rates = truth_rates[[c for c in truth_rates.columns if "__" in c]]  # the rates, not the traits
    keyed = decided.assign(product=decided.experiment.map(PRODUCT))
    repeat = keyed.merge(before, on=["customer_id", "product"], how="left").repeat.eq(True).to_numpy()
    nothing = decided.variant.isin(["control", "no_treatment"])
    own = _true_rate(truth_rates, decided, decided.variant.where(~nothing, "no_treatment"))
    rate = np.where(repeat, REPEAT_RATE, own)
    base = np.where(
        repeat, REPEAT_RATE, _true_rate(truth_rates, decided, pd.Series("no_treatment", index=decided.index))
    )
    responds = rng.random(len(decided)) < rate
    span = min(window_days, (last_day - day).days + 1)
    offset = rng.integers(0, span, len(decided))
    _append(out_dir / "files", decided[responds].assign(offset=offset[responds]), day, "R")
    decided = decided.assign(responded=responds, rate=rate, gain=rate - base, repeat=repeat)
    counts = decided.groupby(["experiment", "variant"]).agg(
        size=("responded", "size"), sum=("responded", "sum"), gain=("gain", "sum")
    )
    truth = {
        "presentation_date": day.isoformat(),
        "window_days": window_days,
        "responses_appended_to_pos": int(responds.sum()),
        "experiments": {
            exp: _experiment_truth(exp, decided[decided.experiment == exp], truth_rates, counts)
            for exp in ARMS
            if (decided.experiment == exp).any()
        },
    }
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    (out_dir / "truth" / "experiments.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return truth


def _true_rate(rates: pd.DataFrame, decided: pd.DataFrame, arm: pd.Series) -> np.ndarray:
    """Each decided customer's true rate of ``arm`` in their experiment (0: an experiment without truth)."""
    row = rates.index.get_indexer(pd.Index(decided.customer_id))
    col = rates.columns.get_indexer(pd.Index(decided.experiment + "__" + arm))
    found = (row >= 0) & (col >= 0)
    return np.where(found, rates.to_numpy(dtype=float)[row, col], 0.0)


def _experiment_truth(exp: str, decided: pd.DataFrame, rates: pd.DataFrame, counts: pd.DataFrame) -> dict:
    """The true mean rate of every arm over the experiment's presented customers, the lifts, what was
    simulated and the true incremental conversions per arm given."""
    repeat = decided.repeat.to_numpy()  # a repeat buyer's rate is REPEAT_RATE whatever the arm
    mean = {
        a: float(
            np.where(repeat, REPEAT_RATE, rates[rate_column(exp, a)].reindex(decided.customer_id)).mean()
        )
        for a in ARMS[exp]
    }
    given = counts.loc[exp]
    return {
        "product": PRODUCT[exp],
        "amount": AMOUNT[exp],
        "true_rate": {("control" if a == "no_treatment" else a): round(r, 10) for a, r in mean.items()},
        "pre_period_buyers": float(repeat.mean()),  # their rate: REPEAT_RATE, whatever they are given
        "true_abs_lift": {
            a: round(r - mean["no_treatment"], 10) for a, r in mean.items() if a != "no_treatment"
        },
        "true_value_lift": {
            a: round((r - mean["no_treatment"]) * AMOUNT[exp], 10)
            for a, r in mean.items()
            if a != "no_treatment"
        },
        "simulated": {
            v: {"presented": int(n), "responded": int(k)}
            for v, n, k in zip(given.index, given["size"], given["sum"], strict=True)
        },
        "true_incremental": {v: round(float(g), 6) for v, g in zip(given.index, given["gain"], strict=True)},
    }


def decision_summary(warehouse: Path, truth: dict) -> str:
    """The demo's decisions: per experiment, the incremental conversions per 1,000 decisions that the
    uniform draw (what the demo did) and the uplift policy reach, as the `policy_evaluation` asset
    estimates them from the logged decisions, next to the truth of the decisions made."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT experiment, policy, decisions, incremental, incremental_low, incremental_high "
            "FROM policy_evaluation WHERE policy IN ('uniform', 'uplift') ORDER BY experiment, policy DESC"
        ).fetchall()
    lines = ["Incremental conversions per 1,000 decisions (off-policy, doubly robust, 95% CI):"]
    for exp, policy, n, inc, low, high in rows:
        made = truth["experiments"].get(exp, {})
        presented = sum(v["presented"] for a, v in made.get("simulated", {}).items() if a != "control")
        true_inc = sum(made.get("true_incremental", {}).values())
        known = (
            f"; truth of the treated decisions made: {1000 * true_inc / presented:.1f}"
            if policy == "uniform" and presented
            else ""
        )
        lines.append(
            f"  {exp:<10} {policy:<8} {1000 * inc:6.1f} [{1000 * low:.1f}, {1000 * high:.1f}] "
            f"over {n} logged decisions{known}"
        )
    return (
        "\n".join(lines) if rows else "No policy evaluation (too few logged decisions with complete windows)."
    )
