"""One measurement per process: ``python -m bench.measures NAME WORLD_DIR OUT_DIR`` prints one JSON line.

Each measurement runs in a fresh process so that its peak memory (ru_maxrss) is its own.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

# name -> (function, what it measures); stubs say "not measured yet" until their assets exist.
MEASURES: dict = {}


def measure(name: str, what: str):
    def deco(fn):
        MEASURES[name] = (fn, what)
        return fn

    return deco


def _config(world: Path, warehouse: Path):
    from pipeline.config import load_config

    return load_config(world / "nightjar.yaml").model_copy(update={"warehouse": warehouse})


def _fresh(warehouse: Path) -> Path:
    """``warehouse`` with its WAL removed: a measurement run again (--repeat's rounds) starts fresh."""
    for old in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        old.unlink(missing_ok=True)
    return warehouse


def _tx_files(config):
    """(spec, source, [(day, LandedFile)]) of every transaction, over every day of the world."""
    from pipeline.ingest.sources.local_files import list_files

    out = []
    for spec in config.transactions:
        source = config.source(spec.source)
        files = list_files(config.resolve(source.folder), spec.file_name, source.date_format)
        out.append((spec, source, files))
    return out


@measure(
    "ingest_nightjar",
    "Nightjar's ingestion path (read, type, validate, write the partition, record the load), every "
    "transaction file",
)
def ingest_nightjar(world: Path, out: Path) -> dict:
    from pipeline.core.warehouse import connect
    from pipeline.ingest.transactions import ingest_transactions

    config = _config(world, _fresh(out / "nightjar.duckdb"))
    rows, per = 0, {}
    started = time.perf_counter()
    with connect(config.warehouse_path) as con:
        for spec, source, files in _tx_files(config):
            t = time.perf_counter()
            # every day's file at once, as the asset gets them in a single-run backfill (assets/ingest.py
            # ingest_days)
            n = sum(
                r.rows_read for r in ingest_transactions(con, spec, source.name, [(f.day, f) for f in files])
            )
            per[spec.name] = {"rows": n, "seconds": time.perf_counter() - t}
            rows += n
    return {"seconds": time.perf_counter() - started, "rows": rows, "per_dataset": per}


@measure(
    "ingest_duckdb_raw",
    "DuckDB's own read_csv / read_json (auto-detected types) into a table, same files: the limit",
)
def ingest_duckdb_raw(world: Path, out: Path) -> dict:
    import duckdb

    config = _config(world, _fresh(out / "raw.duckdb"))
    con = duckdb.connect(str(config.warehouse_path))
    rows, per = 0, {}
    started = time.perf_counter()
    for spec, _, files in _tx_files(config):
        t = time.perf_counter()
        paths = [str(f.path) for f in files]
        reader = "read_csv" if files[0].format == "csv" else "read_json"
        # the demo's deliberately broken rows (about 0.5%) are skipped, as they must be for the reader to
        # finish
        extra = (
            ", union_by_name = true, ignore_errors = true"
            if reader == "read_csv"
            else ", format = 'newline_delimited', ignore_errors = true"
        )
        # the file list is bound; the reader and table names are fixed strings of this benchmark
        con.execute(
            f"CREATE OR REPLACE TABLE raw_{spec.name} AS SELECT * FROM {reader}($paths{extra})",
            {"paths": paths},
        )
        n = con.execute(f"SELECT count(*) FROM raw_{spec.name}").fetchone()[0]
        per[spec.name] = {"rows": n, "seconds": time.perf_counter() - t}
        rows += n
    con.close()
    return {"seconds": time.perf_counter() - started, "rows": rows, "per_dataset": per}


@measure(
    "ingest_pandas",
    "pandas read_csv / read_json(lines) per file (as text, bad lines skipped) + DuckDB insert of the "
    "DataFrame: what a user writes by hand",
)
def ingest_pandas(world: Path, out: Path) -> dict:
    import duckdb
    import pandas as pd

    config = _config(world, _fresh(out / "pandas.duckdb"))
    con = duckdb.connect(str(config.warehouse_path))
    rows, per = 0, {}
    started = time.perf_counter()
    for spec, _, files in _tx_files(config):
        t = time.perf_counter()
        n = 0
        created = False
        for f in files:
            # broken rows skipped (a wrong column count stops read_csv); columns read as text, because a
            # broken value ('many' in a number column) changes the inferred type from file to file
            df = (
                pd.read_csv(f.path, on_bad_lines="skip", dtype=str)
                if f.format == "csv"
                else pd.read_json(f.path, lines=True, dtype=False).astype(str)
            )
            if df.empty:
                continue
            con.register("df", df)
            if not created:
                con.execute(f"CREATE OR REPLACE TABLE pd_{spec.name} AS SELECT * FROM df")
                created = True
            else:
                con.execute(f"INSERT INTO pd_{spec.name} BY NAME SELECT * FROM df")
            con.unregister("df")
            n += len(df)
        per[spec.name] = {"rows": n, "seconds": time.perf_counter() - t}
        rows += n
    con.close()
    return {"seconds": time.perf_counter() - started, "rows": rows, "per_dataset": per}


@measure(
    "ingest_polars",
    "polars' lazy scan of every file of a transaction at once (scan_csv / scan_ndjson, types inferred, bad "
    "rows skipped) + collect, then into DuckDB through Arrow: a fast hand-written path",
)
def ingest_polars(world: Path, out: Path) -> dict:
    import duckdb
    import polars as pl

    config = _config(world, _fresh(out / "polars.duckdb"))
    con = duckdb.connect(str(config.warehouse_path))
    rows, per = 0, {}
    started = time.perf_counter()
    for spec, _, files in _tx_files(config):
        t = time.perf_counter()
        # one lazy frame per file, concatenated by column name (as DuckDB's union_by_name), collected once:
        # polars reads the files in parallel
        scans = [
            pl.scan_csv(f.path, ignore_errors=True, truncate_ragged_lines=True, infer_schema_length=10_000)
            if f.format == "csv"
            else pl.scan_ndjson(f.path, ignore_errors=True, infer_schema_length=10_000)
            for f in files
            if f.path.stat().st_size > 0  # polars cannot infer the types of an empty file
        ]
        table = pl.concat(scans, how="diagonal_relaxed").collect().to_arrow()
        con.register("arrow_table", table)
        # the table name is a fixed string of this benchmark
        con.execute(f"CREATE OR REPLACE TABLE pl_{spec.name} AS SELECT * FROM arrow_table")
        con.unregister("arrow_table")
        n = table.num_rows
        per[spec.name] = {"rows": n, "seconds": time.perf_counter() - t}
        rows += n
    con.close()
    return {"seconds": time.perf_counter() - started, "rows": rows, "per_dataset": per}


def _days(world: Path) -> tuple[dt.date, dt.date]:
    truth = json.loads((world / "truth" / "world.json").read_text())
    return dt.date.fromisoformat(truth["start"]), dt.date.fromisoformat(truth["end"])


@measure(
    "backfill_90_days",
    "the whole graph over every day of the world as ONE run (single-run backfill), fresh warehouse",
)
def backfill(world: Path, out: Path) -> dict:
    from pipeline.cli import run_backfill

    config = _config(world, out / "graph.duckdb")
    # fresh: `--only backfill_90_days` keeps the warehouses folder, and a backfill over loaded days measures
    # re-runs instead (the saved models and the published snapshot beside the warehouse go with it: a new
    # snapshot links the parts the one before holds rather than writing them)
    _fresh(out / "graph.duckdb")
    for beside in ("graph.duckdb.tmp", "models", "published"):
        shutil.rmtree(out / beside, ignore_errors=True)
    first, last = _days(world)
    started = time.perf_counter()
    steps: dict[str, float] = {}
    ok = run_backfill(config, first, last, steps=steps)
    seconds = time.perf_counter() - started
    if not ok:
        raise RuntimeError("the backfill failed")
    from pipeline.core.warehouse import connect

    with connect(config.warehouse_path, read_only=True) as con:
        rows = con.execute("SELECT sum(rows_read) FROM loads").fetchone()[0]
    return {"seconds": seconds, "rows": int(rows), "days": (last - first).days + 1, "steps": steps}


@measure(
    "nightly_one_day",
    "the nightly job for the last day (every asset, one partition) on the backfilled warehouse",
)
def nightly(world: Path, out: Path) -> dict:
    from pipeline.cli import run_backfill

    config = _config(world, out / "graph.duckdb")
    if not config.warehouse_path.exists():
        raise RuntimeError("run backfill_90_days first")
    _, last = _days(world)
    _as_next_night(config.warehouse_path)
    began = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # loads.started_at is UTC
    started = time.perf_counter()
    steps: dict[str, float] = {}
    ok = run_backfill(config, last, last, steps=steps)
    seconds = time.perf_counter() - started
    if not ok:
        raise RuntimeError("the nightly run failed")
    from pipeline.core.warehouse import connect

    with connect(config.warehouse_path, read_only=True) as con:
        # this run's loads only: the backfill's (and earlier runs') loads of the day are there too
        query = "SELECT sum(rows_read) FROM loads WHERE partition_date = ? AND started_at >= ?"
        rows = con.execute(query, [last, began]).fetchone()[0]
    return {"seconds": seconds, "rows": int(rows or 0), "steps": steps}


def _as_next_night(warehouse: Path) -> None:
    """The backfilled warehouse made to re-run its last day as a real next night would run. A re-run
    would reuse whole the scored cells of the day, while a real next night scores cells the version never
    saw (about 80 % of them at SF1): they are dropped. And every KPI plot and the experiments' forest plot
    are drawn again, as a next night adds a day to each plot's rows."""
    from pipeline.core.warehouse import connect
    from pipeline.models.store import CELLS_FILE

    for cells in (warehouse.parent / "models").glob(f"*/*/{CELLS_FILE}"):
        cells.unlink()
    with connect(warehouse) as con:
        kept = "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'built_%_plots'"
        tables = {t for (t,) in con.execute(kept).fetchall()}
        if "built_kpi_plots" in tables:
            con.execute("DELETE FROM built_kpi_plots")
        if "built_experiment_plots" in tables:
            con.execute("DELETE FROM built_experiment_plots")


@measure(
    "api_under_load",
    "the read API (`nightjar serve`, one uvicorn process) under 50 concurrent clients (bench/api_load.py: a "
    "day's results, a customer's predictions and decisions, the models, the snapshot) for 30 s and until "
    "the nightly run of the last day beside it is over, on the backfilled warehouse; rows = requests, "
    "wall time = the nightly run's under that load, peak memory = the larger of the server's and the run's",
)
def api_under_load(world: Path, out: Path) -> dict:
    from bench.api_load import measured

    _as_next_night(out / "graph.duckdb")
    return measured(world / "nightjar.yaml", out / "graph.duckdb", _days(world)[1])


COPIED_FROM: list[str] = []  # which warehouse the measurement copied (graph.duckdb or base.duckdb)


def _graph_copy(world: Path, out: Path, name: str):
    """The config on a copy of the backfilled warehouse (backfill_90_days + nightly_one_day), so each of
    these measurements starts from the same state and leaves the graph's warehouse as it was."""
    import shutil

    graph = out / "graph.duckdb"
    if not graph.exists():
        graph = out / "base.duckdb"
        if not graph.exists():  # made in its own process, so that this one's peak memory is the measurement's
            import subprocess

            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import sys; from pathlib import Path; from bench.measures import "
                    "_base; _base(Path(sys.argv[1]), Path(sys.argv[2]))",
                    str(world),
                    str(out),
                ],
                check=True,
            )
    COPIED_FROM.append(graph.name)
    target = out / f"{name}.duckdb"
    shutil.copyfile(graph, _fresh(target))
    return _config(world, target)


