"""The `nightjar` command line: demo, validate, backfill, upload, forget."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import resource
import shutil
import sys
import time
from pathlib import Path

from pipeline.config import IDENTIFIER_KINDS, ConfigError, ProjectConfig, load_config

EXAMPLE_CONFIG = Path(__file__).resolve().parent.parent / "nightjar.example.yaml"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


def _config(args: argparse.Namespace) -> ProjectConfig:
    from pipeline.definitions import default_config_path

    return load_config(args.config or default_config_path())


def _instance():
    """The Dagster instance of $DAGSTER_HOME (so runs show in the UI), else a temporary one."""
    import dagster as dg

    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    print("note: DAGSTER_HOME is not set; the run is not kept for the UI (the Makefile sets it)")
    return dg.DagsterInstance.ephemeral()


def check_range(config: ProjectConfig, first: dt.date, last: dt.date) -> str | None:
    """Why first..last is not a range of partitions (start_date .. yesterday, UTC), or None."""
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    if last < first:
        return f"the range ends ({last}) before it starts ({first})"
    if first < config.start_date:
        return f"{first} is before the config's start_date {config.start_date}"
    if last > yesterday:
        return f"{last} is not a partition yet: the last complete day is {yesterday} (UTC)"
    return None


def run_backfill(config: ProjectConfig, first: dt.date, last: dt.date, warehouse: Path | None = None) -> bool:
    """Materialize every asset for the days first..last as ONE run (single-run backfill)."""
    from pipeline.definitions import build_definitions
    from pipeline.jobs import NIGHTLY

    defs = build_definitions(config, warehouse)
    job = defs.resolve_job_def(NIGHTLY)
    instance = _instance()
    result = job.execute_in_process(
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
            "nightjar/backfill": f"{first}..{last}",
        },
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        raise_on_error=False,
    )
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                print(f"FAILED {event.step_key}: {event.step_failure_data.error.message.strip()}", file=sys.stderr)
    return result.success


def summary(warehouse: Path) -> str:
    """Rows per table and rejects by reason, as plain text."""
    from pipeline.metadata import markdown_table
    from pipeline.resources.warehouse import connect, scalar
    from pipeline.sql import ident, sql

    with connect(warehouse, read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
        ).fetchall()]
        counts = [(t, scalar(con, f"SELECT count(*) FROM {ident(t)}")) for t in tables]
        rejects = con.execute(sql("warehouse/rejects_summary")).fetchall()
        failed = scalar(con, "SELECT count(*) FROM loads WHERE status = 'FAILED'")
    return "\n\n".join(
        [
            "Rows per table:\n" + markdown_table(["table", "rows"], counts),
            "Rejected rows by reason:\n" + markdown_table(["dataset", "field", "rows", "example"], rejects),
            f"Failed loads: {failed}",
        ]
    )


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cmd_validate(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config_file)
    except ConfigError as e:
        print(e, file=sys.stderr)
        print(f"{len(e.problems)} problem(s) in {e.file}", file=sys.stderr)
        return 1
    for s in config.sources:
        if s.kind == "local_files" and not config.resolve(s.folder).is_dir():
            print(f"warning: {args.config_file}: source {s.name!r}: folder {config.resolve(s.folder)} does not exist yet")
    print(
        f"{args.config_file}: OK ({len(config.sources)} source(s), {len(config.transactions)} transaction(s), "
        f"customers: {'yes' if config.customers else 'no'}; warehouse {config.warehouse_path})"
    )
    return 0


def write_demo_config(out: Path, start: dt.date) -> Path:
    """Copy the example config (comments and all) into ``out`` with the demo's start date."""
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    text = re.sub(r"^start_date: .*$", f"start_date: {start.isoformat()}", text, count=1, flags=re.M)
    path = out / "nightjar.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def cmd_demo(args: argparse.Namespace) -> int:
    from pipeline.demo import generate_world

    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    if args.customers < 1 or args.days < 1:
        print("--customers and --days must be at least 1", file=sys.stderr)
        return 2
    if args.start and args.start + dt.timedelta(days=args.days - 1) > yesterday:
        print(f"the demo's last day must be a complete day: with --days {args.days}, --start may be "
              f"{yesterday - dt.timedelta(days=args.days - 1)} at the latest", file=sys.stderr)
        return 2
    began = time.monotonic()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("files", "truth"):
        shutil.rmtree(out / stale, ignore_errors=True)
    print(f"[1/3] generating the demo world: {args.customers} customers, {args.days} days -> {out}")
    world = generate_world(
        out, customers=args.customers, days=args.days, start=args.start, seed=args.seed,
        progress=lambda msg: print(f"      {msg}", flush=True),
    )
    config_path = write_demo_config(out, world.start)
    config = load_config(config_path)
    for suffix in ("", ".wal"):
        Path(str(config.warehouse_path) + suffix).unlink(missing_ok=True)
    print(f"[2/3] materializing every asset for {world.start}..{world.end} as one backfill run")
    ok = run_backfill(config, world.start, world.end)
    print("[3/3] summary\n")
    print(summary(config.warehouse_path))
    print(
        f"\nElapsed {time.monotonic() - began:.1f} s, peak memory {_peak_mb():.0f} MB."
        f"\nConfig:    {config_path}\nWarehouse: {config.warehouse_path}\nTruth:     {out / 'truth'}"
        f"\nOpen the UI with `make dev` (or: NIGHTJAR_CONFIG={config_path} dagster dev -w workspace.yaml)"
    )
    return 0 if ok else 1


