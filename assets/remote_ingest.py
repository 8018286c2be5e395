"""Transaction assets read from remote sources (SFTP, GCS, BigQuery, GA4, SQL Server).

Each day is first fetched to a local temporary folder (network work, warehouse closed): a file
is streamed as it is, query results are written batch by batch to Parquet. Then the warehouse
is opened once and every day goes through the one ingestion path (assets.ingest.ingest_days).
A day that cannot be fetched becomes a FAILED load with a message naming the source.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import dagster as dg

from assets.ingest import POOL, ingest_days, transaction_checks
from pipeline.config import ProjectConfig
from pipeline.core.partitions import days_in
from pipeline.core.retries import TRANSIENT_RETRY
from pipeline.ingest.config import TransactionSpec
from pipeline.ingest.sources.local_files import SourceError
from pipeline.ingest.sources.resources import resource_key


def _fetch_sftp(context, res, source, spec: TransactionSpec, days: list[dt.date], tmp: Path) -> dict:
    from pipeline.ingest.sources.sftp import download, list_dated

    s = res.settings()
    try:
        files = {f.day: f for f in list_dated(s, res.folder, spec.file_name, source.date_format)}
    except SourceError as e:
        return {day: str(e) for day in days}
    inputs: dict = {}
    for day in days:
        f = files.get(day)
        if f is None:
            inputs[day] = (
                f"{s.where}: no file {spec.file_name}_{day.strftime(source.date_format)}.* in {res.folder!r}"
            )
            continue
        try:
            inputs[day] = f.landed(download(s, res.folder, f, tmp, log=context.log.warning))
        except SourceError as e:  # vanished, or still failing after the retries: this day only
            inputs[day] = str(e)
    return inputs


def _fetch_gcs(context, res, source, spec, days, tmp) -> dict:
    from pipeline.ingest.sources.gcs import download, list_dated

    try:
        client = res.client()
        files = {
            f.day: f
            for f in list_dated(
                client, res.source, res.bucket, res.prefix, spec.file_name, source.date_format
            )
        }
    except SourceError as e:
        return {day: str(e) for day in days}
    inputs: dict = {}
    for day in days:
        f = files.get(day)
        if f is None:
            inputs[day] = (
                f"gcs source {res.source!r}: no object {res.prefix}{spec.file_name}_"
                f"{day.strftime(source.date_format)}.* in bucket {res.bucket!r}"
            )
            continue
        try:
            inputs[day] = f.landed(download(client, res.source, res.bucket, res.prefix, f, tmp))
        except SourceError as e:
            inputs[day] = str(e)
    return inputs


def _fetch_bigquery(context, res, source, spec, days, tmp) -> dict:
    from pipeline.ingest.sources.bigquery import run_query

    inputs: dict = {}
    query = source.queries[spec.name].sql
    for day in days:
        try:
            client = res.client()
            inputs[day] = run_query(client, res.source, query, day, tmp / f"{spec.name}_{day:%Y%m%d}.parquet")
        except SourceError as e:
            inputs[day] = str(e)
    return inputs


def _fetch_ga4(context, res, source, spec, days, tmp) -> dict:
    from pipeline.ingest.sources.ga4 import fetch_day

    inputs: dict = {}
    for day in days:
        try:
            client = res.client()
            inputs[day] = fetch_day(
                client,
                res.source,
                source.project,
                source.dataset,
                day,
                tmp / f"{spec.name}_{day:%Y%m%d}.parquet",
            )
        except SourceError as e:
            inputs[day] = str(e)
    return inputs


def last_watermark(warehouse, spec: TransactionSpec, column: str, day: dt.date):
    """The highest ``column`` value loaded into the partitions before ``day`` (None if none)."""
    from pipeline.core.sql import ident
    from pipeline.core.warehouse import WarehouseError, table_exists

    if not Path(warehouse.path).exists():  # no warehouse yet: the first run
        return None
    try:
        with warehouse.connect(read_only=True) as con:
            if not table_exists(con, spec.table):
                return None
            return con.execute(
                f"SELECT max({ident(column)}) FROM {ident(spec.table)} WHERE _partition_date < $d", {"d": day}
            ).fetchall()[0][0]
    except WarehouseError as e:  # never guess a watermark: that would ask for the wrong rows
        raise SourceError(f"cannot read the last watermark of {spec.table}.{column}: {e}") from None


def _comparable(v):
    """Dates and timestamps compare as naive timestamps (a Date watermark is its midnight)."""
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None)
    if isinstance(v, dt.date):
        return dt.datetime.combine(v, dt.time())
    return v


def _fetch_mssql(context, res, source, spec, days, tmp) -> dict:
    from pipeline.ingest.sources.mssql import fetch_day

    q = source.queries[spec.name]
    inputs: dict = {}
    try:
        mark = (
            last_watermark(context.resources.warehouse, spec, q.watermark, days[0]) if q.watermark else None
        )
    except SourceError as e:
        return {day: str(e) for day in days}
    for day in days:
        try:
            f = fetch_day(
                res.source,
                res.connection_string,
                q.sql,
                q.watermark,
                mark,
                day,
                res.batch_size,
                tmp / f"{spec.name}_{day:%Y%m%d}.parquet",
            )
        except SourceError as e:
            inputs[day] = str(e)
            continue
        inputs[day] = f
        if q.watermark:  # the next day of this run starts after what this day fetched
            import pyarrow.compute as pc
            import pyarrow.parquet as pq

            top = _comparable(pc.max(pq.read_table(f.path, columns=[q.watermark]).column(0)).as_py())
            if top is not None and (mark is None or top > _comparable(mark)):
                mark = top
    return inputs


FETCHERS = {
    "sftp": _fetch_sftp,
    "gcs": _fetch_gcs,
    "bigquery": _fetch_bigquery,
    "ga4": _fetch_ga4,
    "mssql": _fetch_mssql,
}


def build_remote_transaction_asset(
    config: ProjectConfig, spec: TransactionSpec, partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    source = config.source(spec.source)
    key = resource_key(source.name)
    fetch = FETCHERS[source.kind]

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
            inputs = fetch(context, res, source, spec, days, Path(tmp))
            return ingest_days(context, context.resources.warehouse, config, spec, source.name, inputs)

    return _remote_tx
