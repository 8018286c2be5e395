"""SFTP source (paramiko): list dated files in a remote folder and stream them to a local copy.

Host keys are checked by default (a known_hosts file or a pinned SHA256 fingerprint). Secrets
(password, key) are held in ``SftpSettings`` and never put in a message. paramiko is imported
when a connection is made, not with the config.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import socket
import stat
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

import dagster as dg
from pydantic import Field, model_validator

from pipeline.core.settings import ProjectBase, at
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

if TYPE_CHECKING:
    import paramiko

CHUNK = 1 << 20  # bytes per read: a file is streamed, never held whole in memory


class SftpSource(RemoteSource):
    kind: Literal["sftp"]
    host: str
    port: int = Field(default=22, ge=1, le=65535)
    username: str
    password_env: str | None = None  # env var holding the password
    private_key_env: str | None = None  # env var holding a private key (PEM/OpenSSH text)
    private_key_path: Path | None = None  # or a private key file
    known_hosts: Path | None = None  # host-key checking against a known_hosts file ...
    host_key_fingerprint: str | None = None  # ... or a pinned "SHA256:..." fingerprint
    check_host_key: bool = True  # false only for throw-away test servers
    folder: str = "."  # remote folder
    timeout_seconds: float = Field(default=15, gt=0)
    retries: int = Field(default=3, ge=0)

    @model_validator(mode="after")
    def _auth(self) -> SftpSource:
        if not (self.password_env or self.private_key_env or self.private_key_path):
            raise at("password_env", "give password_env, private_key_env or private_key_path")
        if self.check_host_key and not (self.known_hosts or self.host_key_fingerprint):
            raise at(
                "known_hosts",
                "host-key checking is on: give known_hosts or host_key_fingerprint "
                "(or check_host_key: false for a throw-away test server)",
            )
        return self


@dataclass(frozen=True)
class SftpSettings:
    source: str  # the source's name, for messages
    host: str
    port: int
    username: str
    password: str | None = field(default=None, repr=False)
    private_key: str | None = field(default=None, repr=False)
    private_key_path: str | None = None
    known_hosts: str | None = None
    host_key_fingerprint: str | None = None
    check_host_key: bool = True
    timeout: float = 15.0
    retries: int = 3

    @property
    def where(self) -> str:
        return f"sftp source {self.source!r} ({self.username}@{self.host}:{self.port})"


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's SHA256 fingerprint of a host key: 'SHA256:' + unpadded base64."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


def _load_key(s: SftpSettings) -> paramiko.PKey | None:
    import paramiko

    if not (s.private_key or s.private_key_path):
        return None
    try:
        if s.private_key:
            return _from_text(s.private_key)
        return paramiko.PKey.from_path(cast(str, s.private_key_path))  # set: checked above
    except (paramiko.SSHException, OSError, ValueError) as e:
        which = (
            "the private key from its environment variable"
            if s.private_key
            else f"the key file {s.private_key_path}"
        )
        raise SourceError(f"{s.where}: cannot read {which}: {type(e).__name__}") from None


def _from_text(text: str) -> paramiko.PKey:
    import paramiko

    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key(io.StringIO(text))
        except paramiko.SSHException:
            continue
    raise paramiko.SSHException("not a private key paramiko can read")


def check_host_key(s: SftpSettings, key: paramiko.PKey) -> None:
    """Raise unless the server's key is the pinned one or is in known_hosts for this host."""
    import paramiko

    if not s.check_host_key:
        return
    got = fingerprint(key)
    if s.host_key_fingerprint:
        if got != s.host_key_fingerprint.strip():
            raise SourceError(
                f"{s.where}: the server's host key {got} is not the pinned {s.host_key_fingerprint}"
            )
        return
    if not s.known_hosts:
        raise SourceError(
            f"{s.where}: host-key checking is on but neither known_hosts nor host_key_fingerprint is set"
        )
    try:
        hosts = paramiko.HostKeys(s.known_hosts)
    except OSError as e:
        raise SourceError(f"{s.where}: cannot read known_hosts {s.known_hosts}: {e.strerror}") from None
    name = s.host if s.port == 22 else f"[{s.host}]:{s.port}"
    known: Mapping[str, paramiko.PKey] = hosts.lookup(name) or {}
    if known.get(key.get_name()) != key:
        raise SourceError(f"{s.where}: the server's host key {got} is not in {s.known_hosts} for {name}")


