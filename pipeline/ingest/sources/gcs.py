"""Google Cloud Storage source (google-cloud-storage): list dated objects under a prefix and
stream one generation of an object to a local file. The client libraries are imported when a
client is made, not with the config.

An object's version is its generation: a re-uploaded object is a new generation and is loaded
again; a download asks for exactly the listed generation (``if_generation_match``), so an
object replaced or deleted in between is reported instead of mixing two versions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Literal

import dagster as dg

from pipeline.core.settings import ProjectBase
from pipeline.ingest.sources.files import LandedFile, RemoteFile, SourceError, day_in_name
from pipeline.ingest.sources.registry import Dataset, Inputs, SourceKind, dataset_file_name, register
from pipeline.ingest.sources.remote import (
    RemoteSource,
    TransientError,
    VanishedError,
    fetch_dated,
    fetch_range_files,
    one_per_day,
    range_day,
    with_retries,
)


class GcsSource(RemoteSource):
    kind: Literal["gcs"]
    bucket: str
    prefix: str = ""  # objects are <prefix><file_name>_<date>.<ext>
    project: str | None = None
    credentials_env: str | None = None  # env var holding a service-account key file path
    endpoint: str | None = None  # an emulator's URL (tests, `nightjar demo --via gcs`)


def transient() -> tuple[type[BaseException], ...]:
    """The client errors worth a retry (a dropped connection, a busy service)."""
    import requests
    from google.api_core import exceptions as gexc

    return (
        requests.ConnectionError,
        requests.Timeout,
        requests.exceptions.ChunkedEncodingError,
        ConnectionError,
        gexc.ServiceUnavailable,
        gexc.InternalServerError,
        gexc.TooManyRequests,
        gexc.GatewayTimeout,
    )


def _where(source: str, bucket: str) -> str:
    return f"gcs source {source!r} (bucket {bucket!r})"


def make_client(source: str, project: str | None, credentials_file: str | None, endpoint: str | None):
    """A storage client: an emulator at ``endpoint`` (anonymous), a service-account key file, or
    the default credentials of the machine."""
    from google.auth.credentials import AnonymousCredentials
    from google.auth.exceptions import DefaultCredentialsError, GoogleAuthError
    from google.cloud import storage

    try:
        if credentials_file:
            return storage.Client.from_service_account_json(
                credentials_file,
                project=project,
                client_options={"api_endpoint": endpoint} if endpoint else None,
            )
        if endpoint:
            return storage.Client(
                project=project or "nightjar",
                credentials=AnonymousCredentials(),
                client_options={"api_endpoint": endpoint},
            )
        return storage.Client(project=project)
    except (DefaultCredentialsError, GoogleAuthError, ValueError, OSError) as e:
        what = (
            "the service-account key file named by credentials_env"
            if credentials_file
            else "default credentials"
        )
        raise SourceError(
            f"gcs source {source!r}: cannot use {what}: {type(e).__name__}: "
            f"{str(e).splitlines()[0][:200] if credentials_file is None else 'not a valid key file'}"
        ) from None


def _error(where: str, e: Exception, what: str) -> SourceError:
    from google.api_core import exceptions as gexc

    if isinstance(e, transient()):
        return TransientError(f"{where}: {what}: {type(e).__name__}")
    if isinstance(e, gexc.Unauthorized | gexc.Forbidden):
        return SourceError(
            f"{where}: {what}: access refused ({e.code}); check the credentials in credentials_env"
        )
    if isinstance(e, gexc.NotFound):
        return SourceError(f"{where}: {what}: not found (does the bucket exist?)")
    return SourceError(f"{where}: {what}: {type(e).__name__}: {str(e).splitlines()[0][:200]}")


def list_dated(
    client, source: str, bucket: str, prefix: str, file_name: str, date_format: str, retries: int = 3
) -> list[RemoteFile]:
    """The objects ``<prefix><file_name>_<date>.<ext>`` (directly under the prefix), oldest day first."""
    dated = _listed(
        client, source, bucket, prefix, file_name + "_", lambda n, _: day_in_name(n, file_name, date_format)
    )
    return one_per_day(with_retries(_where(source, bucket), dated, retries), file_name)


def list_range(
    client, source: str, bucket: str, prefix: str, file_name: str, retries: int = 3
) -> list[RemoteFile]:
    """The range files of ``file_name`` directly under the prefix (their day: their last update's)."""
    ranged = _listed(client, source, bucket, prefix, file_name, lambda n, at: range_day(n, file_name, at))
    return with_retries(_where(source, bucket), ranged, retries)


def _listed(
    client, source: str, bucket: str, prefix: str, start: str, day: Callable[[str, float], dt.date | None]
) -> Callable[[], list[RemoteFile]]:
    """One listing of the objects ``<prefix><start>*`` directly under the prefix that ``day`` (name,
    update time) gives a day."""
    where = _where(source, bucket)

    def attempt() -> list[RemoteFile]:
        try:
            blobs = list(client.list_blobs(bucket, prefix=prefix + start))
        except Exception as e:  # noqa: BLE001 - every client error becomes a message naming the source
            raise _error(where, e, f"listing {prefix}{start}*") from None
        out = []
        for b in blobs:
            name, at = b.name[len(prefix) :], b.updated.timestamp()
            found = day(name, at) if "/" not in name else None
            if found is not None:
                out.append(RemoteFile(name, found, int(b.size or 0), at, str(b.generation)))
        return out

    return attempt


def download(
    client, source: str, bucket: str, prefix: str, f: RemoteFile, dest: Path, retries: int = 3, log=None
) -> Path:
    """Stream the listed generation of an object to ``dest/<name>``; retried on a broken connection."""
    from google.api_core import exceptions as gexc

    where = _where(source, bucket)
    target = dest / f.name

    def attempt() -> Path:
        blob = client.bucket(bucket).blob(prefix + f.name, generation=int(f.version))
        try:
            with open(target, "wb") as fh:
                blob.download_to_file(fh, if_generation_match=int(f.version), retry=None, checksum="md5")
        except (gexc.NotFound, gexc.PreconditionFailed):
            raise VanishedError(
                f"{where}: {f.name} generation {f.version} was listed but is gone (deleted or replaced)"
            ) from None
        except Exception as e:  # noqa: BLE001
            err = _error(where, e, f"download of {f.name}")
            if not isinstance(err, TransientError) and "checksum" in str(e).lower():
                err = TransientError(f"{where}: download of {f.name}: checksum mismatch")
            raise err from None
        if target.stat().st_size != f.size:
            raise TransientError(f"{where}: {f.name}: got {target.stat().st_size} of {f.size} bytes")
        return target

    return with_retries(f"{where}: download {f.name}", attempt, retries, log=log)


# --- the source kind: its Dagster resource, an asset run's days, a sensor's listing ----------


class GcsResource(dg.ConfigurableResource):
    """A Google Cloud Storage bucket (or an emulator at ``endpoint``)."""

    source: str
    bucket: str
    prefix: str = ""
    project: str | None = None
    credentials_file: str | None = None
    endpoint: str | None = None

    def client(self):
        return make_client(self.source, self.project, self.credentials_file, self.endpoint)


def resource(config: ProjectBase, s: GcsSource) -> GcsResource:
    return GcsResource(
        source=s.name,
        bucket=s.bucket,
        prefix=s.prefix,
        project=s.project,
        credentials_file=dg.EnvVar(s.credentials_env) if s.credentials_env else None,
        endpoint=s.endpoint,
    )


def list_files(res: GcsResource, file_name: str, date_format: str) -> list[RemoteFile]:
    return list_dated(res.client(), res.source, res.bucket, res.prefix, file_name, date_format)


def fetch(
    context, res: GcsResource, source: GcsSource, spec: Dataset, days: list[dt.date], tmp: Path
) -> Inputs:
    """Download the object of each day to ``tmp``; a day without one gets the reason."""
    file_name = dataset_file_name(source, spec)
    client = cache(res.client)  # made once, inside the listing's error handling
    return fetch_dated(
        days,
        lambda: list_dated(client(), res.source, res.bucket, res.prefix, file_name, source.date_format),
        lambda f: download(client(), res.source, res.bucket, res.prefix, f, tmp),
        lambda day: (
            f"gcs source {res.source!r}: no object {res.prefix}{file_name}_"
            f"{day.strftime(source.date_format)}.* in bucket {res.bucket!r}"
        ),
    )


def fetch_range(context, res: GcsResource, source: GcsSource, spec: Dataset, tmp: Path) -> list[LandedFile]:
    """Download the listed generation of each of the dataset's range files to ``tmp``, oldest first."""
    file_name = dataset_file_name(source, spec)
    client = cache(res.client)
    return fetch_range_files(
        lambda: list_range(client(), res.source, res.bucket, res.prefix, file_name),
        lambda f: download(client(), res.source, res.bucket, res.prefix, f, tmp),
    )


KIND = register(
    SourceKind(
        name="gcs",
        settings=GcsSource,
        file_based=True,
        resource=resource,
        fetch=fetch,
        list_dated=list_files,
        fetch_range_files=fetch_range,
    )
)
