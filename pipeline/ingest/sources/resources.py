"""Typed Dagster resources of the remote sources. Secrets come in through dagster.EnvVar only:
``source_resources`` builds each resource from the config, whose ``*_env`` keys name the
environment variables; the values are read by Dagster at run time and never logged."""

from __future__ import annotations

import dagster as dg

from pipeline.ingest.config import BigQuerySource, Ga4Source, GcsSource, IngestConfig, MssqlSource, SftpSource
from pipeline.ingest.sources.sftp import SftpSettings


def resource_key(source_name: str) -> str:
    """The resource key of a source: ``source_<name>``."""
    return f"source_{source_name}"


class SftpResource(dg.ConfigurableResource):
    """An SFTP server: where it is, who logs in, and how its host key is checked."""

    source: str
    host: str
    port: int = 22
    username: str
    password: str | None = None
    private_key: str | None = None
    private_key_path: str | None = None
    known_hosts: str | None = None
    host_key_fingerprint: str | None = None
    check_host_key: bool = True
    folder: str = "."
    timeout_seconds: float = 15.0
    retries: int = 3

    def settings(self) -> SftpSettings:
        return SftpSettings(
            source=self.source,
            host=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            private_key=self.private_key,
            private_key_path=self.private_key_path,
            known_hosts=self.known_hosts,
            host_key_fingerprint=self.host_key_fingerprint,
            check_host_key=self.check_host_key,
            timeout=self.timeout_seconds,
            retries=self.retries,
        )


class GcsResource(dg.ConfigurableResource):
    """A Google Cloud Storage bucket (or an emulator at ``endpoint``)."""

    source: str
    bucket: str
    prefix: str = ""
    project: str | None = None
    credentials_file: str | None = None
    endpoint: str | None = None

    def client(self):
        from pipeline.ingest.sources.gcs import make_client

        return make_client(self.source, self.project, self.credentials_file, self.endpoint)


class BigQueryResource(dg.ConfigurableResource):
    """A BigQuery project (or an emulator at ``endpoint``)."""

    source: str
    project: str
    location: str | None = None
    credentials_file: str | None = None
    endpoint: str | None = None

    def client(self):
        from pipeline.ingest.sources.bigquery import make_client

        return make_client(self.source, self.project, self.credentials_file, self.endpoint, self.location)


class MssqlResource(dg.ConfigurableResource):
    """A SQL Server database reached through ODBC (pyodbc); the whole connection string is secret."""

    source: str
    connection_string: str
    batch_size: int = 10_000


def _env(name: str | None):
    return dg.EnvVar(name) if name else None


def source_resource(config: IngestConfig, s) -> dg.ConfigurableResource | None:
    """The resource of one source (None for local files)."""
    if isinstance(s, SftpSource):
        return SftpResource(
            source=s.name,
            host=s.host,
            port=s.port,
            username=s.username,
            password=_env(s.password_env),
            private_key=_env(s.private_key_env),
            private_key_path=str(config.resolve(s.private_key_path.expanduser()))
            if s.private_key_path
            else None,
            known_hosts=str(config.resolve(s.known_hosts.expanduser())) if s.known_hosts else None,
            host_key_fingerprint=s.host_key_fingerprint,
            check_host_key=s.check_host_key,
            folder=s.folder,
            timeout_seconds=s.timeout_seconds,
            retries=s.retries,
        )
    if isinstance(s, GcsSource):
        return GcsResource(
            source=s.name,
            bucket=s.bucket,
            prefix=s.prefix,
            project=s.project,
            credentials_file=_env(s.credentials_env),
            endpoint=s.endpoint,
        )
    if isinstance(s, BigQuerySource | Ga4Source):
        return BigQueryResource(
            source=s.name,
            project=s.project,
            location=getattr(s, "location", None),
            credentials_file=_env(s.credentials_env),
            endpoint=s.endpoint,
        )
    if isinstance(s, MssqlSource):
        return MssqlResource(
            source=s.name, connection_string=dg.EnvVar(s.connection_string_env), batch_size=s.batch_size
        )
    return None


def source_resources(config: IngestConfig) -> dict[str, dg.ConfigurableResource]:
    out = {}
    for s in config.sources:
        r = source_resource(config, s)
        if r is not None:
            out[resource_key(s.name)] = r
    return out
