"""The `nightjar` command line: demo, validate, backfill, upload, forget, explain, attribution."""

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

from pipeline.config import ProjectConfig, load_config
from pipeline.core.catalog import IDENTIFIER_KINDS
from pipeline.core.resources import example_config
from pipeline.core.settings import ConfigError
from pipeline.ingest.sources.local_files import LocalFilesSource


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


def _config(args: argparse.Namespace) -> ProjectConfig:
    if args.config:  # pipeline.definitions (Dagster, every asset) is only needed for the default
        return load_config(args.config)
    from pipeline.definitions import default_config_path

    return load_config(default_config_path())


def run_backfill(
    config: ProjectConfig,
    first: dt.date,
    last: dt.date,
    warehouse: Path | None = None,
    steps: dict[str, float] | None = None,
) -> bool:
    """Materialize every asset for the days first..last as ONE run (single-run backfill). ``steps``, when
    given, receives each successful step's duration in seconds (the benchmark's breakdown)."""
    from pipeline.definitions import build_definitions
    from pipeline.ops.backfill import run_range
    from pipeline.ops.jobs import NIGHTLY

    return run_range(build_definitions(config, warehouse).resolve_job_def(NIGHTLY), first, last, steps)


def summary(warehouse: Path) -> str:
    """Rows per table and rejects by reason, as plain text."""
    from pipeline.core.metadata import markdown_table
    from pipeline.core.sql import sql
    from pipeline.core.warehouse import connect, scalar

    with connect(warehouse, read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
            ).fetchall()
        ]
        counts = [(t, scalar(con, sql("core/row_count", idents={"table": t}))) for t in tables]
        rejects = con.execute(sql("ingest/rejects_summary")).fetchall()
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
        if isinstance(s, LocalFilesSource) and not config.resolve(s.folder).is_dir():
            print(
                f"warning: {args.config_file}: source {s.name!r}: "
                f"folder {config.resolve(s.folder)} does not exist yet"
            )
    from pipeline.ingest.validate import check_remote_sources

    remote_errors, remote_notes = check_remote_sources(config)
    for note in remote_notes:
        print(f"{args.config_file}: {note}")
    if remote_errors:
        print("\n".join(f"{args.config_file}: {e}" for e in remote_errors), file=sys.stderr)
        return 1
    print(
        f"{args.config_file}: OK ({len(config.sources)} source(s), "
        f"{len(config.transactions)} transaction(s), "
        f"customers: {'yes' if config.customers else 'no'}; warehouse {config.warehouse_path})"
    )
    return 0


def write_demo_config(out: Path, start: dt.date) -> Path:
    """Copy the example config (comments and all) into ``out`` with the demo's start date."""
    text = example_config().read_text(encoding="utf-8")
    found = re.search(r"^start_date: (\S+)", text, flags=re.M)
    if found is None:
        raise ValueError(f"{example_config()}: no top-level start_date")
    example_start = dt.date.fromisoformat(found.group(1))
    text = re.sub(r"^start_date: .*$", f"start_date: {start.isoformat()}", text, count=1, flags=re.M)
    # experiments' start/end dates keep their distance to the first day
    text = re.sub(
        r"^(\s+(?:start|end): )(\d{4}-\d{2}-\d{2})",
        lambda m: m.group(1) + (dt.date.fromisoformat(m.group(2)) + (start - example_start)).isoformat(),
        text,
        flags=re.M,
    )
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
        print(
            f"the demo's last day must be a complete day: with --days {args.days}, --start may be "
            f"{yesterday - dt.timedelta(days=args.days - 1)} at the latest",
            file=sys.stderr,
        )
        return 2
    began = time.monotonic()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("files", "truth"):
        shutil.rmtree(out / stale, ignore_errors=True)
    print(f"[1/3] generating the demo world: {args.customers} customers, {args.days} days -> {out}")
    world = generate_world(
        out,
        customers=args.customers,
        days=args.days,
        start=args.start,
        seed=args.seed,
        progress=lambda msg: print(f"      {msg}", flush=True),
    )
    config_path = write_demo_config(out, world.start)
    config = load_config(config_path)
    for suffix in ("", ".wal"):
        Path(str(config.warehouse_path) + suffix).unlink(missing_ok=True)
    # The experiments' closed loop (pipeline/demo/experiments.py) runs on the local files only.
    presented = (
        []
        if getattr(args, "via", None)
        else sorted(
            {
                e.start
                for e in config.experiments
                if e.start and e.start == e.end and world.start < e.start <= world.end
            }
        )
    )
    if getattr(args, "via", None):  # ingest through a local SFTP server / GCS emulator
        from pipeline.demo.via import serve

        landing = config.source("landing")
        if not isinstance(landing, LocalFilesSource):
            raise ValueError(f"{config_path}: --via serves the files of the local source `landing`")
        with serve(args.via, config_path, config.resolve(landing.folder)) as via_path:
            print(
                f"[2/3] serving the transaction files over {args.via} ({via_path.name}); "
                f"materializing every asset for {world.start}..{world.end} as one backfill run"
            )
            ok = run_backfill(load_config(via_path), world.start, world.end)
    elif presented:  # the closed loop of pipeline/demo/experiments.py
        from pipeline.demo.experiments import simulate_responses

        day = presented[0]
        print(f"[2/3] materializing every asset for {world.start}..{day} (decisions of {day}) as one run")
        ok = run_backfill(config, world.start, day)
        truth = simulate_responses(
            config.warehouse_path, out, day, world.end, config.conversions.window_days, seed=args.seed
        )
        print(
            f"      the world responded to the decisions of {day}: {truth['responses_appended_to_pos']} "
            f"purchases (truth/experiments.json); materializing {day}..{world.end}"
        )
        ok = run_backfill(config, day, world.end) and ok
    else:
        print(f"[2/3] materializing every asset for {world.start}..{world.end} as one backfill run")
        ok = run_backfill(config, world.start, world.end)
    print("[3/3] summary\n")
    print(summary(config.warehouse_path))
    print(
        f"\nElapsed {time.monotonic() - began:.1f} s, peak memory {_peak_mb():.0f} MB."
        f"\nConfig:    {config_path}\nWarehouse: {config.warehouse_path}\nTruth:     {out / 'truth'}"
        f"\nOpen the UI with `make dev` "
        f"(or: NIGHTJAR_CONFIG={config_path} .venv/bin/dagster dev -w workspace.yaml)"
    )
    return 0 if ok else 1


