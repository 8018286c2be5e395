"""Decision quality: ``python -m bench.decisions`` -> the "Decision quality" section of bench/RESULTS.md.

A closed loop on the demo's heterogeneous world, as a pure-function simulation (NumPy, no Dagster, no
warehouse): the customers are the demo world's (pipeline/demo/population.py, the same generator and
seed), their hidden traits and true per-arm rates are pipeline/demo/effects.py's, and the policies
are the pipeline's own functions (pipeline/experiments/learned.py: ``learned_probabilities`` for
propensity and uplift, ``thompson_probabilities``; pipeline/experiments/policies: ``uniform``,
``draw``). What the simulation stands in for: the features are effects.observed_features (what the
customer 360 shows, drawn from the same traits) instead of the feature SQL, and the learned
policies are refitted every ``retrain`` days instead of nightly.

Every day a seventh of the customers (a weekly cadence per customer) is decided for the ``offer``
experiment; a fixed hash keeps ``control_share`` of them as control. A decision's response is drawn
from the customer's true rate of the chosen arm (the same uniform number per customer and day for
every policy); it is learned from once its ``window`` days have passed. Measured from the truth: the
true incremental conversions per 1,000 decisions (the chosen arm's true rate minus the
no-treatment rate; control decisions left out, they are the same for every policy) of each policy,
of the oracle (each customer's truly best arm, no treatment included), of the best single variant
for everyone and of uniform random among the variants; and each one's share of the achievable gain,
(policy - random) / (oracle - random).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

from pipeline.demo.effects import ARMS, draw_traits, observed_features, true_rates
from pipeline.demo.population import TASTES, draw_population
from pipeline.experiments import policies
from pipeline.experiments.learned import (
    learned_probabilities,
    segment_edges,
    segments,
    thompson_probabilities,
)

BENCH = Path(__file__).resolve().parent
POLICIES = ("uniform", "propensity", "uplift", "thompson")
EXPERIMENT = "offer"


def world(seed: int, customers: int, days: int):
    """The demo world's customers (as generate_world draws them), their traits, true rates, features."""
    rng = np.random.default_rng(seed)
    taste = np.random.default_rng([seed, 5]).integers(0, TASTES, customers)
    start_ts = int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp())
    pop = draw_population(rng, customers, days, start_ts, taste)
    traits = draw_traits(pop, seed)
    return pop, true_rates(pop, traits, EXPERIMENT), observed_features(pop, traits, seed)


def probabilities(
    policy: str, x: np.ndarray, score: np.ndarray, log: dict, exploration: float, seed: int
) -> np.ndarray:
    """Every customer's probability of each arm (column 0: no treatment) from what is learned so far."""
    n, arms = len(x), len(ARMS[EXPERIMENT])
    variants = arms - 1
    cust, arm, y = (np.asarray(log[k], dtype=np.int64) for k in ("cust", "arm", "y"))
    out = np.zeros((n, arms))
    if policy == "uniform":
        out[:, 1:] = policies.uniform(n, variants)
    elif policy == "uplift":
        eligible = np.ones((n, arms), dtype=bool)
        out, _ = learned_probabilities(
            policy, x[cust], arm, y, x, eligible, 1.0, np.zeros(variants), exploration, seed
        )
    elif policy == "propensity":
        eligible = np.ones((n, variants), dtype=bool)
        out[:, 1:], _ = learned_probabilities(
            policy, x[cust], arm - 1, y, x, eligible, 1.0, np.zeros(variants), exploration, seed
        )
    else:
        edges = segment_edges(score[cust])
        out[:, 1:], _ = thompson_probabilities(
            segments(score[cust], edges), arm - 1, y, segments(score, edges), variants, exploration, seed
        )
    return out


def simulate(
    seed: int,
    customers: int,
    days: int,
    window: int = 3,
    retrain: int = 7,
    control_share: float = 0.1,
    exploration: float = 0.05,
) -> dict:
    """The loop for every policy on one world: true incremental conversions per 1,000 decisions."""
    _, rates, x = world(seed, customers, days)
    score = x[:, 4] + 0.1 * x[:, 5] + 0.01 * x[:, 6]  # Thompson's segments: activity, a score's stand-in
    inc = rates[:, 1:] - rates[:, :1]
    control = np.random.default_rng([seed, 23]).random(customers) < control_share
    u = np.random.default_rng([seed, 29]).random((days, customers))
    ids = np.char.add("C", np.arange(customers).astype(str))
    treated_days = [np.flatnonzero((np.arange(customers) % 7 == d % 7) & ~control) for d in range(days)]
    decided = np.concatenate(treated_days)
    oracle = float(np.maximum(inc.max(axis=1), 0)[decided].mean())
    best = int(inc[decided].mean(axis=0).argmax())
    out = {
        "oracle": oracle,
        "best_single_variant": float(inc[decided, best].mean()),
        "best_variant": ARMS[EXPERIMENT][best + 1],
        "random": float(inc[decided].mean()),
    }
    for policy in POLICIES:
        began = time.monotonic()
        log: dict[str, list] = {"cust": [], "arm": [], "y": [], "day": []}
        gained, late = [], []
        probs = probabilities(policy, x, score, {"cust": [], "arm": [], "y": []}, exploration, seed)
        for d in range(days):
            if d >= window and (d - window) % retrain == 0:
                closed = np.asarray(log["day"]) + window <= d
                learned = {k: np.asarray(log[k])[closed] for k in ("cust", "arm", "y")}
                probs = probabilities(policy, x, score, learned, exploration, seed + d)
            who = np.flatnonzero(np.arange(customers) % 7 == d % 7)
            keys = np.char.add(ids[who], f"|{EXPERIMENT}|{d}").tolist()
            arm = np.where(control[who], 0, policies.draw(probs[who], keys))
            log["cust"] += who.tolist()
            log["arm"] += arm.tolist()
            log["y"] += (u[d, who] < rates[who, arm]).astype(int).tolist()
            log["day"] += [d] * len(who)
            true_gain = (rates[who, arm] - rates[who, 0])[~control[who]]
            gained.append(true_gain)
            if d >= window:
                late.append(true_gain)
        out[policy] = float(np.concatenate(gained).mean())
        out[policy + "_after_first_window"] = float(np.concatenate(late).mean())
        out[policy + "_seconds"] = time.monotonic() - began
    return out