def cmd_backfill(args: argparse.Namespace) -> int:
    config = _config(args)
    problem = check_range(config, getattr(args, "from"), args.to)
    if problem:
        print(f"nothing to backfill: {problem}", file=sys.stderr)
        return 2
    ok = run_backfill(config, getattr(args, "from"), args.to, Path(args.warehouse) if args.warehouse else None)
    print(summary(Path(args.warehouse) if args.warehouse else config.warehouse_path))
    return 0 if ok else 1


def _upload_day(config: ProjectConfig, dataset: str, path: Path, given: dt.date | None) -> dt.date:
    """The partition of an uploaded transaction file: --date, else the date in its name."""
    if given:
        return given
    spec = config.transaction(dataset)
    fmt = config.source(spec.source).date_format
    stem = path.name.split(".", 1)[0]
    try:
        return dt.datetime.strptime(stem.removeprefix(spec.file_name + "_"), fmt).date()
    except ValueError:
        raise SystemExit(
            f"{path.name}: no date in the name (expected {spec.file_name}_<{fmt}>.<ext>); give --date YYYY-MM-DD"
        ) from None


def cmd_upload(args: argparse.Namespace) -> int:
    from pipeline.ingest import CUSTOMERS, FAILED, ingest_customers, ingest_transaction
    from pipeline.resources.warehouse import connect
    from pipeline.sources.local_files import landed_file

    config = _config(args)
    path = Path(args.file)
    if not path.is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return 1
    warehouse = Path(args.warehouse) if args.warehouse else config.warehouse_path
    if args.dataset == CUSTOMERS:
        if not config.customers:
            print(f"{args.config or 'the config'} declares no customers data set", file=sys.stderr)
            return 1
        f = landed_file(path, args.date or dt.datetime.now(dt.UTC).date())
        with connect(warehouse) as con:
            result = ingest_customers(con, config.customers, "upload", f, args.mode)
    else:
        try:
            spec = config.transaction(args.dataset)
        except KeyError as e:
            print(e.args[0], file=sys.stderr)
            return 1
        if args.mode:
            print("--mode is for the customers data set only", file=sys.stderr)
            return 2
        day = _upload_day(config, args.dataset, path, args.date)
        with connect(warehouse) as con:
            result = ingest_transaction(con, spec, "upload", landed_file(path, day), day)
    print(
        f"{path.name} -> {args.dataset} ({result.partition_date}): {result.status}, "
        f"{result.rows_read} read, {result.rows_loaded} loaded, {result.rows_rejected} rejected"
        + (f"\n{result.error}" if result.error else "")
    )
    for field, n in result.rejects_by_field.items():
        print(f"  rejected because of {field}: {n} row(s) (see the rejects table, load_id {result.load_id})")
    return 1 if result.status == FAILED else 0