BASE = [
    "tx_pos",
    "tx_web_sessions",
    "tx_campaign_events",
    "customers",
    "customer_identities",
    "events",
    "results",
]


def _base(world: Path, out: Path) -> Path:
    """Without the backfilled graph (``--only`` these measurements): the data their assets read (ingestion,
    identities, events and the experiments' results over every day) as one run, made once, not timed."""
    import dagster as dg

    from pipeline.definitions import build_definitions

    base = out / "base.duckdb"
    if base.exists():
        return base
    config = _config(world, out / "base.building.duckdb")
    first, last = _days(world)
    job = build_definitions(config).resolve_job_def("nightly")
    result = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        asset_selection=[dg.AssetKey(a) for a in BASE],
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
        raise_on_error=True,
    )
    if not result.success:
        raise RuntimeError("loading the base warehouse failed")
    config.warehouse_path.rename(base)
    return base


def _all_days(world: Path) -> list[dt.date]:
    """Every day of the world, or its last $NIGHTJAR_BENCH_DAYS days (attribution at SF1 and above takes
    minutes per day on 2 cores: a sample of days gives the per-day cost, which is what the nightly run
    pays)."""
    first, last = _days(world)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    n = int(os.environ.get("NIGHTJAR_BENCH_DAYS") or 0)
    return days[-n:] if n else days


