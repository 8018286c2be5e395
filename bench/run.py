"""The benchmark: ``python -m bench.run --sf 0.1 1`` (``make bench``) -> bench/RESULTS.md.

SF1 = 100,000 customers over 90 days (about 5 million rows landed); SF0.1 and SF10 scale the customers.
For each scale factor it generates the demo world once (bench/out/, git-ignored), then runs every
measurement in its own process, in this order: the 90-day single-run backfill of the whole graph (fresh
warehouse), the nightly run of the last day on top of it, then ingestion of the same transaction files
by Nightjar, by DuckDB's raw readers, by polars' lazy scan and by pandas (each into a fresh warehouse;
the ratios compare measurements of one run), then, each on a copy of the backfilled warehouse:
attribution of the built-in models and of the example's custom models over every day (or the last
$NIGHTJAR_BENCH_DAYS), the conversions asset over every day, and training + scoring of the demo config's
models for the last day. Wall time, rows per second, the process's peak memory and the ratios to the
peers go into bench/RESULTS.md with the machine and the date. Results are kept (bench/RESULTS.json, in git)
and written after each measurement, so `--sf 10` adds SF10 and `--only NAME` replaces one row.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.measures import MEASURES, _base

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
START = dt.date(2026, 1, 1)
DAYS = 90
ORDER = [
    "backfill_90_days",
    "nightly_one_day",
    "ingest_nightjar",
    "ingest_duckdb_raw",
    "ingest_polars",
    "ingest_pandas",
    "api_under_load",
    "attribution_all_models",
    "attribution_custom_models",
    "attribution_sf10_replica",
    "conversion_windows",
    "model_training",
]
# The quick measurements, run --repeat times in rounds (each round runs every one of them once, in ORDER,
# so the peers compared meet the same moments of the machine); the median run is kept, every run's time
# beside it. Seconds-long runs move by a tenth or more between runs on a quiet 2-core machine.
REPEATED = ("nightly_one_day", "ingest_nightjar", "ingest_duckdb_raw", "ingest_polars", "ingest_pandas")
# Targets (at SF1 unless said otherwise): (title, bound)
TARGETS = {
    "backfill_vs_raw": ("90-day backfill ≤ 15 × DuckDB's raw read of the same files, same run (SF1)", 15.0),
    "backfill_peak": ("90-day backfill peak memory ≤ 3 GiB (SF1)", 3072.0),
    "nightly_one_day": ("nightly run of one day ≤ 15 s (SF1)", 15.0),
    "ingest_vs_raw": ("ingestion ≥ 0.9 × DuckDB's raw reader (SF1)", 0.9),
    "ingest_vs_polars": ("ingestion at least as fast as polars' lazy scan (SF1)", 1.0),
    "ingest_peak": ("ingestion peak memory ≤ 1.5 × the raw reader's (SF1)", 1.5),
    "sf10_backfill": ("90-day backfill ≤ 30 min (SF10)", 1800.0),
    "sf10_nightly": ("nightly run of one day ≤ 2 min (SF10)", 120.0),
    "sf10_peak": ("peak memory ≤ 8 GiB (SF10)", 8192.0),
    "exponent": ("scaling exponent of the backfill ≤ 1.0 (SF1 → SF10)", 1.0),
}


def customers_for(sf: float) -> int:
    return int(round(100_000 * sf))


def world_for(sf: float) -> Path:
    from pipeline.cli import write_demo_config
    from pipeline.demo import generate_world

    world = OUT / f"sf{sf:g}" / "world"
    stamp = world / "generated.json"
    want = {"customers": customers_for(sf), "days": DAYS, "start": START.isoformat()}
    if stamp.exists() and json.loads(stamp.read_text()) == want:
        return world
    shutil.rmtree(world, ignore_errors=True)
    world.mkdir(parents=True)
    t = time.perf_counter()
    generate_world(world, customers=want["customers"], days=DAYS, start=START, seed=7)
    write_demo_config(world, START)
    stamp.write_text(json.dumps(want))
    print(f"  generated SF{sf:g} world in {time.perf_counter() - t:.0f} s", flush=True)
    return world


def built_warehouse(sf: float) -> tuple[Path, Path, Path]:
    """(world, folder of the bench's warehouse copies, the world's built base warehouse) at ``sf``."""
    world = world_for(sf)
    out = OUT / f"sf{sf:g}" / "warehouses"
    out.mkdir(parents=True, exist_ok=True)
    return world, out, _base(world, out)


def fresh_copy(base: Path, target: Path) -> Path:
    """``target`` as a fresh copy of the warehouse ``base``."""
    target.unlink(missing_ok=True)
    shutil.copyfile(base, target)
    return target


def run_measure(name: str, world: Path, out: Path) -> dict:
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "bench.measures", name, str(world), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        # the whole output kept beside the warehouses: a failed step's own error is in it (the last
        # line alone says only that the run failed)
        log = out / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(proc.stdout + proc.stderr)
        last = (proc.stderr or proc.stdout).strip().splitlines()
        return {"error": last[-1][:300] if last else "failed", "log": str(log)}
    result = json.loads(line[len("RESULT ") :])
    result["process_seconds"] = time.perf_counter() - t
    return result


def machine() -> str:
    cpu = "unknown CPU"
    try:
        cpu = next(
            x.split(":", 1)[1].strip()
            for x in Path("/proc/cpuinfo").read_text().splitlines()
            if x.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import dagster
    import duckdb
    import pandas
    import polars

    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM; "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, Dagster {dagster.__version__}, "
        f"pandas {pandas.__version__}, polars {polars.__version__}"
    )


def fmt_s(x) -> str:
    return "–" if x is None else f"{x:,.1f} s"


def wall(r: dict) -> str:
    """The wall time, with the range of its runs when it is the median of several (--repeat)."""
    runs = r.get("runs") or []
    if len(runs) < 2:
        return fmt_s(r["seconds"])
    return f"{fmt_s(r['seconds'])} (median of {len(runs)}: {min(runs):,.1f}–{max(runs):,.1f})"


def median_run(runs: list[dict]) -> dict:
    """Of several runs of one measurement, the run of median time (the lower middle of an even count)
    with every run's seconds, in the order they ran, as ``runs``; failed runs make the whole failed."""
    failed = [r for r in runs if "seconds" not in r]
    if failed:
        return failed[0]
    kept = dict(sorted(runs, key=lambda r: r["seconds"])[(len(runs) - 1) // 2])
    kept["runs"] = [r["seconds"] for r in runs]
    return kept


def per_round(a: dict, b: dict) -> list[float]:
    """b's time over a's in each round both ran (their ``runs``, alternated): the ratio's spread."""
    return [y / x for x, y in zip(a.get("runs") or [], b.get("runs") or [], strict=False) if x]


def rate(r: dict) -> str:
    seconds = r.get("api", {}).get("seconds") or r.get("seconds")  # the API's requests: over the load's time
    return f"{r['rows'] / seconds:,.0f}" if r.get("rows") and seconds else "–"


def api_load(api: dict) -> str:
    """The read API's figures under load (api_under_load): latencies, per kind, what it checked."""
    p50, p95, p99 = api["ms"]
    kinds = ", ".join(f"{k} {v[1]:,.0f} / {v[2]:,.0f}" for k, v in api["per_kind"].items())
    return (
        f" — **{api['clients']} clients, {api['seconds']:,.0f} s: p50 {p50:,.0f} ms, p95 {p95:,.0f} ms, "
        f"p99 {p99:,.0f} ms** (p50 / p99 ms: {kinds}); {api['errors']} errors, {api['mixed']} stale or mixed "
        f"results, {api['versions']} snapshot version(s) seen"
        + (f"; {api['retried']} request(s) sent again on a new connection" if api.get("retried") else "")
        + (
            f"; peak memory: the server {api['server_peak_mb']:,.0f} MB, the run {api['run_peak_mb']:,.0f} MB"
            if "server_peak_mb" in api
            else ""
        )
    )


def load(r: dict) -> str:
    """The load average before → after, and the CPU seconds of other processes during the measurement
    against its own (measurements before they were recorded show the load alone)."""
    shown = "–" if not r.get("load") else f"{r['load'][0]:.1f} → {r['load'][1]:.1f}"
    if "others_cpu_seconds" in r:
        shown += f"; others {r['others_cpu_seconds']:,.1f} / own {r['cpu_seconds']:,.1f} CPU s"
        shown += f", stolen {r['stolen_seconds']:,.1f} s"
    return shown


def measured_dates(res: dict, meta: dict) -> str:
    """The run's date, or the dates of the rows when they were measured by different runs (``--only``)."""
    dates = sorted(
        {r["date"] for k, r in res.items() if k != "_meta" and isinstance(r, dict) and r.get("date")}
    )
    if len(dates) <= 1:
        return meta.get("date", "?") if not dates else dates[0]
    return ", ".join(f"{d} ({', '.join(k for k in ORDER if res.get(k, {}).get('date') == d)})" for d in dates)


def render(results: dict, header: str) -> str:
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`bench/run.py`); do not edit by hand. " + header,
        "",
        "Each row is one process (peak memory = that process's maximum resident set). Ingestion rows are the",
        "data rows of every transaction file of the world (rejected rows included: they are read too) for",
        "Nightjar and polars; DuckDB's raw reader and pandas skip the files' broken rows, so theirs are the",
        "rows they kept (a few fewer).",
        "*load avg* is the machine's 1-minute load average before → after the measurement (it still counts",
        "the previous measurement for a minute), then the CPU seconds every other process used during the",
        "measurement against its own (from the kernel's busy time), and the seconds the hypervisor gave this",
        "machine's CPUs to other machines (steal): either above a few percent of the measurement's own means",
        "other work was competing for the 2 cores and the times are inflated.",
        "",
    ]
    for sf, res in sorted(results.items(), key=lambda kv: float(kv[0])):
        meta = res.get("_meta", {})
        lines += [
            f"## SF{float(sf):g}: {customers_for(float(sf)):,} customers × {DAYS} days",
            "",
            f"Measured {measured_dates(res, meta)} on {meta.get('machine', '?')}.",
            "",
            # what the runner saw beside a measurement (bench.run --note), kept until it is measured again
            *(f"{name}: {res[name]['note']}\n" for name in ORDER if res.get(name, {}).get("note")),
            "| measurement | wall time | rows | rows/s | peak memory | load avg | what |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for name in ORDER:
            if name == "attribution_sf10_replica" and float(sf) != 1:
                continue
            r = res.get(name, {})
            what = MEASURES[name][1]
            if not r and float(sf) > 1:
                continue  # above SF1 only what was run (make bench-sf10: the backfill and the nightly run)
            if "not_measured" in r or not r:
                lines.append(
                    f"| {name} | not measured yet | | | | | {what}: {r.get('not_measured', 'not run')} |"
                )
            elif "error" in r:
                lines.append(f"| {name} | failed | | | | | {r['error']} |")
            else:
                if r.get("copied_from"):
                    what += (
                        " — on a copy of the backfilled graph"
                        if r["copied_from"] == "graph.duckdb"
                        else " — on a copy of the data assets' warehouse "
                        "(base.duckdb: ingestion, identities, events, results)"
                    )
                if r.get("api"):
                    what += api_load(r["api"])
                if name.startswith("attribution") and r.get("days"):
                    what += (
                        f" — **{r['days']} day(s)**, last day {fmt_s(r.get('last_day_s'))}, "
                        f"slowest {fmt_s(r.get('slowest_day_s'))}"
                    )
                lines.append(
                    f"| {name} | {wall(r)} | {r.get('rows', 0):,} | {rate(r)} | "
                    f"{r['peak_mb']:,.0f} MB | {load(r)} | {what} |"
                )
        for name in ("nightly_one_day", "backfill_90_days"):
            steps = res.get(name, {}).get("steps")
            if steps:
                # "(...)": a total the runner kept in place of steps not recorded one by one
                kept = {k: v for k, v in steps.items() if k.startswith("(")}
                top = sorted(((k, v) for k, v in steps.items() if k not in kept), key=lambda kv: -kv[1])
                lines += [
                    "",
                    f"Where {name} spent its time (Dagster step durations, longest first):",
                    "",
                    "| step | time | share |",
                    "| --- | --- | --- |",
                ]
                total = res[name]["seconds"]
                lines += [f"| {k} | {fmt_s(v)} | {v / total:.0%} |" for k, v in top[:10]]
                if len(top) > 10:
                    rest = sum(v for _, v in top[10:])
                    lines.append(f"| {len(top) - 10} other steps | {fmt_s(rest)} | {rest / total:.0%} |")
                lines += [f"| {k} | {fmt_s(v)} | {v / total:.0%} |" for k, v in kept.items()]
        tr = res.get("model_training", {})
        if tr.get("per_model"):
            lines += [
                "",
                "Model training per model (last day of the world; every customer scored):",
                "",
                "| model | type | training rows × features | features | train + explain | record | score | "
                "metric |",
                "| --- | --- | --- | --- | --- | --- | --- | --- |",
            ]
            for m in tr["per_model"]:
                metric = next(f"{k} {m[k]:.3f}" for k in ("auc", "precision_at_k", "holdout_mae") if k in m)
                lines.append(
                    f"| {m['model']} | {m['type']} | {m['rows']:,} × {m['features']} | "
                    f"{fmt_s(m['features_s'])} | "
                    f"{fmt_s(m['train_explain_s'])} | {fmt_s(m['record_s'])} | "
                    f"{fmt_s(m['score_s'])} ({m['scored']:,} customers) | {metric} |"
                )
        lines += ingestion_table(res)
        lines.append("")
    lines += targets(results)
    lines += scaling(results)
    for written in ("DECISIONS.md", "NOTES.md"):  # DECISIONS.md: bench/decisions.py's section
        if (BENCH / written).exists():
            lines += [(BENCH / written).read_text().rstrip(), ""]
    return "\n".join(lines) + "\n"


SCALED = ("backfill_90_days", "nightly_one_day", "ingest_nightjar", "attribution_all_models")


def scaling(results: dict) -> list[str]:
    """The exponent e of time ~ SF^e between each pair of consecutive scale factors measured, per step,
    with the peak memory (empty with fewer than two scale factors)."""
    rows = []
    for name in SCALED:
        measured = sorted(
            (float(sf), res[name]) for sf, res in results.items() if res.get(name, {}).get("seconds")
        )
        for (sf1, a), (sf2, b) in zip(measured, measured[1:], strict=False):
            e = math.log(b["seconds"] / a["seconds"]) / math.log(sf2 / sf1)
            rows.append(
                f"| {name} | SF{sf1:g} → SF{sf2:g} | {fmt_s(a['seconds'])} → {fmt_s(b['seconds'])} | "
                f"{a.get('peak_mb', 0):,.0f} → {b.get('peak_mb', 0):,.0f} MB | {e:.2f} |"
            )
    if not rows:
        return []
    return [
        "## Scaling",
        "",
        "Time grows as SF^e between consecutive scale factors (each pair from its own runs; see the dates).",
        "",
        "| measurement | scale factors | wall time | peak memory | exponent e |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]


# The peers of Nightjar's ingestion, same files: (measurement, column title)
PEERS = (
    ("ingest_duckdb_raw", "DuckDB raw"),
    ("ingest_polars", "polars scan + Arrow"),
    ("ingest_pandas", "pandas + insert"),
)


def ingestion_table(res: dict) -> list[str]:
    """Nightjar's ingestion beside each peer measured in the same bench run (per dataset and in all)."""
    nj = res.get("ingest_nightjar", {})
    if not nj.get("seconds"):
        return []
    peers = [
        (title, res[name])
        for name, title in PEERS
        if res.get(name, {}).get("seconds") and res[name].get("run") == nj.get("run")
    ]
    if not peers:
        return []
    head = " | ".join(t for t, _ in peers)
    vs = " | ".join(f"vs {t.split()[0] if t != 'DuckDB raw' else 'raw'}" for t, _ in peers)
    lines = [
        "",
        f"Ingestion side by side (same files, one bench run {nj.get('run', '?')}"
        + (
            f", each the median of {len(nj['runs'])} alternated rounds"
            if len(nj.get("runs") or []) > 1
            else ""
        )
        + "; ratio = Nightjar's speed / the peer's, above 1 = Nightjar is faster):",
        "",
        f"| dataset | Nightjar | {head} | {vs} |",
        "|" + " --- |" * (2 + 2 * len(peers)),
    ]
    for ds, a in nj["per_dataset"].items():
        others = [p["per_dataset"].get(ds, {}).get("seconds") for _, p in peers]
        times = " | ".join(fmt_s(o) for o in others)
        ratios = " | ".join(f"{o / a['seconds']:.2f} ×" if o else "–" for o in others)
        lines.append(f"| {ds} | {fmt_s(a['seconds'])} | {times} | {ratios} |")
    times = " | ".join(fmt_s(p["seconds"]) for _, p in peers)
    ratios = " | ".join(f"**{p['seconds'] / nj['seconds']:.2f} ×**" for _, p in peers)
    rounds = ""
    if any(per_round(nj, p) for _, p in peers):
        spreads = [", ".join(f"{x:.2f}" for x in per_round(nj, p)) or "–" for _, p in peers]
        rounds = "| " + " | ".join(["each round's ratio", "", *[""] * len(peers), *spreads]) + " |"
    peaks = " | ".join(f"{p['peak_mb']:,.0f} MB" for _, p in peers)
    lines += [
        f"| **all** | {fmt_s(nj['seconds'])} | {times} | {ratios} |",
        *([rounds] if rounds else []),
        f"| peak memory | {nj['peak_mb']:,.0f} MB | {peaks} |" + " |" * len(peers),
    ]
    return lines


def _same_run(a: dict, b: dict) -> bool:
    return bool(a.get("seconds") and b.get("seconds") and a.get("run") == b.get("run"))


def targets(results: dict) -> list[str]:
    """Issue 22's acceptance, each from the figures stored (a ratio only between measurements of one
    bench run)."""
    sf1, sf10 = results.get("1", {}), results.get("10", {})
    out = ["## Targets", "", "| target | measured | met |", "| --- | --- | --- |"]

    def row(key: str, value: str | None, ok: bool | None = None) -> None:
        met = "–" if value is None else ("yes" if ok else "**no**")
        out.append(f"| {TARGETS[key][0]} | {value or 'not measured'} | {met} |")

    bound = {k: v[1] for k, v in TARGETS.items()}
    back, night = sf1.get("backfill_90_days", {}), sf1.get("nightly_one_day", {})
    nj, raw, pl_ = (sf1.get(k, {}) for k in ("ingest_nightjar", "ingest_duckdb_raw", "ingest_polars"))
    if _same_run(back, raw):
        r = back["seconds"] / raw["seconds"]
        row("backfill_vs_raw", f"{r:.1f} × ({fmt_s(back['seconds'])} / {fmt_s(raw['seconds'])})", r <= 15)
    else:
        row("backfill_vs_raw", None)
    peak = back.get("peak_mb")
    row("backfill_peak", f"{peak:,.0f} MB" if peak else None, bool(peak) and peak <= bound["backfill_peak"])
    s = night.get("seconds")
    row("nightly_one_day", fmt_s(s) if s else None, bool(s) and s <= bound["nightly_one_day"])
    for key, peer in (("ingest_vs_raw", raw), ("ingest_vs_polars", pl_)):
        if _same_run(nj, peer):
            r = peer["seconds"] / nj["seconds"]
            rounds = per_round(nj, peer)
            spread = f" (the medians; per round {', '.join(f'{x:.2f}' for x in rounds)})" if rounds else ""
            row(key, f"{r:.2f} ×{spread}", r >= bound[key])
        else:
            row(key, None)
    if _same_run(nj, raw):
        r = nj["peak_mb"] / raw["peak_mb"]
        row("ingest_peak", f"{r:.2f} × ({nj['peak_mb']:,.0f} / {raw['peak_mb']:,.0f} MB)", r <= 1.5)
    else:
        row("ingest_peak", None)
    back10, night10 = sf10.get("backfill_90_days", {}), sf10.get("nightly_one_day", {})
    s = back10.get("seconds")
    row("sf10_backfill", fmt_s(s) if s else None, bool(s) and s <= bound["sf10_backfill"])
    s = night10.get("seconds")
    row("sf10_nightly", fmt_s(s) if s else None, bool(s) and s <= bound["sf10_nightly"])
    peaks = [r["peak_mb"] for r in (back10, night10) if r.get("peak_mb")]
    row("sf10_peak", f"{max(peaks):,.0f} MB" if peaks else None, bool(peaks) and max(peaks) <= 8192)
    if back.get("seconds") and back10.get("seconds"):
        e = math.log(back10["seconds"] / back["seconds"]) / math.log(10)
        row("exponent", f"{e:.2f}", e <= 1.0)
    else:
        row("exponent", None)
    return out + [""]


def schedule(names: list[str], repeat: int) -> list[str]:
    """The order ``names`` run in: each block of consecutive REPEATED names run ``repeat`` times over,
    round after round (the others once, where they stand)."""
    order: list[str] = []
    block: list[str] = []
    for name in [*names, ""]:  # "": the end, closing a last block
        if name in REPEATED:
            block.append(name)
            continue
        order += block * max(repeat, 1)
        block = []
        if name:
            order.append(name)
    return order


def unkept_scale_factors(markdown: Path, stored: dict, measured: list[float]) -> list[str]:
    """The scale factors whose section the results file shows (``## SF<x>:``) that neither its stored
    figures nor this run's ``measured`` scale factors hold: a run would write the file without them."""
    if not markdown.exists():
        return []
    shown = [
        line[len("## SF") :].split(":")[0]
        for line in markdown.read_text().splitlines()
        if line.startswith("## SF")
    ]
    return [sf for sf in shown if sf not in stored and sf not in {f"{m:g}" for m in measured}]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sf", type=float, nargs="+", default=[0.1, 1])
    p.add_argument("--only", nargs="+", choices=ORDER, help="run only these measurements")
    p.add_argument(
        "--results",
        type=Path,
        default=BENCH / "RESULTS.md",
        help="the Markdown written (default bench/RESULTS.md); its figures are kept beside it (<path>.json: "
        "bench/RESULTS.json, in git, for the default), and a run adds to them",
    )
    p.add_argument("--note", help="what ran beside the measurements, printed with them in the results")
    p.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each quick measurement (the nightly run, ingestion and its peers), in alternated "
        "rounds; the median run is kept, with every run's time (default 3)",
    )
    args = p.parse_args(argv)
    store = args.results.with_suffix(".json")
    results = json.loads(store.read_text()) if store.exists() else {}
    lost = unkept_scale_factors(args.results, results, args.sf)
    if lost:  # said before the run, which may take an hour: a maintainer stops it and measures them too
        print(
            f"warning: {args.results} shows SF{', SF'.join(lost)}, whose figures {store} does not hold and "
            f"this run does not measure: the {args.results} it writes leaves them out (git keeps them)",
            flush=True,
        )
    OUT.mkdir(parents=True, exist_ok=True)
    header = ""
    run = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")  # the peers compared come from one run
    for sf in args.sf:
        print(f"SF{sf:g}: {customers_for(sf):,} customers × {DAYS} days", flush=True)
        world = world_for(sf)
        work = OUT / f"sf{sf:g}" / "warehouses"
        if not args.only:
            shutil.rmtree(work, ignore_errors=True)
        runs: dict[str, list[dict]] = {}
        for name in schedule(args.only or ORDER, args.repeat):
            if name == "attribution_sf10_replica" and sf != 1:
                continue  # SF1's events x 10 is SF10's size; other scale factors' replicas would mislabel it
            r = run_measure(name, world, work)
            r["date"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
            r["run"] = run
            if args.note:
                r["note"] = args.note
            shown = (
                r.get("not_measured")
                or (r.get("error") and f"{r['error']} (the whole output: {r['log']})")
                or f"{r['seconds']:.1f} s, {r.get('rows', 0):,} rows, {r['peak_mb']:.0f} MB"
            )
            print(f"  {name}: {shown}", flush=True)
            # written after each measurement, merged into what is stored (another bench run, of another
            # scale factor or other measurements, may have written meanwhile)
            results = json.loads(store.read_text()) if store.exists() else {}
            res = results.setdefault(f"{sf:g}", {})
            runs.setdefault(name, []).append(r)
            res[name] = median_run(runs[name]) if len(runs[name]) > 1 else r
            res["_meta"] = {"date": r["date"], "machine": machine()}
            store.write_text(json.dumps(results, indent=2, default=str))
            args.results.write_text(render(results, header))
    print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
