"""What `nightjar validate` checks of the remote sources before anything runs: that the
environment variables holding their secrets are set (never printing a value), and a dry run of
every BigQuery query when credentials are present."""

from __future__ import annotations

import datetime as dt
import os

from pipeline.ingest.config import BigQuerySource, IngestConfig
from pipeline.ingest.sources.local_files import SourceError

SECRET_KEYS = ("password_env", "private_key_env", "credentials_env", "connection_string_env")


def check_remote_sources(config: IngestConfig, day: dt.date | None = None) -> tuple[list[str], list[str]]:
    """(errors, notes) about the remote sources."""
    errors, notes = [], []
    for s in config.sources:
        for key in SECRET_KEYS:
            var = getattr(s, key, None)
            if var and not os.environ.get(var):
                notes.append(f"source {s.name!r}: environment variable {var} ({key}) is not set")
        if isinstance(s, BigQuerySource) and s.queries:
            has_credentials = (
                s.endpoint
                or (s.credentials_env and os.environ.get(s.credentials_env))
                or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
            )
            if not has_credentials:
                notes.append(f"source {s.name!r}: no credentials here, the queries were not dry-run")
                continue
            from pipeline.ingest.sources import bigquery as bq

            try:
                client = bq.make_client(
                    s.name,
                    s.project,
                    os.environ.get(s.credentials_env or "", None) or None,
                    s.endpoint,
                    s.location,
                )
                for name, q in s.queries.items():
                    scanned = bq.dry_run(client, s.name, q.sql, day or config.start_date)
                    notes.append(f"source {s.name!r}: query of {name!r} is valid (dry run: {scanned} bytes)")
            except SourceError as e:
                errors.append(str(e))
    return errors, notes