@measure(
    "attribution_all_models",
    "(4) attribution of the 10 built-in models, every day of the world (or the last $NIGHTJAR_BENCH_DAYS): "
    "the "
    "attribution asset's work per partition (credits + summary written)",
)
def attribution(world: Path, out: Path) -> dict:
    from pipeline.attribution.config import BUILTIN_NAMES
    from pipeline.attribution.credits import build_attribution
    from pipeline.core.warehouse import connect

    config = _graph_copy(world, out, "attribution")
    # built-in models only: the example config's custom models are timed apart (attribution_custom_models)
    builtin = config.model_copy(update={"attribution": config.attribution.model_copy(update={"models": []})})
    days = _all_days(world)
    conversions = credits = 0
    started = time.perf_counter()
    per_day = []
    with connect(config.warehouse_path) as con:
        for day in days:
            t = time.perf_counter()
            counts = build_attribution(con, builtin, day)
            per_day.append(time.perf_counter() - t)
            conversions += counts["conversions"]
            credits += counts["credits"]
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": credits,
        "conversions": conversions,
        "days": len(days),
        "last_day_s": per_day[-1],
        "slowest_day_s": max(per_day),
        "models": list(BUILTIN_NAMES),
        "events": _count(config, "events"),
    }


REPLICAS = 10


