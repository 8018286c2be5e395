"""Ingestion assets: one daily-partitioned ``tx_<name>`` per declared transaction, and ``customers``.

A transaction read from a remote source (one reached through a Dagster resource) is built by
assets/remote_ingest.py; the loading itself is pipeline/ingest/ (runs.py), the same for all.
"""

from typing import cast

import dagster as dg

from assets.remote_ingest import build_remote_transaction_asset
from pipeline.config import ProjectConfig
from pipeline.core.partitions import days_in
from pipeline.core.retries import TRANSIENT_RETRY
from pipeline.core.warehouse import POOL, WarehouseResource
from pipeline.ingest.config import TransactionSpec
from pipeline.ingest.customers import CUSTOMERS
from pipeline.ingest.runs import (
    apply_customer_files,
    customers_checks,
    ingest_days,
    ingest_range,
    transaction_checks,
)
from pipeline.ingest.sources.local_files import (
    LocalFilesSource,
    find_inputs,
    range_files,
    usable_files,
)
from pipeline.ingest.sources.registry import dataset_file_name, source_kind


def build_transaction_asset(
    config: ProjectConfig, spec: TransactionSpec, partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    if source_kind(config.source(spec.source).kind).remote:
        return build_remote_transaction_asset(config, spec, partitions)
    source = cast(LocalFilesSource, config.source(spec.source))
    folder = config.resolve(source.folder)
    file_name = dataset_file_name(source, spec)

    @dg.asset(
        name=spec.table,
        group_name="ingest",
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=POOL,
        retry_policy=TRANSIENT_RETRY,
        kinds={"duckdb"},
        description=f"Transactions `{spec.name}` from {source.kind} `{source.name}` "
        f"({folder}/{spec.file_name}{'*' if spec.files == 'range' else '_<date>'}.*), "
        f"one partition per day of `{spec.time_field}`.",
        check_specs=transaction_checks(spec),
    )
    def _tx_asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        days = days_in(context.partition_time_window)
        if spec.files == "range":
            files = range_files(folder, file_name)
            missing = f"no file {file_name}.* or {file_name}_*.* in {folder}"
            return ingest_range(context, warehouse, config, spec, source.name, files, days, missing)
        inputs = find_inputs(folder, file_name, days, source.date_format)
        return ingest_days(context, warehouse, config, spec, source.name, inputs)

    return _tx_asset


def build_customers_asset(config: ProjectConfig) -> dg.AssetsDefinition:
    spec = config.customers
    assert spec is not None  # built only when the config declares customer data
    source = cast(LocalFilesSource, config.source(spec.source))  # the config allows local files only
    folder = config.resolve(source.folder)
    file_name = cast(str, spec.file_name)  # required by the config

    @dg.asset(
        name=CUSTOMERS,
        group_name="ingest",
        backfill_policy=dg.BackfillPolicy.single_run(),  # lets a CLI partition range include it
        pool=POOL,
        retry_policy=TRANSIENT_RETRY,
        kinds={"duckdb"},
        description=f"The current snapshot of customer data: every customer file from {source.kind} "
        f"`{source.name}` ({folder}/{spec.file_name}_<date>.*) applied in date order, mode `{spec.mode}`.",
        check_specs=customers_checks(),
    )
    def _customers(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        files, stray = usable_files(folder, file_name, source.date_format)
        for problem in stray:  # reported and skipped, never read, never blocking the other files
            context.log.warning(f"customers: {problem}")
        return apply_customer_files(context, warehouse, config, spec, source.name, files)

    return _customers


def build_ingest_assets(
    config: ProjectConfig, partitions: dg.PartitionsDefinition
) -> list[dg.AssetsDefinition]:
    out = [build_transaction_asset(config, t, partitions) for t in config.transactions]
    if config.customers:
        out.append(build_customers_asset(config))
    return out
