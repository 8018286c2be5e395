"""Where an export goes: a local file, a file on a configured SFTP or GCS source, or a BigQuery table.

A destination names a source of the project config, so it reuses that source's host, folder or
bucket, credentials (through dagster.EnvVar, never printed) and host-key checking:

    results_{date}.csv                        a local file
    sftp://partner/results_{date}.csv         <folder of source partner>/results_20260108.csv
    gcs://lake/out/results_{date}.csv         gs://<bucket of lake>/<prefix of lake>out/results_20260108.csv
    bigquery://bq/marketing.results           the day's rows of table marketing.results of bq's project

``{date}`` becomes the export's date in the source's ``date_format`` (``%Y%m%d`` for a local file).
The remote file appears whole or not at all: SFTP uploads to a hidden temporary name in the same
folder and renames it into place (OpenSSH's posix-rename: an existing file is replaced atomically);
GCS uploads the object in one request, which creates it only once complete, with a generation
precondition: it replaces the generation it saw (looking again if another writer replaced it
meanwhile), never one it did not see. With ``overwrite=False`` an existing file is kept and the
export fails (SFTP: a plain rename, which does not replace; GCS: ``if_generation_match=0``; local:
a hard link). A BigQuery table's day is replaced by
pipeline/activation/bigquery.py. No Dagster run here: the CLI calls it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from pipeline.activation.bigquery import BigQueryError, parse_table, replace_day
from pipeline.activation.config import ActivationConfig
from pipeline.activation.staging import STALE_STAGED_SECONDS, is_staged, staged_name
from pipeline.ingest.sources.bigquery import BigQueryResource, BigQuerySource
from pipeline.ingest.sources.files import SourceError
from pipeline.ingest.sources.gcs import GcsResource, GcsSource
from pipeline.ingest.sources.remote import TransientError, with_retries
from pipeline.ingest.sources.resources import source_resource
from pipeline.ingest.sources.sftp import SftpResource, SftpSource

SCHEMES = ("sftp", "gcs", "bigquery")
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/]*)(/.*)?$")
CONTENT_TYPES = {
    ".csv": "text/csv",
    ".parquet": "application/vnd.apache.parquet",
    ".jsonl": "application/x-ndjson",
}
_ENV_KEYS = ("password_env", "private_key_env", "credentials_env")


class DestinationError(RuntimeError):
    """A destination that cannot be used or written; nothing was left at the destination."""


@dataclass(frozen=True)
class Destination:
    kind: str  # "file", "sftp", "gcs" or "bigquery"
    path: str  # the local path, the remote path below the source's folder / prefix, or <dataset>.<table>
    source: str | None = None

    @property
    def remote(self) -> bool:
        return self.kind != "file"

    @property
    def file_name(self) -> str:
        return "rows.parquet" if self.kind == "bigquery" else self.path.rsplit("/", 1)[-1]


def parse_destination(to: str, config: ActivationConfig, day: dt.date) -> Destination:
    """The destination ``to`` names, with ``{date}`` filled in; a clear error for anything wrong."""
    m = _URL.match(to)
    if not m:
        return Destination("file", to.replace("{date}", day.strftime("%Y%m%d")))
    scheme, name, path = m.group(1).lower(), m.group(2), (m.group(3) or "").lstrip("/")
    if scheme == "gs":
        raise DestinationError(f"{to}: name a configured gcs source, not a bucket: gcs://<source>/<path>")
    if scheme not in SCHEMES:
        raise DestinationError(
            f"{to}: unknown destination {scheme}://; use a file path, sftp://<source>/<path>, "
            "gcs://<source>/<path> or bigquery://<source>/<dataset>.<table>"
        )
    sources = {s.name: s for s in config.sources}
    if name not in sources:
        remote = [s.name for s in config.sources if s.kind == scheme]
        raise DestinationError(
            f"{to}: there is no source {name!r} in the config (its {scheme} sources: "
            f"{', '.join(remote) or 'none'}); declare it under sources: as for ingestion"
        )
    src = sources[name]
    if src.kind != scheme:
        raise DestinationError(f"{to}: source {name!r} is a {src.kind} source, not {scheme}")
    if scheme == "bigquery":
        try:
            parse_table(path)
        except BigQueryError as e:
            raise DestinationError(f"{to}: {e}") from None
        return Destination(scheme, path, name)
    if not path or path.endswith("/"):
        raise DestinationError(
            f"{to}: give a file name after the source, e.g. {scheme}://{name}/results_{{date}}.csv"
        )
    if any(part in ("", ".", "..") for part in path.split("/")):
        raise DestinationError(f"{to}: the path below the source may not hold empty, '.' or '..' parts")
    return Destination(scheme, path.replace("{date}", day.strftime(src.date_format)), name)


def describe(dest: Destination, config: ActivationConfig) -> str:
    """Where the file lands, for messages (never a secret)."""
    if dest.kind == "file":
        return str(dest.path)
    src = _remote_source(config, dest)
    if isinstance(src, BigQuerySource):
        return f"bigquery://{src.project}.{dest.path}"
    if isinstance(src, SftpSource):
        return f"sftp://{src.username}@{src.host}:{src.port}/{_join(src.folder, dest.path)}"
    return f"gs://{src.bucket}/{src.prefix}{dest.path}"


def _remote_source(config: ActivationConfig, dest: Destination) -> SftpSource | GcsSource | BigQuerySource:
    """The source a remote destination names (:func:`parse_destination` checked it)."""
    src = next((s for s in config.sources if s.name == dest.source), None)
    if not isinstance(src, SftpSource | GcsSource | BigQuerySource):
        raise DestinationError(f"{dest.kind}://{dest.source}: there is no such sftp, gcs or bigquery source")
    return src


def _join(folder: str, path: str) -> str:
    return path if folder in ("", ".") else f"{folder.rstrip('/')}/{path}"


@contextmanager
def _resource(
    config: ActivationConfig, src: SftpSource | GcsSource | BigQuerySource
) -> Iterator[SftpResource | GcsResource | BigQueryResource]:
    """The source's Dagster resource with its EnvVar secrets read from the environment."""
    i = config.sources.index(src)
    for key in _ENV_KEYS:
        var = getattr(src, key, None)
        if var and var not in os.environ:
            raise DestinationError(
                f"{src.kind} source {src.name!r}: the environment variable {var} "
                f"(sources[{i}].{key}) is not set"
            )
    try:
        # an SFTP, GCS or BigQuery source has its resource (only local files have none)
        resource = cast(SftpResource | GcsResource | BigQueryResource, source_resource(config, src))
        cm = resource.process_config_and_initialize_cm()
        res = cm.__enter__()
    except Exception as e:  # noqa: BLE001 - Dagster's message may quote config values: say which source only
        raise DestinationError(
            f"{src.kind} source {src.name!r}: its settings cannot be used ({type(e).__name__})"
        ) from None
    try:
        yield res
    finally:
        cm.__exit__(None, None, None)


