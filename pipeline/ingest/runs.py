"""An ingestion run as Dagster shows it: the loads of an asset run, their metadata and checks.

The assets (assets/ingest.py, assets/remote_ingest.py) only say where the files of their days
come from; the loading, the metadata (row counts, rejects by reason, schema, preview) and the
check results are made here, the same for every source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import dagster as dg

from pipeline.core.catalog import IDENTIFIER_KINDS
from pipeline.core.metadata import column_schema, markdown_table, preview
from pipeline.core.sql import sql
from pipeline.core.warehouse import WarehouseResource, scalar, table_exists
from pipeline.ingest.config import CustomersSpec, IngestConfig, TransactionSpec
from pipeline.ingest.customer_batch import ingest_customer_files
from pipeline.ingest.customers import CUSTOMERS, files_to_apply
from pipeline.ingest.ranges import MOVED_AWAY, Window, changed_outside, ingest_range_file
from pipeline.ingest.sources.files import LandedFile, NoFile
from pipeline.ingest.transactions import ingest_transactions
from pipeline.ingest.write import FAILED, LoadResult, record_empty_day, record_missing_file

REJECT_RATE = "reject_rate_under_threshold"
NOT_EMPTY = "partition_not_empty"
CUSTOMUID_UNIQUE = "customuid_unique"
REJECT_RATE_DOC = (
    "Share of rejected rows per load is under checks.max_reject_rate (else a warning); above "
    "checks.block_reject_rate it blocks the assets downstream"
)


def transaction_checks(spec: TransactionSpec) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(REJECT_RATE, asset=spec.table, blocking=True, description=REJECT_RATE_DOC),
        dg.AssetCheckSpec(
            NOT_EMPTY, asset=spec.table, description="Every loaded partition has at least one row"
        ),
    ]


def customers_checks() -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(CUSTOMUID_UNIQUE, asset=CUSTOMERS, description="customuid is unique"),
        dg.AssetCheckSpec(REJECT_RATE, asset=CUSTOMERS, blocking=True, description=REJECT_RATE_DOC),
    ]


def _loads_table(results: list[LoadResult]) -> str:
    rows = [
        (r.partition_date, r.file, r.status, r.rows_read, r.rows_loaded, r.rows_rejected, r.error or "")
        for r in results
    ]
    return markdown_table(["day", "file", "status", "read", "loaded", "rejected", "error"], rows)


def _rejects_by_reason(con, dataset: str, results: list[LoadResult]) -> str:
    rows = con.execute(
        sql("ingest/rejects_by_reason"),
        {"ds": dataset, "ids": [r.load_id for r in results]},
    ).fetchall()
    return markdown_table(["field", "rows", "example reason"], rows) if rows else "no rejected rows"


def _reject_rate_check(results: list[LoadResult], config: IngestConfig) -> dg.AssetCheckResult:
    """Warns above ``checks.max_reject_rate``; above ``checks.block_reject_rate`` it is an ERROR,
    and the check is blocking: the assets downstream (identities, events, KPIs) are not built
    from a broken feed in that run."""
    threshold, block = config.checks.max_reject_rate, config.checks.block_reject_rate
    rates = [
        (r.rows_rejected / r.rows_read if r.rows_read else 0.0, r) for r in results if r.status != FAILED
    ]
    worst, at = max(rates, key=lambda x: x[0], default=(0.0, None))
    return dg.AssetCheckResult(
        check_name=REJECT_RATE,
        passed=worst <= threshold,
        severity=dg.AssetCheckSeverity.ERROR if worst > block else dg.AssetCheckSeverity.WARN,
        metadata={
            "worst_reject_rate": float(worst),
            "threshold": float(threshold),
            "block_threshold": float(block),
            "worst_file": at.file if at and at.file else "",
        },
    )


def _summary(results: list[LoadResult]) -> dict:
    out = {
        "rows_read": sum(r.rows_read for r in results),
        "rows_loaded": sum(r.rows_loaded for r in results),
        "rows_rejected": sum(r.rows_rejected for r in results),
        "loads": dg.MetadataValue.md(_loads_table(results)),
    }
    changes = [(r.file, c, how) for r in results for c, how in r.schema_changes.items()]
    changes += [(r.file, c, f"type {how}") for r in results for c, how in r.retyped.items()]
    # columns the files brought that no field declares (new_columns: evolve | discard), and the
    # columns converted to the type their field is declared with now
    if changes:
        out["schema_changes"] = dg.MetadataValue.md(markdown_table(["file", "column", "change"], changes))
    return out


def _raise_failed(results: list[LoadResult], what: str) -> None:
    failed = [r for r in results if r.status == FAILED]
    if failed:
        raise dg.Failure(
            description=f"{len(failed)} of {len(results)} loads of {what} failed: "
            + "; ".join(f"{r.partition_date}: {r.error}" for r in failed[:5]),
            metadata={"failed_loads": dg.MetadataValue.md(_loads_table(failed))},
            allow_retries=False,  # a bad or missing file stays bad: no retry
        )


def _no_input(con, spec: TransactionSpec, source_name: str, day: dt.date, why: str) -> LoadResult:
    """The load of a day without a file: PROCESSED and empty when the source has no file for the day
    and the dataset says ``missing_file: empty``, else FAILED with the reason."""
    if isinstance(why, NoFile) and spec.missing_file == "empty":
        return record_empty_day(con, source_name, spec, day)
    return record_missing_file(con, source_name, spec.name, day, str(why))


def ingest_days(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    config: IngestConfig,
    spec: TransactionSpec,
    source_name: str,
    inputs: Mapping[dt.date, LandedFile | str],
) -> dg.MaterializeResult:
    """Load each day's file (or record why there is none: ``inputs[day]`` is then a message) into
    ``tx_<name>`` through the one ingestion path; shared by every kind of source."""
    days = sorted(inputs)
    with warehouse.connect() as con:
        # the files of consecutive days are read, typed and written together (each day its own
        # partition, rejects and `loads` row); a day without a file gets its load, in day order
        results: list[LoadResult] = []
        landed: list[tuple[dt.date, LandedFile]] = []
        for day in [*days, None]:
            f = inputs.get(day) if day is not None else None
            if day is not None and isinstance(f, LandedFile):
                landed.append((day, f))
                continue
            results += ingest_transactions(con, spec, source_name, landed)
            landed = []
            if day is not None:
                results.append(
                    _no_input(con, spec, source_name, day, str(f) if not isinstance(f, str) else f)
                )
        return _materialized(context, con, config, spec, results, days)


def ingest_range(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    config: IngestConfig,
    spec: TransactionSpec,
    source_name: str,
    files: list[LandedFile],
    days: list[dt.date],
    missing: str,
    window: Window | None = None,
) -> dg.MaterializeResult:
    """Load the rows of the run's ``days`` from each of the dataset's range files, oldest file first
    (a later file's days replace an earlier one's); without any file, each day gets the load
    ``missing_file`` says (``missing`` is why). ``window`` widens the days taken from the files
    (an API's records go to their days whatever the run's partitions)."""
    with warehouse.connect() as con:
        results: list[LoadResult] = []
        for f in files:  # a loop over files, not rows
            results += ingest_range_file(con, spec, source_name, f, window or (days[0], days[-1]))
        if not files:
            results = [_no_input(con, spec, source_name, day, NoFile(missing)) for day in days]
        _report_other_days(context, con, spec, results, days)
        return _materialized(context, con, config, spec, results, days)


def _why(spec: TransactionSpec, why: str) -> str:
    if why == MOVED_AWAY:
        return (
            f"upsert by key (replaces: none): a row with the same {', '.join(spec.key)} was loaded on "
            "another day, so its earlier row left this day"
        )
    return "rows were loaded into this day (the records go to their own days, whatever the run's partitions)"


def _report_other_days(
    context: dg.AssetExecutionContext,
    con,
    spec: TransactionSpec,
    results: list[LoadResult],
    days: list[dt.date],
) -> None:
    """Tell Dagster of each partition outside the run's ``days`` that its range files changed: a
    materialization of that partition saying why (the run materializes its own partitions), so the
    assets downstream of it show as needing a run. Logged before the run may fail on another load:
    the change is in the warehouse either way."""
    changed = changed_outside(results, (days[0], days[-1]))
    if not changed:
        return
    counts = dict(
        con.execute(
            sql("ingest/partition_rows", idents={"table": spec.table}), {"days": list(changed)}
        ).fetchall()
    )
    partitions = context.assets_def.partitions_def
    run_of = str(days[0]) if len(days) == 1 else f"{days[0]}..{days[-1]}"
    for day, changes in changed.items():  # one event per partition changed, not per row
        key = day.isoformat()
        if partitions is None or not partitions.has_partition_key(key):
            context.log.warning(f"{spec.table}: day {key} changed, but it is not a partition of the asset")
            continue
        context.log_event(
            dg.AssetMaterialization(
                asset_key=context.asset_key,
                partition=key,
                description=f"changed by the run of {run_of}",
                metadata={
                    "changed_by_run_of": run_of,
                    "file": ", ".join(dict.fromkeys(f for f, _ in changes)),
                    "reason": "; ".join(dict.fromkeys(_why(spec, why) for _, why in changes)),
                    "rows_now": counts.get(day, 0),
                },
            )
        )


def _materialized(
    context: dg.AssetExecutionContext,
    con,
    config: IngestConfig,
    spec: TransactionSpec,
    results: list[LoadResult],
    days: list[dt.date],
) -> dg.MaterializeResult:
    """Log the loads of a run, fail it if one failed, else its metadata and check results."""
    for r in results:
        context.log.info(
            f"{spec.table} {r.partition_date}: {r.status} {r.rows_loaded} rows loaded, "
            f"{r.rows_rejected} rejected" + (f" ({r.error})" if r.error else "")
        )
    _raise_failed(results, spec.table)
    descriptions = {f.name: f.description for f in spec.fields if f.description}
    metadata: dict[str, Any] = {
        **_summary(results),
        "rejects_by_reason": dg.MetadataValue.md(_rejects_by_reason(con, spec.name, results)),
    }
    if table_exists(con, spec.table):  # not yet when every day so far was empty
        metadata["dagster/column_schema"] = column_schema(con, spec.table, descriptions)
        metadata["preview"] = dg.MetadataValue.md(
            preview(con, spec.table, partition=days[-1], hidden=[spec.customer_field])
        )
        metadata["table_rows"] = scalar(con, sql("ingest/table_rows", idents={"table": spec.table}))
    if len(days) == 1 and len(results) == 1:
        metadata["dagster/row_count"] = results[0].rows_loaded
    empty = [str(r.partition_date) for r in results if r.rows_loaded == 0 and r.partition_date is not None]
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            _reject_rate_check(results, config),
            dg.AssetCheckResult(
                check_name=NOT_EMPTY,
                passed=not empty,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"empty_partitions": ", ".join(empty) or "none"},
            ),
        ],
    )


def apply_customer_files(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    config: IngestConfig,
    spec: CustomersSpec,
    source_name: str,
    files: list[LandedFile],
) -> dg.MaterializeResult:
    """Apply the customer files not applied in their current version, oldest first. A file that
    fails is reported (the run fails, naming it) and skipped: the later files are still applied,
    so one stray file never blocks every customer load; the next run tries it again (and applies
    the files after it again, in order)."""
    with warehouse.connect() as con:
        pending = files_to_apply(con, CUSTOMERS, files)
        context.log.info(f"customers: {len(pending)} new or changed file(s) to apply")
        # consecutive CSV files in mode update are applied together (customer_batch.py)
        results = ingest_customer_files(con, spec, source_name, pending)
        for r in results:
            context.log.info(
                f"customers {r.file}: {r.status} {r.rows_loaded} rows applied, {r.rows_rejected} rejected"
                + (f" ({r.error})" if r.error else "")
            )
        _raise_failed(results, CUSTOMERS)
        total = scalar(con, "SELECT count(*) FROM customers") if table_exists(con, CUSTOMERS) else 0
        dupes = scalar(con, "SELECT count(*) - count(DISTINCT customuid) FROM customers") if total else 0
        metadata = {
            **_summary(results),
            "dagster/row_count": total,
            "rejects_by_reason": dg.MetadataValue.md(_rejects_by_reason(con, CUSTOMERS, results)),
        }
        if total:
            metadata["dagster/column_schema"] = column_schema(con, CUSTOMERS)
            metadata["preview"] = dg.MetadataValue.md(preview(con, CUSTOMERS, hidden=IDENTIFIER_KINDS))
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            dg.AssetCheckResult(
                check_name=CUSTOMUID_UNIQUE, passed=dupes == 0, metadata={"duplicates": dupes}
            ),
            _reject_rate_check(results, config),
        ],
    )