def cmd_backfill(args: argparse.Namespace) -> int:
    from pipeline.ops.backfill import check_range

    config = _config(args)
    problem = check_range(config.start_date, getattr(args, "from"), args.to)
    if problem:
        print(f"nothing to backfill: {problem}", file=sys.stderr)
        return 2
    ok = run_backfill(
        config, getattr(args, "from"), args.to, Path(args.warehouse) if args.warehouse else None
    )
    print(summary(Path(args.warehouse) if args.warehouse else config.warehouse_path))
    return 0 if ok else 1


def _upload_day(config: ProjectConfig, dataset: str, path: Path, given: dt.date | None) -> dt.date:
    """The partition of an uploaded transaction file: --date, else the date in its name."""
    if given:
        return given
    spec = config.transaction(dataset)
    fmt = config.source(spec.source).date_format
    if not spec.file_name:  # a query source (BigQuery, SQL Server): no file name pattern
        raise SystemExit(f"{path.name}: {dataset!r} is read by a query; give --date YYYY-MM-DD")
    stem = path.name.split(".", 1)[0]
    try:
        return dt.datetime.strptime(stem.removeprefix(spec.file_name + "_"), fmt).date()
    except ValueError:
        raise SystemExit(
            f"{path.name}: no date in the name (expected {spec.file_name}_<{fmt}>.<ext>); "
            "give --date YYYY-MM-DD"
        ) from None


def cmd_upload(args: argparse.Namespace) -> int:
    from pipeline.core.warehouse import connect
    from pipeline.ingest.customers import CUSTOMERS, ingest_customers
    from pipeline.ingest.sources.local_files import landed_file
    from pipeline.ingest.transactions import ingest_transaction
    from pipeline.ingest.write import FAILED

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
    from pipeline.core.metadata import markdown_table
    from pipeline.core.warehouse import WarehouseError, connect
    from pipeline.customers.forget import CustomerNotFound, forget_customer

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
    what = (
        f"Forgot {result.customers} customer(s)"
        if result.customers
        else "No customer holds it; forgot the rows that held it without a customer"
    )
    print(
        f"{what} (by {result.identifier_kind}): {result.total} row(s) deleted in one transaction, "
        "recorded in forget_log (without the identifier)."
    )
    print(markdown_table(["table", "rows deleted"], sorted(result.rows_deleted.items())))
    if result.shared_identifiers_kept:
        print(
            f"{result.shared_identifiers_kept} identifier(s) shared with a customer who stays "
            "(and whom identity matching gives them) were kept, with that customer's rows."
        )
    return 0