def deliver(
    config: ActivationConfig,
    dest: Destination,
    local: Path,
    overwrite: bool = True,
    log=None,
    day: dt.date | None = None,
) -> str:
    """Put the finished local file at the remote destination; returns where it is. A BigQuery table
    takes the rows of the Parquet file ``local`` as its ``day`` rows (pipeline/activation/bigquery.py)."""
    with _resource(config, _remote_source(config, dest)) as res:
        try:
            if isinstance(res, BigQueryResource):
                if not overwrite:
                    raise DestinationError(
                        f"bigquery://{dest.source}/{dest.path}: --no-clobber is for files; "
                        "a table's day is always replaced"
                    )
                if day is None:
                    raise DestinationError("a BigQuery export needs the day it replaces")
                replace_day(res.client(), res.source, res.project, dest.path, local, day, log=log)
            elif isinstance(res, SftpResource):
                upload_sftp(res.settings(), res.folder, local, dest.path, overwrite, log=log)
            else:
                upload_gcs(
                    res.client(), res.source, res.bucket, res.prefix, local, dest.path, overwrite, log=log
                )
        except SourceError as e:
            raise DestinationError(str(e)) from None
        except BigQueryError as e:
            raise DestinationError(f"bigquery://{dest.source}/{dest.path}: {e}") from None
    return describe(dest, config)


# --- SFTP ---------------------------------------------------------------------------------------


def upload_sftp(s, folder: str, local: Path, path: str, overwrite: bool = True, log=None) -> str:
    """Upload ``local`` to ``<folder>/<path>`` through a hidden temporary name and a rename.

    ``s`` is the source's SftpSettings (pipeline.ingest.sources.sftp.connect: host-key check, auth).
    Returns the remote path. A broken connection is retried with a new temporary name; one left
    behind by a connection that dropped mid-upload (or an export killed) is a hidden
    ``.<name>.partial-<hex>`` file, removed by a later upload of ``name`` once it is
    :data:`STALE_STAGED_SECONDS` old by its time on the server (an upload at work keeps writing to its own).
    """
    import paramiko

    from pipeline.ingest.sources.sftp import connect

    target = _join(folder, path)
    head, _, name = target.rpartition("/")
    where = head or "."

    def attempt() -> str:
        tmp = f"{head + '/' if head else ''}{staged_name(name)}"
        with connect(s) as sftp:
            for left in _remove_stale(sftp, where, name):
                if log:
                    log(f"{s.where}: removed {left}, left by an upload of {name} that broke off")
            try:
                sftp.put(str(local), tmp, confirm=True)  # confirm: the remote size is checked
            except FileNotFoundError:
                raise SourceError(f"{s.where}: the remote folder {where!r} does not exist") from None
            except PermissionError:
                raise SourceError(
                    f"{s.where}: no permission to write in the remote folder {where!r}"
                ) from None
            except (OSError, EOFError, paramiko.SSHException) as e:
                _remove(sftp, tmp)
                raise TransientError(
                    f"{s.where}: upload of {name} broke off: {e or type(e).__name__}"
                ) from None
            try:
                _rename(sftp, tmp, target, overwrite)
            except FileExistsError:
                _remove(sftp, tmp)
                raise SourceError(
                    f"{s.where}: {target} exists already and was left as it was "
                    "(without --no-clobber it is replaced)"
                ) from None
            except PermissionError:
                _remove(sftp, tmp)
                raise SourceError(f"{s.where}: no permission to create {target}") from None
            except (OSError, EOFError, paramiko.SSHException) as e:
                _remove(sftp, tmp)
                raise TransientError(
                    f"{s.where}: renaming the upload to {target} failed: {e or type(e).__name__}"
                ) from None
        return target

    return with_retries(f"{s.where}: upload {name}", attempt, s.retries, log=log)


