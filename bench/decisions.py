"""Decision quality: ``python -m bench.decisions`` -> the "Decision quality" section of bench/RESULTS.md.

The closed loop on the demo's heterogeneous world is pipeline/demo/loop.py (a pure-function simulation:
NumPy and the pipeline's own policy functions, no Dagster, no warehouse); this module runs it for
every policy on several seeds and reports, from the truth, the true incremental conversions per 1,000
decisions of each policy, of the oracle (each customer's truly best arm, no treatment included), of
the best single variant for everyone and of uniform random among the variants; and each one's share
of the achievable gain, (policy - random) / (oracle - random).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
from pathlib import Path

from pipeline.demo.effects import ARMS
from pipeline.demo.loop import EXPERIMENT, POLICIES, share, simulate

BENCH = Path(__file__).resolve().parent


def render(runs: dict[int, dict], args: argparse.Namespace, seconds: float) -> str:
    lines = [
        "## Decision quality",
        "",
        f"Written by `python -m bench.decisions` ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}, "
        f"{seconds:.0f} s): the closed loop of the `offer` experiment (arms: "
        f"{', '.join(ARMS[EXPERIMENT])}) on the demo's heterogeneous world "
        f"(pipeline/demo/effects.py), {args.customers:,} customers, {args.days} days, seeds "
        f"{', '.join(map(str, args.seeds))}; every customer decided once a week (a seventh each day), "
        f"control share {args.control_share}, exploration {args.exploration}, a {args.window}-day "
        "conversion window (each conversion lands on a day drawn evenly over it, the same for every arm), "
        + (
            "learned from once it has closed"
            if args.closed_windows
            else "learned from the night after the decision with the conversions landed so far "
            "(policies.seen_weights)"
        )
        + f", learned policies refitted every {args.retrain} day(s) (1: nightly, as the pipeline does).",
        "",
        "**A pure-function simulation of the loop** (pipeline/demo/loop.py), not Dagster runs: the same "
        "world generator (pipeline/demo/population.py + effects.py) and the same policy functions as the "
        "pipeline (pipeline/experiments/learned.py, policies/); the features are effects.observed_features "
        "(what the customer 360 would show) rather than the feature SQL. Figures are true incremental "
        "conversions per 1,000 decisions (control decisions left out), computed from the truth "
        "(the chosen arm's true rate minus the customer's no-treatment rate); *share* is "
        "(policy - random) / (oracle - random). Uplift's target: share ≥ 0.8 and above the best "
        "single variant on every seed.",
        "",
        "| seed | oracle | best single variant | uniform random | "
        + " | ".join(p for p in POLICIES if p != "uniform")
        + " | uplift share | after the first window | last week | target met |",
        "| --- " * (7 + len(POLICIES)) + "|",
    ]
    for seed, r in runs.items():
        learned = [f"{1000 * r[p]:.2f} (share {share(r[p], r):.2f})" for p in POLICIES if p != "uniform"]
        met = share(r["uplift"], r) >= 0.8 and r["uplift"] > r["best_single_variant"]
        lines.append(
            f"| {seed} | {1000 * r['oracle']:.2f} | {1000 * r['best_single_variant']:.2f} "
            f"({r['best_variant']}, share {share(r['best_single_variant'], r):.2f}) | "
            f"{1000 * r['uniform']:.2f} | " + " | ".join(learned) + f" | {share(r['uplift'], r):.3f} | "
            f"{share(r['uplift_after_first_window'], r):.3f} | {share(r['uplift_last_week'], r):.3f} | "
            f"{'yes' if met else '**no**'} |"
        )
    shares = [share(r["uplift"], r) for r in runs.values()]
    beats = all(r["uplift"] > r["best_single_variant"] for r in runs.values())
    lines += [
        "",
        f"Uplift captures {min(shares):.3f}-{max(shares):.3f} of the achievable gain "
        f"({'above' if beats else 'not always above'} the best single variant on every seed): the 0.8 target "
        f"is {'met' if min(shares) >= 0.8 and beats else '**not met**'}. Where the gap was (measured on "
        "seed 1 before this run, nightly refits): the T-learner (one model per arm) captured 0.73 "
        "(0.81 after "
        "the first window); its uplift is the difference of two noisy rates, and the no-treatment model "
        "sees only the control group (a tenth of the decisions). One pooled LightGBM over the features and "
        "the arm (policies/learner.py, PooledLearner) learns the shared base rate from every row: 0.76 "
        "(0.86). The exploration floor of 0.05 cost about 0.05 on every day; decayed as 1/sqrt(rows learned "
        "from) beyond 2,000 rows (policies.decayed): 0.795 (0.89). With infinite data the features reach "
        "0.95 (a LightGBM fitted to the true uplifts), so what was left was the start-up: the first "
        f"{args.window} days decided uniformly (nothing was learned before the first window closed: "
        "share 0 on a ninth of the decisions) and the first refits learned from a few thousand decisions "
        "(0.7-0.8 on days 4-6, 0.9 from the second week, *last week* column); 0.795-0.800 on the three "
        "seeds. Learning from the windows still open (policies.seen_weights: a conversion seen weighs 1, "
        "a decision without one yet the share of its window elapsed; right when the conversion day does "
        "not depend on the arm) starts the night after the first decisions: 0.851 on seed 1 (0.795 "
        "without; `--closed-windows` runs the loop the old way). Propensity (a T-learner's "
        "model per variant, the same decayed floor) does nearly as well because every variant shares the "
        "no-treatment base rate; uplift adds the choice to send nothing. Thompson per segment (quintiles "
        "of an activity score) cannot see price sensitivity and stays below the best single variant.",
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
    p.add_argument("--retrain", type=int, default=1)
    p.add_argument("--control-share", type=float, default=0.1)
    p.add_argument("--exploration", type=float, default=0.05)
    p.add_argument("--closed-windows", action="store_true", help="learn only from closed conversion windows")
    args = p.parse_args(argv)
    began = time.monotonic()
    runs = {}
    for seed in args.seeds:
        runs[seed] = simulate(
            seed,
            args.customers,
            args.days,
            args.window,
            args.retrain,
            args.control_share,
            args.exploration,
            open_windows=not args.closed_windows,
        )
        print(json.dumps({"seed": seed, **runs[seed]}), flush=True)
    section = render(runs, args, time.monotonic() - began)
    (BENCH / "DECISIONS.md").write_text(section)
    splice(BENCH / "RESULTS.md", section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