def cmd_forget(args: argparse.Namespace) -> int:
    from pipeline.forget import CustomerNotFound, forget_customer
    from pipeline.metadata import markdown_table
    from pipeline.resources.warehouse import WarehouseError, connect

    config = _config(args)
    warehouse = Path(args.warehouse) if args.warehouse else config.warehouse_path
    if not warehouse.is_file():
        print(f"the warehouse {warehouse} does not exist: there is nothing to forget", file=sys.stderr)
        return 1
    try:
        with connect(warehouse) as con:
            result = forget_customer(con, config, args.customer, args.kind)
    except CustomerNotFound as e:
        print(f"not found: {e}", file=sys.stderr)
        return 1
    except (WarehouseError, ValueError) as e:
        print(e, file=sys.stderr)
        return 1
    what = (f"Forgot {result.customers} customer(s)" if result.customers
            else "No customer holds it; forgot the rows that held it without a customer")
    print(f"{what} (by {result.identifier_kind}): {result.total} row(s) deleted in one transaction, "
          "recorded in forget_log (without the identifier).")
    print(markdown_table(["table", "rows deleted"], sorted(result.rows_deleted.items())))
    if result.shared_identifiers_kept:
        print(f"{result.shared_identifiers_kept} identifier(s) shared with a customer who stays (and whom identity "
              "matching gives them) were kept, with that customer's rows.")
    return 0


def cmd_recover(args: argparse.Namespace) -> int:
    import dagster as dg

    from pipeline.recover import recover

    if not os.environ.get("DAGSTER_HOME"):
        print("DAGSTER_HOME is not set: there is no Dagster instance to recover", file=sys.stderr)
        return 1
    with dg.DagsterInstance.get() as instance:
        run_ids = recover(instance, dry_run=args.dry_run)
    verb = "would mark" if args.dry_run else "marked"
    for run_id in run_ids:
        print(f"{verb} run {run_id} FAILURE (its process is gone) and free its pool slots")
    print(f"{len(run_ids)} dead run(s)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nightjar", description="Nightjar customer decisioning pipeline")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check a project config before anything runs")
    p.add_argument("config_file", help="the project YAML")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("demo", help="generate the demo world and run the whole graph over it")
    p.add_argument("--customers", type=int, default=2000)
    p.add_argument("--days", type=int, default=14)
    p.add_argument("--start", type=_date, default=None, help="first day (default: DAYS days before today)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", default="demo", help="folder for the config, files, truth and warehouse")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("backfill", help="materialize every asset for a date range as one run")
    p.add_argument("--from", type=_date, required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--to", type=_date, required=True, help="last day, YYYY-MM-DD (inclusive)")
    p.add_argument("--config", help="project YAML (default: $NIGHTJAR_CONFIG, demo/nightjar.yaml, the example)")
    p.add_argument("--warehouse", help="warehouse file (default: the config's)")
    p.set_defaults(func=cmd_backfill)

    p = sub.add_parser("upload", help="load one CSV/JSON file into a dataset through the ingestion path")
    p.add_argument("file", help="the CSV / JSON (lines) file")
    p.add_argument("--dataset", required=True, help="`customers` or a transaction name")
    p.add_argument("--mode", choices=["create", "update", "overwrite"], help="customers only (default: the config's)")
    p.add_argument("--date", type=_date, help="the partition (default: the date in the file name; today for customers)")
    p.add_argument("--config", help="project YAML (default: $NIGHTJAR_CONFIG, demo/nightjar.yaml, the example)")
    p.add_argument("--warehouse", help="warehouse file (default: the config's)")
    p.set_defaults(func=cmd_upload)

    p = sub.add_parser("forget", help="delete a customer from every customer-keyed table (one transaction, logged)")
    p.add_argument("customer", help="a customer_id, or any identifier of the customer (e-mail hash, IDFA, ...)")
    p.add_argument("--kind", choices=["customer_id", *IDENTIFIER_KINDS, "email"],
                   help="what CUSTOMER is (default: try every kind); `email` is a plain address, hashed as on ingestion")
    p.add_argument("--config", help="project YAML (default: $NIGHTJAR_CONFIG, demo/nightjar.yaml, the example)")
    p.add_argument("--warehouse", help="warehouse file (default: the config's)")
    p.set_defaults(func=cmd_forget)

    p = sub.add_parser("recover", help="mark runs whose process died (e.g. SIGKILL) failed and free their pool slots")
    p.add_argument("--dry-run", action="store_true", help="only list them")
    p.set_defaults(func=cmd_recover)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
