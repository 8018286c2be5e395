"""BigQuery source (google-cloud-bigquery): run the configured query for one day, with the
partition window as query parameters, and stage the result's Arrow batches as Parquet.
The client libraries are imported when a client is made, not with the config.

Parameters every query may use: ``@start`` and ``@end`` (TIMESTAMP, the day's [start, end) in
UTC) and ``@day`` (DATE). Values are never formatted into the SQL text.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Literal

import dagster as dg
from pydantic import Field

from pipeline.core.settings import ProjectBase
from pipeline.ingest.sources.files import LandedFile, SourceError
from pipeline.ingest.sources.registry import Dataset, Inputs, SourceKind, register
from pipeline.ingest.sources.remote import (
    QuerySpec,
    RemoteSource,
    TransientError,
    missing_query,
    stage_batches,
    with_retries,
)


class BigQuerySource(RemoteSource):
    kind: Literal["bigquery"]
    project: str
    location: str | None = None
    credentials_env: str | None = None
    endpoint: str | None = None
    queries: dict[str, QuerySpec] = Field(default_factory=dict)  # transaction name -> query


def transient() -> tuple[type[BaseException], ...]:
    """The client errors worth a retry (a dropped connection, a busy service)."""
    import requests
    from google.api_core import exceptions as gexc

    return (
        requests.ConnectionError,
        requests.Timeout,
        ConnectionError,
        gexc.ServiceUnavailable,
        gexc.InternalServerError,
        gexc.TooManyRequests,
        gexc.GatewayTimeout,
    )


def make_client(
    source: str, project: str, credentials_file: str | None, endpoint: str | None, location: str | None = None
):
    """A BigQuery client: an emulator at ``endpoint`` (anonymous), a service-account key file,
    or the machine's default credentials."""
    from google.auth.credentials import AnonymousCredentials
    from google.auth.exceptions import GoogleAuthError
    from google.cloud import bigquery

    options = {"api_endpoint": endpoint} if endpoint else None
    try:
        if credentials_file:
            return bigquery.Client.from_service_account_json(
                credentials_file, project=project, location=location, client_options=options
            )
        if endpoint:
            return bigquery.Client(
                project=project, location=location, credentials=AnonymousCredentials(), client_options=options
            )
        return bigquery.Client(project=project, location=location)
    except (GoogleAuthError, ValueError, OSError) as e:
        what = (
            "the service-account key file named by credentials_env"
            if credentials_file
            else "default credentials"
        )
        raise SourceError(f"bigquery source {source!r}: cannot use {what} ({type(e).__name__})") from None


def window_parameters(day: dt.date) -> list:
    """The query parameters of a partition day: @start, @end (TIMESTAMP, UTC) and @day (DATE)."""
    from google.cloud import bigquery

    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return [
        bigquery.ScalarQueryParameter("start", "TIMESTAMP", start),
        bigquery.ScalarQueryParameter("end", "TIMESTAMP", start + dt.timedelta(days=1)),
        bigquery.ScalarQueryParameter("day", "DATE", day),
    ]


def _error(source: str, e: Exception, what: str) -> SourceError:
    from google.api_core import exceptions as gexc

    where = f"bigquery source {source!r}"
    if isinstance(e, transient()):
        return TransientError(f"{where}: {what}: {type(e).__name__}")
    if isinstance(e, gexc.Unauthorized | gexc.Forbidden):
        return SourceError(
            f"{where}: {what}: access refused ({e.code}); check the credentials in credentials_env"
        )
    if isinstance(e, gexc.GoogleAPICallError):
        return SourceError(f"{where}: {what}: {e.message if hasattr(e, 'message') else e}")
    return SourceError(
        f"{where}: {what}: {type(e).__name__}: {str(e).splitlines()[0][:300] if str(e) else ''}"
    )