def _replica(world: Path, out: Path) -> Path:
    """SF10's events for attribution without generating and loading SF10 (an hour here): the SF1 warehouse's
    events ten times over, each copy with its own customers and event ids (``~1`` ... ``~9`` appended), so
    every day has ten times the customers, touches and conversions with the same shape. Made once, not
    timed."""
    import shutil

    from pipeline.core.warehouse import connect

    replica = out / "sf10_replica.duckdb"
    if replica.exists():
        return replica
    building = out / "sf10_replica.building.duckdb"
    building.unlink(missing_ok=True)
    graph = out / "graph.duckdb"  # the backfilled graph when there is one, else the data assets alone
    shutil.copyfile(graph if graph.exists() else _base(world, out), building)
    with connect(building) as con:
        con.execute(
            """INSERT INTO events SELECT e.* REPLACE (event_id || '~' || r AS event_id,
                           customer_id || '~' || r AS customer_id, customer_key || '~' || r AS customer_key)
                       FROM events e, range(1, $n) AS copies(r)""",
            {"n": REPLICAS},
        )
    building.rename(replica)
    return replica


@measure(
    "attribution_sf10_replica",
    f"(4c) attribution of the 10 built-in models at SF10 size: the last day (or the last "
    f"$NIGHTJAR_BENCH_DAYS) on SF1's events replicated {REPLICAS} × with distinct customers (same shape, "
    f"{REPLICAS} × "
    "the customers, touches and conversions; SF10 itself is not generated: loading it takes about an hour "
    "here)",
)
def attribution_sf10(world: Path, out: Path) -> dict:
    import shutil

    from pipeline.attribution.config import BUILTIN_NAMES
    from pipeline.attribution.credits import build_attribution
    from pipeline.core.warehouse import connect

    target = out / "attribution_sf10.duckdb"
    target.unlink(missing_ok=True)
    shutil.copyfile(_replica(world, out), target)
    config = _config(world, target)
    builtin = config.model_copy(update={"attribution": config.attribution.model_copy(update={"models": []})})
    days = _all_days(world)[-int(os.environ.get("NIGHTJAR_BENCH_DAYS") or 1) :]
    conversions = credits = 0
    per_day = []
    started = time.perf_counter()
    with connect(config.warehouse_path) as con:
        for day in days:
            t = time.perf_counter()
            counts = build_attribution(con, builtin, day)
            per_day.append(time.perf_counter() - t)
            conversions += counts["conversions"]
            credits += counts["credits"]
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": credits,
        "conversions": conversions,
        "days": len(days),
        "last_day_s": per_day[-1],
        "slowest_day_s": max(per_day),
        "models": list(BUILTIN_NAMES),
        "events": _count(config, "events"),
    }