@contextmanager
def connect(s: SftpSettings) -> Iterator[paramiko.SFTPClient]:
    """One SFTP session; connection problems are TransientError, the rest SourceError."""
    import paramiko

    pkey = _load_key(s)
    try:
        sock = socket.create_connection((s.host, s.port), timeout=s.timeout)
    except OSError as e:
        raise TransientError(f"{s.where}: cannot connect: {e.strerror or e}") from None
    transport = paramiko.Transport(sock)
    try:
        try:
            transport.start_client(timeout=s.timeout)
        except (paramiko.SSHException, OSError, EOFError) as e:
            raise TransientError(f"{s.where}: SSH handshake failed: {e}") from None
        check_host_key(s, transport.get_remote_server_key())
        try:
            if pkey is not None:
                transport.auth_publickey(s.username, pkey)
            else:
                transport.auth_password(s.username, s.password or "")
        except paramiko.AuthenticationException:
            how = "key" if pkey is not None else "password"
            raise SourceError(
                f"{s.where}: authentication failed ({how} refused); "
                f"check the {how} in the source's environment variable"
            ) from None
        except (paramiko.SSHException, OSError, EOFError) as e:
            raise TransientError(f"{s.where}: connection lost during authentication: {e}") from None
        try:
            sftp = paramiko.SFTPClient.from_transport(transport)
        except (paramiko.SSHException, OSError, EOFError) as e:
            raise TransientError(f"{s.where}: cannot open the SFTP subsystem: {e}") from None
        if sftp is None:
            raise TransientError(f"{s.where}: cannot open the SFTP subsystem")
        channel = sftp.get_channel()
        if channel is not None:
            channel.settimeout(s.timeout)
        yield sftp
    finally:
        transport.close()


def _path(folder: str, name: str) -> str:
    return name if folder in ("", ".") else f"{folder.rstrip('/')}/{name}"


def list_dated(s: SftpSettings, folder: str, file_name: str, date_format: str) -> list[RemoteFile]:
    """The regular files ``<file_name>_<date>.<ext>`` in the remote folder, oldest day first."""
    return one_per_day(
        _listed(s, folder, lambda name, _: day_in_name(name, file_name, date_format)), file_name
    )


def list_range(s: SftpSettings, folder: str, file_name: str) -> list[RemoteFile]:
    """The regular range files of ``file_name`` in the remote folder (their day: their mtime's)."""
    return _listed(s, folder, lambda name, mtime: range_day(name, file_name, mtime))


def _listed(s: SftpSettings, folder: str, day: Callable[[str, float], dt.date | None]) -> list[RemoteFile]:
    """The regular files of the remote folder that ``day`` (name, mtime) gives a day."""
    import paramiko

    def attempt() -> list[RemoteFile]:
        with connect(s) as sftp:
            try:
                entries = sftp.listdir_attr(folder)
            except FileNotFoundError:
                raise SourceError(f"{s.where}: the remote folder {folder!r} does not exist") from None
            except PermissionError:
                raise SourceError(f"{s.where}: no permission to list the remote folder {folder!r}") from None
            except (OSError, EOFError, paramiko.SSHException) as e:
                raise TransientError(f"{s.where}: listing {folder!r} failed: {e}") from None
        out = []
        for a in entries:
            found = day(a.filename, float(a.st_mtime or 0))
            if found is None or not stat.S_ISREG(a.st_mode or 0):
                continue
            out.append(
                RemoteFile(
                    a.filename,
                    found,
                    int(a.st_size or 0),
                    float(a.st_mtime or 0),
                    f"{a.st_size}:{a.st_mtime}",
                )
            )
        return out

    return with_retries(f"{s.where}: list {folder!r}", attempt, s.retries)