def share(value: float, r: dict) -> float:
    return (value - r["random"]) / (r["oracle"] - r["random"])


def render(runs: dict[int, dict], args: argparse.Namespace, seconds: float) -> str:
    lines = [
        "## Decision quality",
        "",
        f"Written by `python -m bench.decisions` ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}, "
        f"{seconds:.0f} s): the closed loop of the `offer` experiment (arms: "
        f"{', '.join(ARMS[EXPERIMENT])}) on the demo's heterogeneous world "
        f"(pipeline/demo/effects.py), {args.customers:,} customers, {args.days} days, seeds "
        f"{', '.join(map(str, args.seeds))}; every customer decided once a week (a seventh each day), "
        f"control share {args.control_share}, exploration {args.exploration}, responses learned from "
        f"after a {args.window}-day window, learned policies refitted every {args.retrain} days.",
        "",
        "**A pure-function simulation of the loop**, not Dagster runs: the same world generator "
        "(pipeline/demo/population.py + effects.py) and the same policy functions as the pipeline "
        "(pipeline/experiments/learned.py, policies/); the features are effects.observed_features "
        "(what the customer 360 would show) rather than the feature SQL. Figures are true incremental "
        "conversions per 1,000 decisions (control decisions left out), computed from the truth "
        "(the chosen arm's true rate minus the customer's no-treatment rate); *share* is "
        "(policy - random) / (oracle - random). Uplift's target: share ≥ 0.8 and above the best "
        "single variant on every seed.",
        "",
        "| seed | oracle | best single variant | uniform random | "
        + " | ".join(p for p in POLICIES if p != "uniform")
        + " | uplift share | uplift share after the first window | target met |",
        "| --- " * (6 + len(POLICIES)) + "|",
    ]
    for seed, r in runs.items():
        learned = [f"{1000 * r[p]:.2f} (share {share(r[p], r):.2f})" for p in POLICIES if p != "uniform"]
        met = share(r["uplift"], r) >= 0.8 and r["uplift"] > r["best_single_variant"]
        lines.append(
            f"| {seed} | {1000 * r['oracle']:.2f} | {1000 * r['best_single_variant']:.2f} "
            f"({r['best_variant']}, share {share(r['best_single_variant'], r):.2f}) | "
            f"{1000 * r['uniform']:.2f} | " + " | ".join(learned) + f" | {share(r['uplift'], r):.2f} | "
            f"{share(r['uplift_after_first_window'], r):.2f} | {'yes' if met else '**no**'} |"
        )
    shares = [share(r["uplift"], r) for r in runs.values()]
    beats = all(r["uplift"] > r["best_single_variant"] for r in runs.values())
    lines += [
        "",
        f"Uplift captures {min(shares):.2f}-{max(shares):.2f} of the achievable gain "
        f"({'above' if beats else 'not always above'} the best single variant on every seed): the 0.8 target "
        f"is {'met' if min(shares) >= 0.8 and beats else '**not met**'}. What holds it back: the first "
        f"{args.window} days decide uniformly (nothing has been learned yet; the column *after the first "
        "window* leaves them out), exploration keeps a share of random decisions, and the T-learner "
        "estimates effects of a few points of conversion rate from a few tens of thousands of decisions. "
        "Propensity (one model per variant) does about as well here because every variant shares the "
        "no-treatment base rate; uplift adds the choice to send nothing. Thompson per segment (quintiles of "
        "an activity score) cannot see price sensitivity and stays below the best single variant.",
        "",
    ]
    return "\n".join(lines)


def splice(results: Path, section: str) -> None:
    """Replace (or append) the Decision quality section of RESULTS.md."""
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    found = re.search(r"^## Decision quality\n.*?(?=^## |\Z)", text, flags=re.M | re.S)
    text = (
        text[: found.start()] + section + "\n" + text[found.end() :]
        if found
        else text.rstrip() + "\n\n" + section
    )
    results.write_text(text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=20_000)
    p.add_argument("--days", type=int, default=28)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--window", type=int, default=3)
    p.add_argument("--retrain", type=int, default=7)
    p.add_argument("--control-share", type=float, default=0.1)
    p.add_argument("--exploration", type=float, default=0.05)
    args = p.parse_args(argv)
    began = time.monotonic()
    runs = {}
    for seed in args.seeds:
        runs[seed] = simulate(
            seed, args.customers, args.days, args.window, args.retrain, args.control_share, args.exploration
        )
        print(json.dumps({"seed": seed, **runs[seed]}), flush=True)
    section = render(runs, args, time.monotonic() - began)
    (BENCH / "DECISIONS.md").write_text(section)
    splice(BENCH / "RESULTS.md", section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