def query_batches(client, source: str, sql: str, params: list, path: Path, retries: int = 2) -> int:
    """Run ``sql`` with ``params`` and write its result, batch by batch, to the Parquet file ``path``."""
    from google.cloud import bigquery

    def attempt() -> int:
        try:
            job = client.query(sql, job_config=bigquery.QueryJobConfig(query_parameters=params))
            rows = job.result()
            batches = rows.to_arrow_iterable(bqstorage_client=None)
            return stage_batches(batches, path, lambda: rows.to_arrow(create_bqstorage_client=False).schema)
        except SourceError:
            raise
        except Exception as e:  # noqa: BLE001 - every client error becomes a message naming the source
            raise _error(source, e, "the query failed") from None

    return with_retries(f"bigquery source {source!r}", attempt, retries)


def run_query(client, source: str, sql: str, day: dt.date, path: Path) -> LandedFile:
    """The day's result as a staged Parquet file for the one ingestion path."""
    query_batches(client, source, sql, window_parameters(day), path)
    return LandedFile(path=path, day=day, size=path.stat().st_size, mtime=0.0)


def dry_run(client, source: str, sql: str, day: dt.date) -> int:
    """Check a query without running it (``nightjar validate``); returns the bytes it would scan."""
    from google.cloud import bigquery

    try:
        job = client.query(
            sql,
            job_config=bigquery.QueryJobConfig(
                dry_run=True, use_query_cache=False, query_parameters=window_parameters(day)
            ),
        )
    except Exception as e:  # noqa: BLE001
        raise _error(source, e, "the dry run of the query failed") from None
    return int(job.total_bytes_processed or 0)


# --- the source kind: its Dagster resource (shared with ga4), an asset run's days, checks ------


class BigQueryResource(dg.ConfigurableResource):
    """A BigQuery project (or an emulator at ``endpoint``)."""

    source: str
    project: str
    location: str | None = None
    credentials_file: str | None = None
    endpoint: str | None = None

    def client(self):
        return make_client(self.source, self.project, self.credentials_file, self.endpoint, self.location)


def resource(config: ProjectBase, s: BigQuerySource) -> BigQueryResource:
    return BigQueryResource(
        source=s.name,
        project=s.project,
        location=s.location,
        credentials_file=dg.EnvVar(s.credentials_env) if s.credentials_env else None,
        endpoint=s.endpoint,
    )


def fetch(
    context, res: BigQueryResource, source: BigQuerySource, spec: Dataset, days: list[dt.date], tmp: Path
) -> Inputs:
    """Run the dataset's query for each day, its result staged as Parquet in ``tmp``."""
    inputs: Inputs = {}
    query = source.queries[spec.name].sql
    for day in days:
        try:
            client = res.client()
            inputs[day] = run_query(client, res.source, query, day, tmp / f"{spec.name}_{day:%Y%m%d}.parquet")
        except SourceError as e:
            inputs[day] = str(e)
    return inputs


def check_transaction(source: BigQuerySource, dataset: str, fields: list[str]) -> str | None:
    if missing := missing_query(source, source.queries, dataset):
        return missing
    if source.queries[dataset].watermark:
        return "watermark is for mssql sources; a BigQuery query uses @start/@end"
    return None


def check_remote(s: BigQuerySource, config: ProjectBase, day: dt.date | None) -> tuple[list[str], list[str]]:
    """A dry run of every query when credentials are present (``nightjar validate``)."""
    errors: list[str] = []
    notes: list[str] = []
    if not s.queries:
        return errors, notes
    has_credentials = (
        s.endpoint
        or (s.credentials_env and os.environ.get(s.credentials_env))
        or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    )
    if not has_credentials:
        notes.append(f"source {s.name!r}: no credentials here, the queries were not dry-run")
        return errors, notes
    try:
        client = make_client(
            s.name,
            s.project,
            os.environ.get(s.credentials_env or "", None) or None,
            s.endpoint,
            s.location,
        )
        for name, q in s.queries.items():
            scanned = dry_run(client, s.name, q.sql, day or config.start_date)
            notes.append(f"source {s.name!r}: query of {name!r} is valid (dry run: {scanned} bytes)")
    except SourceError as e:
        errors.append(str(e))
    return errors, notes


KIND = register(
    SourceKind(
        name="bigquery",
        settings=BigQuerySource,
        resource=resource,
        fetch=fetch,
        check_transaction=check_transaction,
        check_remote=check_remote,
    )
)
