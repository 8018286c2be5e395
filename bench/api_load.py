"""A bounded load test of the read API during a nightly run (not in `make test`).

    .venv/bin/python -m bench.api_load [--customers 1000] [--days 10] [--clients 50] [--seconds 30]

Runs the demo (`nightjar demo`), then :func:`under_load`: starts `nightjar serve`, runs the nightly job
for the last day again (`nightjar backfill`: a whole nightly run, which publishes a new snapshot) while
CLIENTS concurrent clients call the API for SECONDS, and on until the run is over. Every response
must be 200; every `/v1/results?date=D` answer must hold exactly the rows of D in the snapshot
version it names (no stale or mixed read). Prints the latencies (p50/p95/p99) as a Markdown table.
The benchmark's `api_under_load` (bench/measures.py) runs :func:`under_load` on a scale factor's
backfilled warehouse (`make bench`, `make bench-sf10`).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import httpx
import numpy as np

KEY = "bench-key"
KINDS = ("results", "predictions", "decisions", "models", "snapshot")
ROOT = Path(__file__).resolve().parent.parent
NIGHTJAR = str(Path(sys.executable).parent / "nightjar")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def results_per_day(published: Path) -> dict[str, dict[str, int]]:
    """Per snapshot version still on disk: the results rows of each day."""
    out = {}
    for folder in (published / "versions").iterdir():
        if folder.name.startswith("."):
            continue
        with duckdb.connect(str(folder / "snapshot.duckdb"), read_only=True) as con:
            rows = con.execute("SELECT date::VARCHAR, count(*) FROM results GROUP BY 1").fetchall()
        out[folder.name] = dict(rows)
    return out


async def get(http: httpx.AsyncClient, url: str, params: dict, retried: list) -> httpx.Response:
    """GET, once more on a new connection when the kept-alive one was closed under it: uvicorn closes a
    connection idle for 5 s, and a client starved of CPU may send on it as it closes (a retry any HTTP
    client makes; counted, not an error of the API)."""
    try:
        return await http.get(url, params=params)
    except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
        retried.append(url)
        return await http.get(url, params=params)


async def client(
    base: str, until: list[float], days: list[str], customers: list[str], log: list, retried: list
) -> None:
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": KEY}, timeout=60) as http:
        while time.monotonic() < until[0]:
            kind = random.choice(KINDS if days else KINDS[1:])  # no results yet: no day to ask for
            if kind == "results":
                day = random.choice(days)
                url, params = "/v1/results", {"date": day, "page_size": 10000}
            elif kind in ("predictions", "decisions"):
                url, params = f"/v1/customers/{random.choice(customers)}/{kind}", {}
            else:
                url, params = f"/v1/{kind}", {}
            began = time.monotonic()
            try:
                response = await get(http, url, params, retried)
                body = response.json()
                log.append((kind, time.monotonic() - began, response.status_code, body["meta"], params))
            except (httpx.HTTPError, ValueError) as e:
                log.append((kind, time.monotonic() - began, 0, {"errors": [repr(e)]}, params))


def peak_mb(pid: int) -> float:
    """The process's peak resident set so far (VmHWM), in MB; 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    return next((int(x.split()[1]) / 1024 for x in status.splitlines() if x.startswith("VmHWM:")), 0.0)


