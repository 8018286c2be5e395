"""The demo's experiments, with known true effects, closed over the pipeline's decisions night by night.

Decisions are the pipeline's (the `results` asset); ``nightjar demo`` (pipeline/cli/project.py) runs:

0. before the pipeline runs, :func:`seed_history` lets a ``REPEAT_SHARE`` of the customers buy each
   experiment's promoted product once in the week before the first presentation day (appended to the
   point-of-sale files): the pre-period conversions that CUPED adjusts by;
1. the pipeline up to the eve of the first presentation day D0 as one run (the models are trained and
   score that eve; its last night decides D0);
2. the closed loop over the presentation days D of the experiments' ``start``..``end``: the nightly
   run of the night before D loads that night's files and decides D (results read the data and the
   model scores up to that night, before D; the demo's ``cadence_days: 5`` decides a fifth of each
   experiment's (or group's) customers a night), then :func:`simulate_responses` lets each decided
   customer respond with THEIR true rate of the arm they actually got (truth/decision_rates.csv,
   pipeline/demo/effects.py: the rates differ between customers, some are hurt by a variant; control
   and no_treatment: the customer's no-treatment rate), except that a customer who bought the
   experiment's product before D buys it again with probability ``REPEAT_RATE`` whatever they get: a
   responder buys the experiment's promoted product (``PROMO-OFFER`` / ``PROMO-CHANNEL``, sold
   nowhere else) once, on a day drawn uniformly within its window (D .. D + window_days - 1),
   appended to that day's point-of-sale file before it is loaded; the next nights' runs load them,
   and the conversions, the report and the learned policies (uplift learns from the earlier nights)
   see them;
3. the rest of the days as one run, so the last days' windows close.

The truth goes to ``truth/`` only: ``decisions.csv`` (every decision with its customer's true rate
of the arm given and of no treatment, whether they responded and when) and ``experiments.json``
(per presentation day, under ``nights``, its decisions and responses; per experiment over those days
the true rates, the lift the report measures, what was simulated and the true incremental
conversions). ``offer_uplift``
decides the arms of the world's ``offer`` (SAME_ARMS) for other customers (another half of the
cities), so the two policies are compared on the same true rates.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import cast

import duckdb
import numpy as np
import pandas as pd

from pipeline.core.warehouse import table_exists
from pipeline.demo.effects import ARMS, rate_column
from pipeline.experiments.stats import two_proportions

PRODUCT = {"offer": "PROMO-OFFER", "channel": "PROMO-CHANNEL"}
AMOUNT = {"offer": 25.0, "channel": 40.0}
POS_FILE = "trans_pos_{day:%Y%m%d}.csv"
REPEAT_SHARE = 0.2  # of the customers, per experiment: bought its product in the week before P
REPEAT_RATE = 0.95  # they buy it again, whatever they are given
HISTORY_DAYS = 7
SAME_ARMS = {"offer_uplift": "offer"}  # experiments of the demo config deciding a world experiment's arms
UNIFORM = "uniform"  # the policy whose lifts are against the whole control group
DECISIONS = "decisions.csv"  # truth/: every decision of the closed loop with its true rates
DECISION_COLUMNS = [
    *("date", "customer_id", "experiment", "variant", "repeat"),
    *("rate", "no_treatment_rate", "responded", "response_on"),
]


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


def world_experiment(name: str) -> str:
    """The demo world's experiment (effects.ARMS) whose true rates an experiment of the config has."""
    return SAME_ARMS.get(name, name)


