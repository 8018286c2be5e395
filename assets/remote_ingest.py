"""Transaction assets read from remote sources (SFTP, GCS, BigQuery, GA4, SQL Server, and any
kind registered in pipeline/ingest/sources/).

Each day is first fetched to a local temporary folder by the source's kind (network work,
warehouse closed): a file is streamed as it is, query results are written batch by batch to
Parquet. Then the warehouse is opened once and every day goes through the one ingestion path
(pipeline.ingest.runs.ingest_days). A day that cannot be fetched becomes a FAILED load with a
message naming the source.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import dagster as dg

from pipeline.config import ProjectConfig
from pipeline.core.partitions import days_in
from pipeline.core.retries import TRANSIENT_RETRY
from pipeline.core.warehouse import POOL
from pipeline.ingest.config import TransactionSpec
from pipeline.ingest.ranges import EVERY_DAY
from pipeline.ingest.runs import ingest_days, ingest_range, transaction_checks
from pipeline.ingest.sources.files import SourceError
from pipeline.ingest.sources.registry import source_kind
from pipeline.ingest.sources.resources import resource_key


def build_remote_transaction_asset(
    config: ProjectConfig, spec: TransactionSpec, partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    source = config.source(spec.source)
    key = resource_key(source.name)
    kind = source_kind(source.kind)
    fetch, fetch_range = kind.fetch, kind.fetch_range
    if spec.files == "range" and kind.fetch_range_files:  # a file source's range files
        fetch_range = kind.fetch_range_files
    if fetch is None and fetch_range is None:
        raise ValueError(f"source kind {source.kind!r} has no fetch: it cannot feed a remote asset")

    @dg.asset(
        name=spec.table,
        group_name="ingest",
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=POOL,
        retry_policy=TRANSIENT_RETRY,
        kinds={"duckdb", source.kind},
        required_resource_keys={"warehouse", key},
        description=f"Transactions `{spec.name}` from {source.kind} source `{source.name}`, "
        f"one partition per day of `{spec.time_field}`.",
        check_specs=transaction_checks(spec),
    )
    def _remote_tx(context) -> dg.MaterializeResult:
        days = days_in(context.partition_time_window)
        res = getattr(context.resources, key)
        with tempfile.TemporaryDirectory(prefix="nightjar-") as tmp:
            if fetch_range is not None:  # range files, or an API whose records go to their own days
                try:
                    files = fetch_range(context, res, source, spec, Path(tmp))
                except SourceError as e:
                    raise dg.Failure(description=str(e)) from None
                warehouse = context.resources.warehouse
                if fetch_range is kind.fetch_range_files:  # as local range files: the run's days
                    name = spec.file_name
                    missing = f"{source.kind} source {source.name!r} has no file {name}.* or {name}_*.*"
                    return ingest_range(context, warehouse, config, spec, source.name, files, days, missing)
                return ingest_range(
                    context, warehouse, config, spec, source.name, files, days, "", window=EVERY_DAY
                )
            assert fetch is not None  # a kind has one or the other
            inputs = fetch(context, res, source, spec, days, Path(tmp))
            return ingest_days(context, context.resources.warehouse, config, spec, source.name, inputs)

    return _remote_tx