@measure(
    "attribution_custom_models",
    "(4b) attribution of the example config's custom models alone (position, "
    "time decay, Markov, Shapley, last non-direct, a campaign filter), same days: credits computed, not "
    "written",
)
def attribution_custom(world: Path, out: Path) -> dict:
    from pipeline.attribution.credits import compute_credits
    from pipeline.attribution.models import custom_model
    from pipeline.core.sql import sql
    from pipeline.core.warehouse import connect

    config = _graph_copy(world, out, "attribution_custom")
    spec = config.attribution
    models = [custom_model(m, spec) for m in spec.models]
    days = _all_days(world)
    credits, per_day = 0, []
    started = time.perf_counter()
    with connect(config.warehouse_path) as con:
        con.execute(sql("attribution/create_tables"))  # the credits table whose columns the temp table copies
        for day in days:
            t = time.perf_counter()
            compute_credits(con, spec, models, day)
            credits += con.execute("SELECT count(*) FROM _att_credits").fetchone()[0]
            per_day.append(time.perf_counter() - t)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": credits,
        "days": len(days),
        "models": [m.name for m in models],
        "last_day_s": per_day[-1],
        "slowest_day_s": max(per_day),
    }


@measure(
    "conversion_windows",
    "(5) the conversions asset over every partition of the world (each day's "
    "presentations' 30-day windows measured, the partition replaced); the demo's experiments present on "
    "2026-01-09..13, so the rows are those 5 days' presentations and the other 85 partitions are empty",
)
def conversions(world: Path, out: Path) -> dict:
    from pipeline.core.warehouse import connect
    from pipeline.experiments.conversions import loaded_days
    from pipeline.experiments.conversions import measure as measure_day

    config = _graph_copy(world, out, "conversions")
    first, last = _days(world)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    rows = 0
    started = time.perf_counter()
    with connect(config.warehouse_path) as con:
        loaded = loaded_days(con, config)
        for day in days:
            r, _ = measure_day(con, config, day, loaded)
            rows += r
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": rows, "partitions": len(days), "events": _count(config, "events")}


@measure(
    "model_training",
    "(6) training each model of the demo config for the last day (features, LightGBM "
    "train + SHAP explanations, record) and scoring every customer (bench/models.py)",
)
def training(world: Path, out: Path) -> dict:
    from bench.models import train_and_score, untrained

    config = _graph_copy(world, out, "training")
    _, last = _days(world)
    untrained(config.warehouse_path, last)
    started = time.perf_counter()
    per = train_and_score(config, last, out / "training_models", report=lambda line: None)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": sum(r["rows"] for r in per), "per_model": per}


def _count(config, table: str) -> int:
    from pipeline.core.warehouse import connect

    with connect(config.warehouse_path, read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _cpu_seconds() -> tuple[float, float]:
    """Every CPU's busy and stolen time since boot, in seconds (/proc/stat's first line: busy is user,
    nice, system, irq and softirq; stolen is steal, the hypervisor running other machines)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


def _own_cpu_seconds() -> float:
    """This process's CPU seconds (user + system, every thread) and its finished children's."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv: list[str]) -> int:
    name, world, out = argv[0], Path(argv[1]), Path(argv[2])
    out.mkdir(parents=True, exist_ok=True)
    os.environ.pop("DAGSTER_HOME", None)  # runs go to a temporary instance, not the UI's
    fn, _ = MEASURES[name]
    load_before, (busy, stolen), own_before = os.getloadavg()[0], _cpu_seconds(), _own_cpu_seconds()
    result = fn(world, out)
    # the machine's 1-minute load average before/after (it still counts the previous measurement for a
    # minute after it), and what counts: this process's CPU seconds, every other process's (from the
    # kernel's busy time), and the time the hypervisor gave this machine's CPUs to others (steal)
    result["load"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
    own, (busy_after, stolen_after) = _own_cpu_seconds() - own_before, _cpu_seconds()
    result["cpu_seconds"] = round(own, 2)
    result["others_cpu_seconds"] = round(max(0.0, busy_after - busy - own), 2)
    result["stolen_seconds"] = round(stolen_after - stolen, 2)
    if COPIED_FROM:
        result["copied_from"] = COPIED_FROM[0]
    # a measurement whose work runs in child processes gives their peak (api_under_load)
    result.setdefault("peak_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print("RESULT " + json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
