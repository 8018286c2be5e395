"""Ingestion assets: one daily-partitioned ``tx_<name>`` per declared transaction, and ``customers``."""

import dagster as dg

from pipeline.config import ProjectConfig
from pipeline.core.metadata import column_schema, markdown_table, preview
from pipeline.core.partitions import days_in
from pipeline.core.retries import TRANSIENT_RETRY
from pipeline.core.sql import ident, sql
from pipeline.core.warehouse import WarehouseResource, scalar, table_exists
from pipeline.ingest.batch import (
    CUSTOMERS,
    FAILED,
    LoadResult,
    files_to_apply,
    ingest_customers,
    ingest_transactions,
    record_missing_file,
)
from pipeline.ingest.config import TransactionSpec
from pipeline.ingest.sources.local_files import SourceError, find_file, list_files

POOL = "duckdb"
REJECT_RATE = "reject_rate_under_threshold"
NOT_EMPTY = "partition_not_empty"
CUSTOMUID_UNIQUE = "customuid_unique"
REJECT_RATE_DOC = (
    "Share of rejected rows per load is under checks.max_reject_rate (else a warning); above "
    "checks.block_reject_rate it blocks the assets downstream"
)


def _loads_table(results: list[LoadResult]) -> str:
    rows = [
        (r.partition_date, r.file, r.status, r.rows_read, r.rows_loaded, r.rows_rejected, r.error or "")
        for r in results
    ]
    return markdown_table(["day", "file", "status", "read", "loaded", "rejected", "error"], rows)


def _rejects_by_reason(con, dataset: str, load_ids: list[int]) -> str:
    rows = con.execute(
        sql("ingest/rejects_by_reason"),
        {"ds": dataset, "ids": load_ids},
    ).fetchall()
    return markdown_table(["field", "rows", "example reason"], rows) if rows else "no rejected rows"


def _reject_rate_check(results: list[LoadResult], threshold: float, block: float) -> dg.AssetCheckResult:
    """Warns above ``threshold``; above ``block`` it is an ERROR, and the check is blocking: the
    assets downstream (identities, events, KPIs) are not built from a broken feed in that run."""
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
            "worst_file": at.file if at else "",
        },
    )


def _summary(results: list[LoadResult]) -> dict:
    return {
        "rows_read": sum(r.rows_read for r in results),
        "rows_loaded": sum(r.rows_loaded for r in results),
        "rows_rejected": sum(r.rows_rejected for r in results),
        "loads": dg.MetadataValue.md(_loads_table(results)),
    }


def _raise_failed(results: list[LoadResult], what: str) -> None:
    failed = [r for r in results if r.status == FAILED]
    if failed:
        raise dg.Failure(
            description=f"{len(failed)} of {len(results)} loads of {what} failed: "
            + "; ".join(f"{r.partition_date}: {r.error}" for r in failed[:5]),
            metadata={"failed_loads": dg.MetadataValue.md(_loads_table(failed))},
            allow_retries=False,  # a bad or missing file stays bad: no retry
        )


def ingest_days(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    config: ProjectConfig,
    spec: TransactionSpec,
    source_name: str,
    inputs: dict,
) -> dg.MaterializeResult:
    """Load each day's file (or record why there is none: ``inputs[day]`` is then a message) into
    ``tx_<name>`` through the one ingestion path; shared by local and remote sources."""
    days = sorted(inputs)
    with warehouse.connect() as con:
        # the files of consecutive days are read, typed and written together (each day its own
        # partition, rejects and `loads` row); a day without a file gets its FAILED load, in day order
        results: list[LoadResult] = []
        landed: list = []
        for day in [*days, None]:
            f = inputs.get(day)
            if day is not None and not isinstance(f, str):
                landed.append((day, f))
                continue
            results += ingest_transactions(con, spec, source_name, landed)
            landed = []
            if day is not None:
                results.append(record_missing_file(con, source_name, spec.name, day, f))
        for r in results:
            context.log.info(
                f"{spec.table} {r.partition_date}: {r.status} {r.rows_loaded} rows loaded, {r.rows_rejected} rejected"
                + (f" ({r.error})" if r.error else "")
            )
        _raise_failed(results, spec.table)
        load_ids = [r.load_id for r in results]
        descriptions = {f.name: f.description for f in spec.fields if f.description}
        metadata = {
            **_summary(results),
            "rejects_by_reason": dg.MetadataValue.md(_rejects_by_reason(con, spec.name, load_ids)),
            "dagster/column_schema": column_schema(con, spec.table, descriptions),
            "preview": dg.MetadataValue.md(preview(con, spec.table, partition=days[-1])),
            "table_rows": scalar(con, f"SELECT count(*) FROM {ident(spec.table)}"),
        }
        if len(days) == 1:
            metadata["dagster/row_count"] = results[0].rows_loaded
    empty = [str(r.partition_date) for r in results if r.rows_loaded == 0]
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            _reject_rate_check(results, config.checks.max_reject_rate, config.checks.block_reject_rate),
            dg.AssetCheckResult(
                check_name=NOT_EMPTY,
                passed=not empty,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"empty_partitions": ", ".join(empty) or "none"},
            ),
        ],
    )


