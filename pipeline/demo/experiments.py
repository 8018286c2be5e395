"""The demo's experiments, with known true effects, closed over the pipeline's own decisions.

Decisions are the pipeline's (the `results` asset), made after the world's first days have landed;
so the demo runs in two steps (``nightjar demo`` does both):

0. before the pipeline runs, :func:`seed_history` lets a ``REPEAT_SHARE`` of the customers buy each
   experiment's promoted product once in the week before P (appended to the point-of-sale files):
   the pre-period conversions that CUPED adjusts by;
1. the pipeline runs up to the presentation day P (the experiments' ``start`` = ``end`` = P in the
   demo config) and decides who gets which variant on P;
2. :func:`simulate_responses` reads those decisions and lets each presented customer respond with
   the TRUE conversion rate r of the variant they actually got (control: the base rate) on average:
   a customer who bought the product before P buys again with probability h (``REPEAT_RATE``)
   whatever the variant, the others with (r - q h) / (1 - q), q being the share of the experiment's
   presented customers who bought before (so pre-period purchases predict the outcome, the variant
   works on the others only, and the rates average to r): a responder
   buys the experiment's promoted product (``PROMO-OFFER`` / ``PROMO-CHANNEL``, sold nowhere else)
   once, on a day drawn uniformly within the window P .. P + window_days - 1, for a
   fixed amount. These rows are appended to that day's point-of-sale file; the true rates and
   lifts go to ``truth/experiments.json``;
3. the pipeline runs again from P to the last day: ingestion, conversions and the report measure
   what the world did, and tests compare the report's lifts with the truth.

Because every presented customer responds at most once and only the experiment's product counts,
the true absolute lift of a variant is its rate minus the control rate (its customers and control's
are assigned alike, so q is the same in both, in expectation), and the true value lift is that times
the amount.
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

# True conversion rate per experiment and variant ('control': the held-out customers' base rate).
TRUE_RATES = {
    "offer": {"control": 0.10, "discount_10": 0.14, "discount_20": 0.22, "free_shipping": 0.10},
    "channel": {"control": 0.08, "email": 0.16, "sms": 0.11},
}
PRODUCT = {"offer": "PROMO-OFFER", "channel": "PROMO-CHANNEL"}
AMOUNT = {"offer": 25.0, "channel": 40.0}
POS_FILE = "trans_pos_{day:%Y%m%d}.csv"
REPEAT_SHARE = 0.1  # of the customers, per experiment: bought its product in the week before P
REPEAT_RATE = 0.95  # they buy it again, whatever they are given (at most 0.95 x the lowest rate / q)
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


def repeat_rate(rates: dict[str, float], share: float) -> float:
    """h: the rate of the customers who bought before (a ``share`` of those presented), REPEAT_RATE
    unless that would leave the others of the lowest-rate variant a negative rate."""
    return min(REPEAT_RATE, REPEAT_RATE * min(rates.values()) / share) if share > 0 else 0.0


def response_rate(mean: np.ndarray, repeat: np.ndarray, share: np.ndarray, again: np.ndarray) -> np.ndarray:
    """Each customer's response rate: ``again`` (h) for one who bought before, else
    (mean - share h) / (1 - share), so that the rates average to the variant's ``mean``."""
    return np.where(repeat, again, (mean - share * again) / (1 - share))


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
    for exp in TRUE_RATES:
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
        # who bought the experiment's product before the day (seed_history): their rate is higher
        before = con.execute(
            "SELECT DISTINCT customer_id, product, true AS repeat FROM tx_pos "
            "WHERE _partition_date < $d AND list_contains($p, product)",
            {"d": day, "p": list(PRODUCT.values())},
        ).df()
    rng = np.random.default_rng([seed, day.toordinal()])
    keyed = decided.assign(product=decided.experiment.map(PRODUCT))
    repeat = keyed.merge(before, on=["customer_id", "product"], how="left").repeat.eq(True).to_numpy()
    share = pd.Series(repeat, dtype=float).groupby(decided.experiment.to_numpy()).mean().to_dict()
    again = {e: repeat_rate(r, share.get(e, 0.0)) for e, r in TRUE_RATES.items()}
    q = decided.experiment.map(share).fillna(0).to_numpy(dtype=float)
    h = decided.experiment.map(again).fillna(0).to_numpy(dtype=float)
    mean = np.array(
        [TRUE_RATES.get(e, {}).get(v, 0.0) for e, v in zip(decided.experiment, decided.variant, strict=True)]
    )
    rate = response_rate(mean, repeat, q, h)
    responds = rng.random(len(decided)) < rate
    span = min(window_days, (last_day - day).days + 1)
    offset = rng.integers(0, span, len(decided))
    _append(out_dir / "files", decided[responds].assign(offset=offset[responds]), day, "R")
    counts = (
        decided.assign(responded=responds)
        .groupby(["experiment", "variant"])
        .responded.agg(["size", "sum"])
        .to_dict("index")
    )
    truth = {
        "presentation_date": day.isoformat(),
        "window_days": window_days,
        "responses_appended_to_pos": int(responds.sum()),
        "experiments": {
            exp: {
                "product": PRODUCT[exp],
                "amount": AMOUNT[exp],
                "true_rate": rates,
                "pre_period_buyers": share.get(exp, 0.0),  # q: their rate h, the others' (r - q h) / (1 - q)
                "pre_period_buyers_rate": again[exp],  # h
                "true_abs_lift": {
                    v: round(r - rates["control"], 10) for v, r in rates.items() if v != "control"
                },
                "true_value_lift": {
                    v: round((r - rates["control"]) * AMOUNT[exp], 10)
                    for v, r in rates.items()
                    if v != "control"
                },
                "simulated": {
                    v: {
                        "presented": int(counts[(exp, v)]["size"]),
                        "responded": int(counts[(exp, v)]["sum"]),
                    }
                    for v in rates
                    if (exp, v) in counts
                },
            }
            for exp, rates in TRUE_RATES.items()
        },
    }
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    (out_dir / "truth" / "experiments.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return truth