def under_load(
    config: Path, warehouse: Path, last: dt.date, env: dict, clients: int = 50, seconds: float = 30
) -> dict:
    """``clients`` concurrent clients call the API (`nightjar serve` over ``warehouse``'s published
    snapshot) for ``seconds`` and until the nightly run of ``last`` (`nightjar backfill`, started with
    them) is over: its seconds, every request's outcome, the latencies (ms: p50, p95, p99, and per kind),
    the non-200 answers (errors), the results answers that do not hold their day's rows of the version
    they name (stale or mixed), the versions seen and the run's exit code."""
    project = ["--config", str(config), "--warehouse", str(warehouse)]
    published = warehouse.parent / "published"
    with duckdb.connect(str(published / "current" / "snapshot.duckdb"), read_only=True) as con:
        customers = [r[0] for r in con.execute("SELECT customer_id FROM customers LIMIT 500").fetchall()]
        days = [r[0] for r in con.execute("SELECT DISTINCT date::VARCHAR FROM results").fetchall()]
    port = free_port()
    server = subprocess.Popen(
        [NIGHTJAR, "serve", "--port", str(port), "--quiet", *project],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                httpx.get(f"{base}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        run = subprocess.Popen(
            [NIGHTJAR, "backfill", "--from", last.isoformat(), "--to", last.isoformat(), *project],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        log: list = []
        retried: list = []
        began = time.monotonic()
        until = [began + seconds]
        ran, run_peak = [0.0], [0.0]

        async def watch() -> None:  # the load lasts until the run (and its publication) is over too
            while run.poll() is None:
                run_peak[0] = max(run_peak[0], peak_mb(run.pid))
                await asyncio.sleep(0.5)
                until[0] = max(until[0], time.monotonic() + 3)
            ran[0] = time.monotonic() - began

        async def load() -> None:
            calls = (client(base, until, days, customers, log, retried) for _ in range(clients))
            await asyncio.gather(watch(), *calls)

        asyncio.run(load())
        run_code = run.wait()
        elapsed = time.monotonic() - began
        server_peak = peak_mb(server.pid)
    finally:
        server.terminate()
        server.wait(20)
    expected = results_per_day(published)
    errors = [entry for entry in log if entry[2] != 200]
    mixed = [
        entry
        for entry in log
        if entry[0] == "results" and entry[2] == 200
        and entry[3]["page"]["total"] != expected.get(entry[3]["snapshot"], {}).get(entry[4]["date"], 0)
    ]  # fmt: skip
    latencies = np.array([entry[1] for entry in log]) * 1000
    per_kind = {}
    for kind in KINDS:
        ms = latencies[[i for i, entry in enumerate(log) if entry[0] == kind]]
        if len(ms):
            per_kind[kind] = [len(ms), *np.percentile(ms, [50, 99]).round().tolist()]
    return {
        "clients": clients,
        "seconds": elapsed,
        "run_seconds": ran[0],
        "requests": len(log),
        "ms": np.percentile(latencies, [50, 95, 99]).round().tolist() if len(log) else [],
        "per_kind": per_kind,
        "errors": len(errors),
        "retried": len(retried),
        "first_errors": [repr(e[:4]) for e in errors[:3]],
        "mixed": len(mixed),
        "versions": len({entry[3].get("snapshot") for entry in log if entry[2] == 200}),
        "exit": run_code,
        "server_peak_mb": server_peak,
        "run_peak_mb": run_peak[0],  # sampled every 0.5 s
    }


def measured(config: Path, warehouse: Path, last: dt.date) -> dict:
    """The benchmark's api_under_load (bench/measures.py): :func:`under_load` on a backfilled warehouse,
    with a Dagster home of its own; a failed request, a stale or mixed read or a failed run fail it."""
    if not (warehouse.parent / "published" / "current").exists():
        raise RuntimeError("run backfill_90_days first")
    with tempfile.TemporaryDirectory(prefix="nightjar-api-load-") as home:
        shutil.copy(ROOT / "dagster.yaml", Path(home) / "dagster.yaml")
        r = under_load(
            config, warehouse, last, {**os.environ, "NIGHTJAR_API_KEYS": KEY, "DAGSTER_HOME": home}
        )
    if r["errors"] or r["mixed"] or r["exit"]:
        raise RuntimeError(
            f"{r['errors']} error(s) {r['first_errors']}, {r['mixed']} stale or mixed read(s), "
            f"the nightly run's exit code {r['exit']}"
        )
    peak = max(r["server_peak_mb"], r["run_peak_mb"])
    return {"seconds": r["run_seconds"], "rows": r["requests"], "api": r, "peak_mb": peak}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="nightjar-api-load-"))
    start = dt.date(2026, 1, 1)
    last = start + dt.timedelta(days=args.days - 1)
    env = {**os.environ, "NIGHTJAR_API_KEYS": KEY, "DAGSTER_HOME": str(out / "dagster")}
    (out / "dagster").mkdir()
    shutil.copy(ROOT / "dagster.yaml", out / "dagster" / "dagster.yaml")
    subprocess.run(
        [NIGHTJAR, "demo", "--customers", str(args.customers), "--days", str(args.days),
         "--start", start.isoformat(), "--out", str(out)],
        check=True, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    r = under_load(out / "nightjar.yaml", out / "warehouse.duckdb", last, env, args.clients, args.seconds)
    print(
        "| clients | seconds | requests | req/s | p50 ms | p95 ms | p99 ms | errors | stale or mixed "
        "| versions seen | nightly run |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    p50, p95, p99 = r["ms"] or [float("nan")] * 3
    print(
        f"| {r['clients']} | {r['seconds']:.0f} | {r['requests']} | {r['requests'] / r['seconds']:.0f} | "
        f"{p50:.0f} | {p95:.0f} | {p99:.0f} | {r['errors']} | {r['mixed']} | {r['versions']} | "
        f"exit {r['exit']} |"
    )
    for kind, (n, p50k, p99k) in r["per_kind"].items():
        print(f"  {kind}: {n} requests, p50 {p50k:.0f} ms, p99 {p99k:.0f} ms")
    if r["errors"]:
        print("errors:", r["first_errors"])
    shutil.rmtree(out, ignore_errors=True)
    return 0 if not r["errors"] and not r["mixed"] and r["exit"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