def _remove_stale(sftp, folder: str, name: str) -> list[str]:
    """Remove the staged files of ``name`` in the remote ``folder`` that are :data:`STALE_STAGED_SECONDS`
    old (left by an upload that broke off); returns their names. Nothing else is touched, and a folder
    that cannot be listed or a file that cannot be removed is left as it is."""
    import paramiko

    limit = time.time() - STALE_STAGED_SECONDS
    try:
        found = sftp.listdir_attr(folder)
    except (OSError, EOFError, paramiko.SSHException):
        return []
    removed = []
    for f in sorted(found, key=lambda f: f.filename):
        if is_staged(f.filename, name) and stat.S_ISREG(f.st_mode or 0) and (f.st_mtime or limit) < limit:
            path = f.filename if folder == "." else f"{folder.rstrip('/')}/{f.filename}"
            try:
                sftp.remove(path)
                removed.append(f.filename)
            except (OSError, EOFError, paramiko.SSHException):
                pass
    return removed


def _exists(sftp, path: str) -> bool:
    try:
        sftp.stat(path)
        return True
    except OSError:
        return False


def _rename(sftp, tmp: str, target: str, overwrite: bool) -> None:
    if not overwrite:
        try:
            sftp.rename(tmp, target)  # SFTP rename never replaces an existing file
        except OSError:
            if _exists(sftp, target):
                raise FileExistsError(target) from None
            raise
        return
    try:
        sftp.posix_rename(tmp, target)  # OpenSSH extension: atomically replaces the target
    except OSError as e:
        if e.errno is not None or "unsupported" not in str(e).lower():
            raise
        # a server without posix-rename: the old file is removed first (never a partial new one)
        if _exists(sftp, target):
            sftp.remove(target)
        sftp.rename(tmp, target)


def _remove(sftp, path: str) -> None:
    try:
        sftp.remove(path)
    except (OSError, EOFError):
        pass


# --- GCS ----------------------------------------------------------------------------------------


def upload_gcs(
    client,
    source: str,
    bucket: str,
    prefix: str,
    local: Path,
    path: str,
    overwrite: bool = True,
    retries: int = 3,
    log=None,
) -> str:
    """Upload ``local`` as the object ``<prefix><path>`` in one request (atomic: the object exists
    only once complete, with the file's checksum verified by the server); returns its gs:// URL."""
    from google.api_core import exceptions as gexc

    from pipeline.ingest.sources.gcs import _error, _where

    where = _where(source, bucket)
    name = prefix + path

    def attempt() -> str:
        try:
            found = client.bucket(bucket).get_blob(name, retry=None) if overwrite else None
            put_gcs_object(client.bucket(bucket).blob(name), local, found.generation if found else 0)
        except gexc.PreconditionFailed:
            if overwrite:  # another writer replaced it between our look and our upload: look again
                raise TransientError(f"{where}: {name} was replaced by another writer meanwhile") from None
            raise SourceError(
                f"{where}: the object {name} exists already and was left as it was "
                "(without --no-clobber it is replaced by a new generation)"
            ) from None
        except Exception as e:  # noqa: BLE001 - every client error becomes a message naming the source
            raise _error(where, e, f"upload of {name}") from None
        return f"gs://{bucket}/{name}"

    return with_retries(f"{where}: upload {name}", attempt, retries, log=log)


def put_gcs_object(blob, local: Path, generation: int) -> None:
    """Upload ``local`` in one request only if the object is still at ``generation`` (0: absent);
    GCS answers 412 Precondition Failed otherwise, so a concurrent writer is never overwritten blind."""
    blob.upload_from_filename(
        str(local),
        content_type=CONTENT_TYPES.get(local.suffix, "application/octet-stream"),
        retry=None,
        if_generation_match=generation,
    )