def download(
    s: SftpSettings, folder: str, f: RemoteFile, dest: Path, log: Callable[[str], None] | None = None
) -> Path:
    """Stream one remote file to ``dest/<name>`` in chunks; retried on a dropped connection.

    A file that is gone (deleted or renamed since it was listed) raises VanishedError.
    """
    import paramiko

    target = dest / f.name

    def attempt() -> Path:
        with connect(s) as sftp:
            try:
                with sftp.open(_path(folder, f.name), "rb") as remote, open(target, "wb") as local:
                    remote.prefetch(f.size, max_concurrent_requests=64)  # at most ~2 MiB in flight
                    while chunk := remote.read(CHUNK):
                        local.write(chunk)
            except FileNotFoundError:
                raise VanishedError(
                    f"{s.where}: {f.name} was listed but is gone (deleted or renamed)"
                ) from None
            except (OSError, EOFError, paramiko.SSHException) as e:
                raise TransientError(
                    f"{s.where}: download of {f.name} broke off: {e or type(e).__name__}"
                ) from None
        if target.stat().st_size != f.size:
            raise TransientError(f"{s.where}: {f.name}: got {target.stat().st_size} of {f.size} bytes")
        return target

    return with_retries(f"{s.where}: download {f.name}", attempt, s.retries, log=log)


# --- the source kind: its Dagster resource, an asset run's days, a sensor's listing ----------


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


def _env(name: str | None):
    return dg.EnvVar(name) if name else None


def resource(config: ProjectBase, s: SftpSource) -> SftpResource:
    """The source's resource; its secrets are read from the named environment variables by Dagster."""
    return SftpResource(
        source=s.name,
        host=s.host,
        port=s.port,
        username=s.username,
        password=_env(s.password_env),
        private_key=_env(s.private_key_env),
        private_key_path=str(config.resolve(s.private_key_path.expanduser())) if s.private_key_path else None,
        known_hosts=str(config.resolve(s.known_hosts.expanduser())) if s.known_hosts else None,
        host_key_fingerprint=s.host_key_fingerprint,
        check_host_key=s.check_host_key,
        folder=s.folder,
        timeout_seconds=s.timeout_seconds,
        retries=s.retries,
    )


def list_files(res: SftpResource, file_name: str, date_format: str) -> list[RemoteFile]:
    return list_dated(res.settings(), res.folder, file_name, date_format)


def fetch(
    context, res: SftpResource, source: SftpSource, spec: Dataset, days: list[dt.date], tmp: Path
) -> Inputs:
    """Download the file of each day to ``tmp``; a day without one gets the reason."""
    s = res.settings()
    file_name = dataset_file_name(source, spec)
    return fetch_dated(
        days,
        lambda: list_dated(s, res.folder, file_name, source.date_format),
        lambda f: download(s, res.folder, f, tmp, log=context.log.warning),
        lambda day: f"{s.where}: no file {file_name}_{day.strftime(source.date_format)}.* in {res.folder!r}",
    )


def fetch_range(context, res: SftpResource, source: SftpSource, spec: Dataset, tmp: Path) -> list[LandedFile]:
    """Download the dataset's range files to ``tmp``, oldest first."""
    s = res.settings()
    file_name = dataset_file_name(source, spec)
    return fetch_range_files(
        lambda: list_range(s, res.folder, file_name),
        lambda f: download(s, res.folder, f, tmp, log=context.log.warning),
    )


KIND = register(
    SourceKind(
        name="sftp",
        settings=SftpSource,
        file_based=True,
        resource=resource,
        fetch=fetch,
        list_dated=list_files,
        fetch_range_files=fetch_range,
    )
)