def simulate_responses(
    warehouse: Path,
    out_dir: Path,
    day: dt.date,
    last_day: dt.date,
    window_days: int,
    seed: int = 7,
    policies: Mapping[str, str] | None = None,
) -> dict:
    """The world's responses to the decisions presented on ``day`` (made by the run of the night before),
    appended to the pos files of the days of their window (day .. day + window_days - 1, none after
    ``last_day``: days not loaded yet); the day's decisions with their true rates are appended to
    truth/decisions.csv and truth/experiments.json is written again over every day so far
    (``policies``: each experiment's policy, which says what its true lifts are, see
    :func:`write_truth`). Returns that truth."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        decided = con.execute(
            "SELECT customer_id, experiment, variant FROM results WHERE date = $d "
            "ORDER BY experiment, customer_id",
            {"d": day},
        ).df()
        # who bought the experiment's product before the day (seed_history, or a response to an earlier
        # night): they buy it again whatever they get
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
    world = decided.experiment.map(world_experiment)
    keyed = decided.assign(product=world.map(PRODUCT))
    repeat = keyed.merge(before, on=["customer_id", "product"], how="left").repeat.eq(True).to_numpy()
    nothing = decided.variant.isin(["control", "no_treatment"])
    own = _true_rate(truth_rates, decided.customer_id, world, decided.variant.where(~nothing, "no_treatment"))
    base = _true_rate(truth_rates, decided.customer_id, world, pd.Series("no_treatment", index=decided.index))
    rate, base = np.where(repeat, REPEAT_RATE, own), np.where(repeat, REPEAT_RATE, base)
    span = max(min(window_days, (last_day - day).days + 1), 0)  # the days from `day` a response may land on
    responds = (rng.random(len(decided)) < rate) & (span > 0)
    offset = rng.integers(0, max(span, 1), len(decided))
    landed = decided.assign(experiment=world, offset=offset)[responds]
    _append(out_dir / "files", landed, day, f"R{day:%m%d}-")
    log = decided.assign(
        date=day.isoformat(),
        repeat=repeat,
        rate=rate.round(6),
        no_treatment_rate=base.round(6),
        responded=responds,
        response_on=np.where(responds, [(day + dt.timedelta(days=int(k))).isoformat() for k in offset], ""),
    )
    path = out_dir / "truth" / DECISIONS
    log[DECISION_COLUMNS].to_csv(path, mode="a", header=not path.exists(), index=False, lineterminator="\n")
    return write_truth(out_dir / "truth", window_days, policies)


def _true_rate(rates: pd.DataFrame, customers: pd.Series, world: pd.Series, arm: pd.Series) -> np.ndarray:
    """Each customer's true rate of ``arm`` in their world experiment (0: an experiment without truth)."""
    row = rates.index.get_indexer(pd.Index(customers))
    col = rates.columns.get_indexer(pd.Index(world + "__" + arm))
    found = (row >= 0) & (col >= 0)
    return np.where(found, rates.to_numpy(dtype=float)[row, col], 0.0)