def cmd_attribution(args: argparse.Namespace) -> int:
    """`nightjar attribution models` lists the models; `... summary` prints the credited totals."""
    from pipeline.attribution.credits import SUMMARY
    from pipeline.attribution.models import all_models
    from pipeline.core.metadata import markdown_table
    from pipeline.core.sql import sql
    from pipeline.core.warehouse import WarehouseError, connect, table_exists

    config = load_config(args.config) if args.config else _config(args)
    models = all_models(config.attribution)
    if args.attribution_command == "models":
        width = max(len(m.name) for m in models)
        for m in models:
            print(f"{m.name:<{width}}  {'built-in' if m.builtin else 'custom  '}  {m.describe()}")
        return 0
    warehouse = Path(args.warehouse) if args.warehouse else config.warehouse_path
    try:
        with connect(warehouse, read_only=True) as con:
            if not table_exists(con, SUMMARY):
                print(
                    f"{warehouse}: no {SUMMARY} yet: materialize the attribution assets first",
                    file=sys.stderr,
                )
                return 1
            first = getattr(args, "from") or dt.date(1, 1, 1)
            last = args.to or dt.date(9999, 12, 31)
            rows = con.execute(
                sql("attribution/ui_summary"), {"a": first, "b": last, "models": [m.name for m in models]}
            ).fetchall()
    except WarehouseError as e:
        print(e, file=sys.stderr)
        return 1
    print(
        markdown_table(
            ["model", "channel", "conversions", "value"],
            [(m, c, f"{n:.2f}", f"{v:.2f}") for m, c, n, v in rows if not args.model or m == args.model],
        )
    )
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    """The waterfall of one customer's score: base value + each feature's SHAP value = the raw score."""
    from pipeline.core.warehouse import WarehouseError, connect
    from pipeline.models.scoring import NoModelVersion, explain

    config = _config(args)
    warehouse = Path(args.warehouse) if args.warehouse else config.warehouse_path
    try:
        spec = config.model(args.model)
        with connect(warehouse, read_only=True) as con:
            e = explain(con, config, spec, args.customer, warehouse.resolve().parent / "models", args.date)
    except (KeyError, LookupError, NoModelVersion, WarehouseError, FileNotFoundError) as err:
        print(err.args[0] if isinstance(err, KeyError) else err, file=sys.stderr)
        return 1
    shown = e.contributions.head(args.top)
    rest = e.contributions["shap"].iloc[args.top :].sum()
    print(
        f"model {e.model} ({spec.type}), version {e.version}, customer {e.customer_id}, as of {e.as_of}"
        + (f", top item {e.item}" if e.item else "")
    )
    print(f"  base value            {e.base_value:+.6f}")
    values = shown["value"].astype(object).where(shown["value"].notna(), "").astype(str).str[:20]
    lines = zip(shown["feature"], values, shown["shap"], strict=True)
    print("\n".join(f"  {f:<32} = {v:<20} {x:+.6f}" for f, v, x in lines))
    if len(e.contributions) > args.top:
        print(f"  {len(e.contributions) - args.top} other features{'':<29} {rest:+.6f}")
    print(f"  raw score (log-odds)  {e.raw_score:+.6f}")
    print(f"score {e.score:.6f}")
    return 0


def cmd_model(args: argparse.Namespace) -> int:
    """`nightjar model versions|promote|rollback NAME [VERSION]` (pipeline/models/commands.py)."""
    from pipeline.core.warehouse import WarehouseError
    from pipeline.models.champion import VersionError
    from pipeline.models.commands import model_command

    config = _config(args)
    try:
        config.model(args.name)
        warehouse = Path(args.warehouse) if args.warehouse else config.warehouse_path
        print(model_command(args.model_command, args.name, args.version, warehouse))
    except (KeyError, VersionError, WarehouseError, FileNotFoundError) as err:
        print(err.args[0] if isinstance(err, KeyError) else err, file=sys.stderr)
        return 1
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from pipeline.activation.exports import ExportError, export_to
    from pipeline.core.warehouse import WarehouseError

    config = _config(args)
    warehouse = Path(args.warehouse) if args.warehouse else config.warehouse_path
    if not warehouse.is_file():
        print(f"the warehouse {warehouse} does not exist: run the pipeline first", file=sys.stderr)
        return 1
    try:
        rows, where = export_to(
            config,
            warehouse,
            args.date,
            args.to,
            overwrite=not args.no_clobber,
            log=lambda m: print(m, file=sys.stderr),
        )
    except (ExportError, WarehouseError, OSError) as e:
        print(e, file=sys.stderr)
        return 1
    print(f"results {args.date}: {rows} decisions -> {where}")
    return 0


