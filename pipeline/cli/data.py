"""`nightjar upload | forget | export`: data in, a customer out, results out."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from pipeline.activation.config import EXPORT_FORMATS, EXPORT_TABLES
from pipeline.cli.common import dagster_home_problem, date_arg, project_config, project_options, warehouse_of
from pipeline.config import ProjectConfig
from pipeline.core.catalog import IDENTIFIER_KINDS


def _upload_day(config: ProjectConfig, dataset: str, path: Path, given: dt.date | None) -> dt.date:
    """The partition of an uploaded transaction file: --date, else the date in its name."""
    from pipeline.ingest.sources.files import day_in_name

    if given:
        return given
    spec = config.transaction(dataset)
    fmt = config.source(spec.source).date_format
    if not spec.file_name:  # a query source (BigQuery, SQL Server): no file name pattern
        raise SystemExit(f"{path.name}: {dataset!r} is read by a query; give --date YYYY-MM-DD")
    day = day_in_name(path.name, spec.file_name, fmt)
    if day is None:  # the name the pipeline would ignore (e.g. trans_pos_2026115.csv for %Y%m%d)
        raise SystemExit(
            f"{path.name}: no date in the name (expected {spec.file_name}_<{fmt}>.<ext>, the date in "
            "full); give --date YYYY-MM-DD"
        )
    return day


def _name_has_no_date(config: ProjectConfig, file_name: str | None, path: Path) -> bool:
    """A file named ``<file_name>.<ext>`` (no date): a range file."""
    return bool(file_name) and path.name.split(".", 1)[0] == file_name


def report_materializations(asset: str, partitions: list[str | None], metadata: dict) -> str:
    """Tell the Dagster instance of $DAGSTER_HOME that ``asset`` changed outside a run: one runless
    materialization per partition changed (None: an unpartitioned asset), so the UI shows the new data
    and the assets downstream as stale; returns what was done."""
    import dagster as dg

    if not os.environ.get("DAGSTER_HOME"):
        return (
            f"note: DAGSTER_HOME is not set; Dagster was not told of {len(partitions)} partition(s) changed"
        )
    with dg.DagsterInstance.get() as dagster:
        for partition in partitions:  # one event per partition, as Dagster records them
            dagster.report_runless_asset_event(
                dg.AssetMaterialization(asset_key=asset, partition=partition, metadata=metadata)
            )
    return f"reported {len(partitions)} materialization(s) of {asset} to Dagster"


def _upload_range(config: ProjectConfig, spec, path: Path, warehouse: Path) -> int:
    """Load a file of many days into the partitions of its rows' days, then tell Dagster: a runless
    materialization of ``tx_<name>`` per partition the file changed (the assets downstream then show
    as stale in the UI)."""
    from pipeline.core.warehouse import connect
    from pipeline.ingest.ranges import covered_days, ingest_range_file
    from pipeline.ingest.sources.local_files import landed_file
    from pipeline.ingest.write import FAILED

    with connect(warehouse) as con:
        results = ingest_range_file(con, spec, "upload", landed_file(path, dt.datetime.now(dt.UTC).date()))
    for r in results:
        print(
            f"{path.name} -> {spec.name} ({r.partition_date or 'no day'}): {r.status}, {r.rows_read} read, "
            f"{r.rows_loaded} loaded, {r.rows_rejected} rejected" + (f"\n{r.error}" if r.error else "")
        )
    days = covered_days(results)
    if days:
        print(
            report_materializations(
                spec.table, [d.isoformat() for d in days], {"file": path.name, "source": "upload"}
            )
            + f" ({days[0]} .. {days[-1]})"
        )
    return 1 if any(r.status == FAILED for r in results) else 0


def cmd_upload(args: argparse.Namespace) -> int:
    from pipeline.core.warehouse import connect
    from pipeline.ingest.customers import CUSTOMERS, ingest_customers
    from pipeline.ingest.sources.local_files import landed_file
    from pipeline.ingest.transactions import ingest_transaction
    from pipeline.ingest.write import FAILED
    from pipeline.ops.backfill import check_range

    config = project_config(args)
    path = Path(args.file)
    if not path.is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return 1
    if problem := dagster_home_problem():  # before the load: Dagster is told of it afterwards
        print(problem, file=sys.stderr)
        return 1
    warehouse = warehouse_of(args, config)
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
        if not args.date and (spec.files == "range" or _name_has_no_date(config, spec.file_name, path)):
            return _upload_range(config, spec, path, warehouse)
        day = _upload_day(config, args.dataset, path, args.date)
        if problem := check_range(config.start_date, day, day):  # as the sensors and backfill refuse it
            print(f"{path.name}: day {day} is not a partition: {problem}", file=sys.stderr)
            return 1
        with connect(warehouse) as con:
            result = ingest_transaction(con, spec, "upload", landed_file(path, day), day)
    if result.status != FAILED:
        asset = CUSTOMERS if args.dataset == CUSTOMERS else config.transaction(args.dataset).table
        partition = None if args.dataset == CUSTOMERS else str(result.partition_date)
        report_materializations(asset, [partition], {"file": path.name, "rows_loaded": result.rows_loaded})
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

    config = project_config(args)
    warehouse = warehouse_of(args, config)
    if not warehouse.is_file():
        print(f"the warehouse {warehouse} does not exist: there is nothing to forget", file=sys.stderr)
        return 1
    if args.customer is None:
        if not args.compact:
            print("say which customer to forget (or --compact alone to rewrite the file)", file=sys.stderr)
            return 2
        return _compact(warehouse)
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
    if not _publish_again(warehouse):
        return 1
    return _compact(warehouse) if args.compact else 0


def _publish_again(warehouse: Path) -> bool:
    """After a forget: publish the snapshot again (removing every older version) and write the report
    beside the warehouse again, when there are any, so that what people read no longer holds the rows.
    The forget is pending in the warehouse until a publication has done so: if this one fails, the next
    one (a run's, or the next forget's) keeps no older version either."""
    import duckdb

    from pipeline.activation.publish import PublishError, clear_forgets, current_snapshot, publish
    from pipeline.activation.report import INDEX, ReportError, write_report
    from pipeline.core.warehouse import WarehouseError, connect, published_folder

    root = published_folder(warehouse)
    if current_snapshot(root) is None:
        return True
    try:
        with connect(warehouse, read_only=True) as con:
            snapshot = publish(con, warehouse, log=print, alone=True)
    except (WarehouseError, PublishError, OSError, duckdb.Error) as e:
        print(
            f"forgotten in the warehouse, but the published snapshot could not be written again ({e}): "
            "it and the report hold the rows until the next publication (a run's, or the next forget's), "
            "which keeps no older version",
            file=sys.stderr,
        )
        return False
    try:
        with connect(warehouse) as con:
            clear_forgets(con, snapshot.forgets)
    except WarehouseError as e:  # harmless: the next publication keeps no older version either
        print(f"published again without them, but the warehouse could not record it ({e})", file=sys.stderr)
    reports = root.parent / "reports"
    try:
        if (reports / INDEX).exists():
            print(f"Wrote the report again: {write_report(root, reports)}")
    except (ReportError, OSError, duckdb.Error) as e:
        print(
            f"forgotten in the warehouse and the published snapshot, but the report {reports / INDEX} could "
            f"not be written again ({e}): it holds the rows until the next run writes it",
            file=sys.stderr,
        )
        return False
    return True


def _compact(warehouse: Path) -> int:
    from pipeline.core.warehouse import WarehouseError, compact

    try:
        before, after = compact(warehouse)
    except WarehouseError as e:
        print(e, file=sys.stderr)
        return 1
    print(f"Rewrote {warehouse} ({before:,} -> {after:,} bytes): the deleted rows' bytes are gone from it.")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from pipeline.activation.exports import ExportError, export_to
    from pipeline.core.warehouse import WarehouseError

    config = project_config(args)
    warehouse = warehouse_of(args, config)
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
            table=args.what,
            fmt=args.format,
            columns=[c.strip() for c in args.columns.split(",")] if args.columns else None,
        )
    except (ExportError, WarehouseError, OSError) as e:
        print(e, file=sys.stderr)
        return 1
    print(f"{args.what} {args.date}: {rows} {'decisions' if args.what == 'results' else 'rows'} -> {where}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("upload", help="load one CSV/JSON file into a dataset through the ingestion path")
    p.add_argument("file", help="the CSV / JSON (lines) file")
    p.add_argument("--dataset", required=True, help="`customers` or a transaction name")
    p.add_argument(
        "--mode", choices=["create", "update", "overwrite"], help="customers only (default: the config's)"
    )
    p.add_argument(
        "--date",
        type=date_arg,
        help="the partition (default: the date in the file name; today for customers)",
    )
    project_options(p)
    p.set_defaults(func=cmd_upload)

    p = sub.add_parser(
        "forget", help="delete a customer from every customer-keyed table (one transaction, logged)"
    )
    p.add_argument(
        "customer",
        nargs="?",
        help="a customer_id, or any identifier of the customer (e-mail hash, IDFA, ...)",
    )
    p.add_argument(
        "--kind",
        choices=["customer_id", *IDENTIFIER_KINDS, "email"],
        help="what CUSTOMER is (default: try every kind); `email` is a plain address, hashed as on ingestion",
    )
    p.add_argument(
        "--compact",
        action="store_true",
        help="then rewrite the warehouse file, so the deleted rows' bytes are gone from disk too",
    )
    project_options(p)
    p.set_defaults(func=cmd_forget)

    p = sub.add_parser(
        "export",
        help="export one day's rows of a table (CSV, Parquet, JSON lines), locally, to SFTP / GCS "
        "or into a BigQuery table",
    )
    p.add_argument("what", choices=list(EXPORT_TABLES), help="what to export")
    p.add_argument(
        "--date",
        type=date_arg,
        required=True,
        help="the rows' day, YYYY-MM-DD (results: the presentation date, decided the night before)",
    )
    p.add_argument("--format", choices=list(EXPORT_FORMATS), default="csv", help="file format (default csv)")
    p.add_argument("--columns", help="comma-separated columns to keep, in that order (default: all)")
    p.add_argument(
        "--to",
        required=True,
        help="the file to write, or sftp://SOURCE/PATH or gcs://SOURCE/PATH "
        "(a configured source; {date} in PATH becomes the date in the source's date_format), "
        "or bigquery://SOURCE/DATASET.TABLE (the day's rows of that table are replaced)",
    )
    p.add_argument(
        "--no-clobber", action="store_true", help="fail instead of replacing an existing file or object"
    )
    project_options(p)
    p.set_defaults(func=cmd_export)