def write_truth(folder: Path, window_days: int, policies: Mapping[str, str] | None = None) -> dict:
    """truth/experiments.json from truth/decisions.csv: per presentation day (``nights``) its decisions
    and responses, per experiment over every day the true rates and lifts (of its policy in
    ``policies``, uniform when not given), what was simulated, the true incremental conversions."""
    log = pd.read_csv(folder / DECISIONS, keep_default_na=False, dtype={"customer_id": str})
    rates = pd.read_csv(folder / "decision_rates.csv").set_index("customuid")
    nights = log.groupby("date").agg(decisions=("responded", "size"), responses=("responded", "sum"))
    truth = {
        "window_days": window_days,
        "nights": [
            {"date": d, "decisions": int(n), "responses_appended_to_pos": int(k)}
            for d, n, k in zip(nights.index, nights.decisions, nights.responses, strict=True)
        ],
        "responses_appended_to_pos": int(log.responded.sum()),
        "experiments": {
            str(exp): _experiment_truth(str(exp), part, rates, (policies or {}).get(str(exp), UNIFORM))
            for exp, part in log.groupby("experiment", sort=True)
            if world_experiment(str(exp)) in ARMS
        },
    }
    (folder / "experiments.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return truth


def _experiment_truth(exp: str, log: pd.DataFrame, rates: pd.DataFrame, policy: str = "uniform") -> dict:
    """The true mean rate of every arm over the experiment's presented customers; per variant given, the
    lift the report measures (pipeline/experiments/report.py), what was simulated and the true
    incremental conversions (the sum of each decision's rate minus its no-treatment rate).

    The lift the report measures depends on the control it compares with. ``uniform`` (the whole
    control group): the variant's customers' true rate minus the true no-treatment rate of all the
    presented customers (for a uniform draw, the variant's lift). A learned policy (the control
    customers drawn the same variant, whom the policy chooses alike): the mean over the customers
    given the variant of their true rate of it minus their own no-treatment rate, the variant's effect
    on the customers the policy gives it."""
    world = world_experiment(exp)
    repeat = log.repeat.to_numpy(dtype=bool)  # a repeat buyer's rate is REPEAT_RATE whatever the arm
    mean = {
        a: float(np.where(repeat, REPEAT_RATE, rates[rate_column(world, a)].reindex(log.customer_id)).mean())
        for a in ARMS[world]
    }
    base = float(log.no_treatment_rate.mean())
    given = log.assign(gain=log.rate - log.no_treatment_rate).groupby("variant", sort=True)
    arms = given.agg(
        presented=("rate", "size"),
        responded=("responded", "sum"),
        rate=("rate", "mean"),
        gain=("gain", "mean"),
    )
    lift = arms.rate - base if policy == UNIFORM else arms.gain
    gain = given.gain.sum()
    treated = log.variant != "control"
    return {
        "product": PRODUCT[world],
        "amount": AMOUNT[world],
        "true_rate": {("control" if a == "no_treatment" else a): round(r, 10) for a, r in mean.items()},
        "pre_period_buyers": float(repeat.mean()),  # their rate: REPEAT_RATE, whatever they are given
        "policy": policy,
        "true_abs_lift": {v: round(x, 10) for v, x in lift.items() if v != "control"},
        "true_value_lift": {v: round(x * AMOUNT[world], 10) for v, x in lift.items() if v != "control"},
        "simulated": {
            v: {"presented": int(n), "responded": int(k)}
            for v, n, k in zip(arms.index, arms.presented, arms.responded, strict=True)
        },
        "true_incremental": {v: round(float(g), 6) for v, g in gain.items()},
        "decisions": int(treated.sum()),  # control left out: the policy's decisions
        "true_incremental_per_1000": round(
            1000 * float((log.rate - log.no_treatment_rate)[treated].mean()) if treated.any() else 0.0, 6
        ),
    }


def measured_incremental(warehouse: Path) -> dict[str, tuple[float, float, float, int]]:
    """Per experiment, what the pipeline measured of its decisions (control left out) against its control
    group over the complete windows: the difference in conversion rate (95% interval) and the decisions."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT experiment, count(*) FILTER (NOT is_control), "
            "count(*) FILTER (NOT is_control AND converted), "
            "count(*) FILTER (is_control), count(*) FILTER (is_control AND converted) "
            "FROM conversions WHERE window_complete GROUP BY 1 ORDER BY 1"
        ).fetchall()
    out = {}
    for exp, n1, x1, n0, x0 in rows:
        got = two_proportions(x1, n1, x0, n0)
        out[exp] = (got.lift, got.low, got.high, n1)
    return out


def decision_summary(warehouse: Path, truth: dict, policies: Mapping[str, str]) -> str:
    """The closed loop's decisions: per experiment the true incremental conversions per 1,000 decisions
    (from the truth) next to what the pipeline measured against control; then, per experiment, the
    uniform and uplift policies as the `policy_evaluation` asset estimates them off-line."""
    nights = truth["nights"]
    measured = measured_incremental(warehouse)
    lines = [
        f"The closed loop, {len(nights)} day(s) {nights[0]['date']}..{nights[-1]['date']}: incremental "
        "conversions per 1,000 decisions (control left out), true (truth/decisions.csv) | measured "
        "against the control group (95% CI):"
    ]
    for exp, t in truth["experiments"].items():
        m = measured.get(exp)
        got = f"{1000 * m[0]:6.1f} [{1000 * m[1]:.1f}, {1000 * m[2]:.1f}]" if m else "   n/a"
        lines.append(
            f"  {exp:<13} {policies.get(exp, '?'):<8} true {t['true_incremental_per_1000']:6.1f} | "
            f"measured {got} over {t['decisions']} decisions"
        )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT experiment, policy, decisions, incremental, incremental_low, incremental_high "
            "FROM policy_evaluation WHERE policy IN ('uniform', 'uplift') ORDER BY experiment, policy DESC"
        ).fetchall()
    lines.append("Incremental conversions per 1,000 decisions (off-policy, doubly robust, 95% CI):")
    lines += [
        f"  {exp:<13} {policy:<8} {1000 * inc:6.1f} [{1000 * low:.1f}, {1000 * high:.1f}] "
        f"over {n} logged decisions"
        for exp, policy, n, inc, low, high in rows
    ] or ["  none yet (too few logged decisions with complete windows)"]
    return "\n".join(lines)
