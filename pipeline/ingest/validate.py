"""What `nightjar validate` checks of the remote sources before anything runs: that the
environment variables holding their secrets are set (never printing a value), and what each
kind checks against the source itself (a dry run of every BigQuery query when credentials are
present)."""

from __future__ import annotations

import datetime as dt
import os

from pipeline.ingest.config import IngestConfig
from pipeline.ingest.sources.registry import source_kind

SECRET_KEYS = ("password_env", "private_key_env", "credentials_env", "connection_string_env")


def check_remote_sources(config: IngestConfig, day: dt.date | None = None) -> tuple[list[str], list[str]]:
    """(errors, notes) about the remote sources."""
    errors: list[str] = []
    notes: list[str] = []
    for s in config.sources:
        for key in SECRET_KEYS:
            var = getattr(s, key, None)
            if var and not os.environ.get(var):
                notes.append(f"source {s.name!r}: environment variable {var} ({key}) is not set")
        check = source_kind(s.kind).check_remote
        if check is not None:
            more_errors, more_notes = check(s, config, day)
            errors += more_errors
            notes += more_notes
    return errors, notes
