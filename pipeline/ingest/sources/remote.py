"""What the remote sources share: their settings' base (secrets are named, never given), the
query of a query source, dated names, remote file versions, retries, and staging Arrow batches
into a Parquet file for the one ingestion path."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.core.settings import Settings
from pipeline.ingest.sources.files import (
    LandedFile,
    NoFile,
    RemoteFile,
    SourceError,
    is_range_file,
)
from pipeline.ingest.sources.registry import Inputs, SourceSettings

T = TypeVar("T")


# Secrets are never in the YAML: a source names the environment variable that holds them
# (`*_env` keys), and Dagster reads it through dagster.EnvVar at run time.
class RemoteSource(SourceSettings):
    date_format: str = "%Y%m%d"


class QuerySpec(Settings):
    """The query of one transaction. `@start`/`@end` (BigQuery) or `?` markers (SQL Server:
    start, end) receive the partition window; with `watermark` the query gets the last value of
    that column seen instead (incremental by watermark)."""

    sql: str
    watermark: str | None = None


def missing_query(source: SourceSettings, queries: dict[str, QuerySpec], dataset: str) -> str | None:
    """What a query source lacks to read ``dataset``: a query of that name."""
    if dataset not in queries:
        return f"source {source.name!r} has no query for {dataset!r} (add sources[].queries.{dataset})"
    return None


class TransientError(SourceError):
    """A failure worth retrying (connection reset, timeout)."""


class VanishedError(SourceError):
    """The file was listed but was gone when it was downloaded."""


def range_day(name: str, file_name: str, mtime: float) -> dt.date | None:
    """A range file's day, that of its modification (UTC, as for local files); None when ``name`` is
    not a range file of ``file_name`` (``<file_name>.<ext>`` or ``<file_name>_<anything>.<ext>``)."""
    return dt.datetime.fromtimestamp(mtime, dt.UTC).date() if is_range_file(name, file_name) else None


def fetch_range_files(
    listed: Callable[[], list[RemoteFile]], download: Callable[[RemoteFile], Path]
) -> list[LandedFile]:
    """The downloaded range files of a file source, oldest first (by modification time, then name), so
    a later file's days replace an earlier one's. A file that cannot be listed or downloaded raises
    SourceError: the run fails rather than load some files of a range and not others."""
    return [f.landed(download(f)) for f in sorted(listed(), key=lambda f: (f.mtime, f.name))]


def one_per_day(files: list[RemoteFile], file_name: str) -> list[RemoteFile]:
    """Oldest first; two files for one day are an error, as for local files."""
    days = [f.day for f in files]
    twice = sorted({d for d in days if days.count(d) > 1})
    if twice:
        raise SourceError(
            f"two or more {file_name} files for the day(s) {', '.join(map(str, twice))}; keep one per day"
        )
    return sorted(files, key=lambda f: f.day)


def with_retries(
    what: str,
    attempt: Callable[[], T],
    retries: int,
    backoff: float = 0.5,
    log: Callable[[str], None] | None = None,
) -> T:
    """Run ``attempt``; retry a TransientError up to ``retries`` times, waiting 0.5 s, 1 s, 2 s ..."""
    for i in range(retries + 1):
        try:
            return attempt()
        except TransientError as e:
            if i == retries:
                raise SourceError(f"{e} (tried {retries + 1} times)") from None
            if log:
                log(f"{what}: {e}; retrying in {backoff * 2**i:.1f} s")
            time.sleep(backoff * 2**i)
    raise AssertionError("unreachable")


def stage_batches(batches: Iterable[pa.RecordBatch], path: Path, empty: Callable[[], pa.Schema]) -> int:
    """Write Arrow batches to a Parquet file one batch at a time (never all in memory); returns
    the rows written. ``empty`` gives the schema when there is no batch at all."""
    rows, writer = 0, None
    try:
        for b in batches:
            if writer is None:
                writer = pq.ParquetWriter(path, b.schema)
            if b.num_rows:
                writer.write_batch(b)
                rows += b.num_rows
        if writer is None:
            writer = pq.ParquetWriter(path, empty())
    finally:
        if writer is not None:
            writer.close()
    return rows


def fetch_dated(
    days: Iterable[dt.date],
    listed: Callable[[], list[RemoteFile]],
    download: Callable[[RemoteFile], Path],
    missing: Callable[[dt.date], str],
) -> Inputs:
    """Per day the downloaded dated file of a file source, or why there is none: the listing's error
    for every day, ``missing(day)`` for a day without a file, a download's error for that day only."""
    days = list(days)
    try:
        files = {f.day: f for f in listed()}
    except SourceError as e:
        return {day: str(e) for day in days}
    inputs: Inputs = {}
    for day in days:
        f = files.get(day)
        if f is None:
            inputs[day] = NoFile(missing(day))
            continue
        try:
            inputs[day] = f.landed(download(f))
        except SourceError as e:  # vanished, or still failing after the retries: this day only
            inputs[day] = str(e)
    return inputs