def build_transaction_asset(
    config: ProjectConfig, spec: TransactionSpec, partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    source = config.source(spec.source)
    if source.kind != "local_files":  # SFTP, GCS, BigQuery, GA4, SQL Server (assets/remote_ingest.py)
        from assets.remote_ingest import build_remote_transaction_asset

        return build_remote_transaction_asset(config, spec, partitions)
    folder = config.resolve(source.folder)

    @dg.asset(
        name=spec.table,
        group_name="ingest",
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=POOL,
        retry_policy=TRANSIENT_RETRY,
        kinds={"duckdb"},
        description=f"Transactions `{spec.name}` from {source.kind} `{source.name}` "
        f"({folder}/{spec.file_name}_<date>.*), one partition per day of `{spec.time_field}`.",
        check_specs=transaction_checks(spec),
    )
    def _tx_asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        days = days_in(context.partition_time_window)
        inputs: dict = {}
        for day in days:
            try:
                f = find_file(folder, spec.file_name, day, source.date_format)
            except SourceError as e:
                f = str(e)
            inputs[day] = f or f"no file {spec.file_name}_{day.strftime(source.date_format)}.* in {folder}"
        return ingest_days(context, warehouse, config, spec, source.name, inputs)

    return _tx_asset


def build_customers_asset(config: ProjectConfig) -> dg.AssetsDefinition:
    spec = config.customers
    source = config.source(spec.source)
    folder = config.resolve(source.folder)

    @dg.asset(
        name=CUSTOMERS,
        group_name="ingest",
        backfill_policy=dg.BackfillPolicy.single_run(),  # lets a CLI partition range include it
        pool=POOL,
        retry_policy=TRANSIENT_RETRY,
        kinds={"duckdb"},
        description=f"The current snapshot of customer data: every customer file from {source.kind} "
        f"`{source.name}` ({folder}/{spec.file_name}_<date>.*) applied in date order, mode `{spec.mode}`.",
        check_specs=[
            dg.AssetCheckSpec(CUSTOMUID_UNIQUE, asset=CUSTOMERS, description="customuid is unique"),
            dg.AssetCheckSpec(REJECT_RATE, asset=CUSTOMERS, blocking=True, description=REJECT_RATE_DOC),
        ],
    )
    def _customers(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        results: list[LoadResult] = []
        with warehouse.connect() as con:
            pending = files_to_apply(con, CUSTOMERS, list_files(folder, spec.file_name, source.date_format))
            context.log.info(f"customers: {len(pending)} new or changed file(s) to apply")
            for f in pending:
                r = ingest_customers(con, spec, source.name, f)
                results.append(r)
                context.log.info(
                    f"customers {f.name}: {r.status} {r.rows_loaded} rows applied, {r.rows_rejected} rejected"
                    + (f" ({r.error})" if r.error else "")
                )
                if r.status == FAILED:
                    break  # later files build on this one: stop here, keep the order
            _raise_failed(results, CUSTOMERS)
            total = scalar(con, "SELECT count(*) FROM customers") if table_exists(con, CUSTOMERS) else 0
            dupes = scalar(con, "SELECT count(*) - count(DISTINCT customuid) FROM customers") if total else 0
            metadata = {
                **_summary(results),
                "dagster/row_count": total,
                "rejects_by_reason": dg.MetadataValue.md(
                    _rejects_by_reason(con, CUSTOMERS, [r.load_id for r in results])
                ),
            }
            if total:
                metadata["dagster/column_schema"] = column_schema(con, CUSTOMERS)
                metadata["preview"] = dg.MetadataValue.md(preview(con, CUSTOMERS))
        return dg.MaterializeResult(
            metadata=metadata,
            check_results=[
                dg.AssetCheckResult(
                    check_name=CUSTOMUID_UNIQUE, passed=dupes == 0, metadata={"duplicates": dupes}
                ),
                _reject_rate_check(results, config.checks.max_reject_rate, config.checks.block_reject_rate),
            ],
        )

    return _customers


def transaction_checks(spec: TransactionSpec) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(REJECT_RATE, asset=spec.table, blocking=True, description=REJECT_RATE_DOC),
        dg.AssetCheckSpec(
            NOT_EMPTY, asset=spec.table, description="Every loaded partition has at least one row"
        ),
    ]


def build_ingest_assets(
    config: ProjectConfig, partitions: dg.PartitionsDefinition
) -> list[dg.AssetsDefinition]:
    out = [build_transaction_asset(config, t, partitions) for t in config.transactions]
    if config.customers:
        out.append(build_customers_asset(config))
    return out
