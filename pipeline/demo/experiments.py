"""The demo's experiments, with known true effects, closed over the pipeline's own decisions.

Decisions are the pipeline's (the `results` asset), made after the world's first days have landed;
so the demo runs in two steps (``nightjar demo`` does both):

1. the pipeline runs up to the presentation day P (the experiments' ``start`` = ``end`` = P in the
   demo config) and decides who gets which variant on P;
2. :func:`simulate_responses` reads those decisions and lets each presented customer respond with
   the TRUE conversion rate of the variant they actually got (control: the base rate): a responder
   buys the experiment's promoted product (``PROMO-OFFER`` / ``PROMO-CHANNEL``, never sold
   otherwise) once, on a day drawn uniformly within the window P .. P + window_days - 1, for a
   fixed amount. These rows are appended to that day's point-of-sale file; the true rates and
   lifts go to ``truth/experiments.json``;
3. the pipeline runs again from P to the last day: ingestion, conversions and the report measure
   what the world did, and tests compare the report's lifts with the truth.

Because every presented customer responds at most once and only the experiment's product counts,
the true absolute lift of a variant is exactly its rate minus the control rate, and the true value
lift is that times the amount.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import cast

import duckdb
import numpy as np

# True conversion rate per experiment and variant ('control': the held-out customers' base rate).
TRUE_RATES = {
    "offer": {"control": 0.10, "discount_10": 0.14, "discount_20": 0.22, "free_shipping": 0.10},
    "channel": {"control": 0.08, "email": 0.16, "sms": 0.11},
}
PRODUCT = {"offer": "PROMO-OFFER", "channel": "PROMO-CHANNEL"}
AMOUNT = {"offer": 25.0, "channel": 40.0}
POS_FILE = "trans_pos_{day:%Y%m%d}.csv"


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
    rng = np.random.default_rng([seed, day.toordinal()])
    rate = np.array(
        [TRUE_RATES.get(e, {}).get(v, 0.0) for e, v in zip(decided.experiment, decided.variant, strict=True)]
    )
    responds = rng.random(len(decided)) < rate
    span = min(window_days, (last_day - day).days + 1)
    offset = rng.integers(0, span, len(decided))
    rows = decided[responds].assign(offset=offset[responds])
    files = out_dir / "files"
    for k, part in rows.groupby("offset", sort=True):
        when = day + dt.timedelta(days=int(cast(int, k)))  # a key of the integer column `offset`
        path = files / POS_FILE.format(day=when)
        with open(path, encoding="utf-8") as fh:
            header = next(csv.reader(fh))
        columns = {
            "order_id": [f"R{when:%Y%m%d}-{i:05d}" for i in range(len(part))],
            "customer_id": part.customer_id.tolist(),
            "purchased_at": [f"{when:%m/%d/%Y}"] * len(part),
            "store": ["ST01"] * len(part),
            "product": [PRODUCT[e] for e in part.experiment],
            "quantity": ["1"] * len(part),
            "amount": [f"{AMOUNT[e]:.2f}" for e in part.experiment],
        }
        with open(path, "a", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(zip(*(columns[h] for h in header), strict=True))
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