def cmd_recover(args: argparse.Namespace) -> int:
    import dagster as dg

    from pipeline.ops.recover import recover

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


def _project_options(p: argparse.ArgumentParser, warehouse: bool = True) -> None:
    """--config (and --warehouse): which project, which warehouse file."""
    p.add_argument(
        "--config", help="project YAML (default: $NIGHTJAR_CONFIG, demo/nightjar.yaml, the example)"
    )
    if warehouse:
        p.add_argument("--warehouse", help="warehouse file (default: the config's)")


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
    p.add_argument(
        "--via",
        choices=["sftp", "gcs"],
        help="serve the transaction files from a local SFTP server or GCS emulator and ingest through it",
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("backfill", help="materialize every asset for a date range as one run")
    p.add_argument("--from", type=_date, required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--to", type=_date, required=True, help="last day, YYYY-MM-DD (inclusive)")
    _project_options(p)
    p.set_defaults(func=cmd_backfill)

    p = sub.add_parser("upload", help="load one CSV/JSON file into a dataset through the ingestion path")
    p.add_argument("file", help="the CSV / JSON (lines) file")
    p.add_argument("--dataset", required=True, help="`customers` or a transaction name")
    p.add_argument(
        "--mode", choices=["create", "update", "overwrite"], help="customers only (default: the config's)"
    )
    p.add_argument(
        "--date", type=_date, help="the partition (default: the date in the file name; today for customers)"
    )
    _project_options(p)
    p.set_defaults(func=cmd_upload)

    p = sub.add_parser(
        "forget", help="delete a customer from every customer-keyed table (one transaction, logged)"
    )
    p.add_argument(
        "customer", help="a customer_id, or any identifier of the customer (e-mail hash, IDFA, ...)"
    )
    p.add_argument(
        "--kind",
        choices=["customer_id", *IDENTIFIER_KINDS, "email"],
        help="what CUSTOMER is (default: try every kind); `email` is a plain address, hashed as on ingestion",
    )
    _project_options(p)
    p.set_defaults(func=cmd_forget)

    p = sub.add_parser("attribution", help="attribution: list the models, print the credited totals")
    asub = p.add_subparsers(dest="attribution_command", required=True)
    a = asub.add_parser("models", help="the built-in and custom attribution models and their definitions")
    _project_options(a, warehouse=False)
    a.set_defaults(func=cmd_attribution)
    a = asub.add_parser("summary", help="credited conversions and value per model and channel")
    a.add_argument("--from", type=_date, help="first conversion day, YYYY-MM-DD (default: all)")
    a.add_argument("--to", type=_date, help="last conversion day, YYYY-MM-DD (default: all)")
    a.add_argument("--model", help="only this model")
    _project_options(a)
    a.set_defaults(func=cmd_attribution)
    p = sub.add_parser("explain", help="why a model scores a customer as it does (SHAP waterfall)")
    p.add_argument("--model", required=True, help="a model name of the config")
    p.add_argument("--customer", required=True, help="a customer_id")
    p.add_argument("--date", type=_date, help="as of this day (default: the last day with events)")
    p.add_argument("--top", type=int, default=10, help="contributions shown (the rest are summed)")
    _project_options(p)
    p.set_defaults(func=cmd_explain)
    p = sub.add_parser("model", help="a model's versions; promote one, or roll the one in use back")
    p.add_argument("model_command", choices=["versions", "promote", "rollback"])
    p.add_argument("name", help="a model name of the config")
    p.add_argument("version", nargs="?", type=_date, help="promote: the version (YYYY-MM-DD)")
    _project_options(p)
    p.set_defaults(func=cmd_model)
    p = sub.add_parser(
        "export", help="export one night's decisions (results) as CSV, locally or to SFTP / GCS"
    )
    p.add_argument("what", choices=["results"], help="what to export")
    p.add_argument("--date", type=_date, required=True, help="the decision date, YYYY-MM-DD")
    p.add_argument(
        "--to",
        required=True,
        help="the CSV file to write, or sftp://SOURCE/PATH or gcs://SOURCE/PATH "
        "(a configured source; {date} in PATH becomes the date in the source's date_format)",
    )
    p.add_argument(
        "--no-clobber", action="store_true", help="fail instead of replacing an existing file or object"
    )
    _project_options(p)
    p.set_defaults(func=cmd_export)
    p = sub.add_parser(
        "recover", help="mark runs whose process died (e.g. SIGKILL) failed and free their pool slots"
    )
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
