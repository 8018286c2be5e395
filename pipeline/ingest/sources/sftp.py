"""SFTP source (paramiko): list dated files in a remote folder and stream them to a local copy.

No Dagster here. Host keys are checked by default (a known_hosts file or a pinned SHA256
fingerprint). Secrets (password, key) are held in ``SftpSettings`` and never put in a message.
"""

from __future__ import annotations

import base64
import hashlib
import io
import socket
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from pipeline.ingest.sources.local_files import SourceError
from pipeline.ingest.sources.remote import (
    RemoteFile,
    TransientError,
    VanishedError,
    day_of,
    one_per_day,
    with_retries,
)

CHUNK = 1 << 20  # bytes per read: a file is streamed, never held whole in memory


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
    if not (s.private_key or s.private_key_path):
        return None
    try:
        if s.private_key:
            return _from_text(s.private_key)
        return paramiko.PKey.from_path(s.private_key_path)
    except (paramiko.SSHException, OSError, ValueError) as e:
        which = (
            "the private key from its environment variable"
            if s.private_key
            else f"the key file {s.private_key_path}"
        )
        raise SourceError(f"{s.where}: cannot read {which}: {type(e).__name__}") from None


def _from_text(text: str) -> paramiko.PKey:
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key(io.StringIO(text))
        except paramiko.SSHException:
            continue
    raise paramiko.SSHException("not a private key paramiko can read")


def check_host_key(s: SftpSettings, key: paramiko.PKey) -> None:
    """Raise unless the server's key is the pinned one or is in known_hosts for this host."""
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
    known = hosts.lookup(name) or {}
    if known.get(key.get_name()) != key:
        raise SourceError(f"{s.where}: the server's host key {got} is not in {s.known_hosts} for {name}")


@contextmanager
def connect(s: SftpSettings) -> Iterator[paramiko.SFTPClient]:
    """One SFTP session; connection problems are TransientError, the rest SourceError."""
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
                f"{s.where}: authentication failed ({how} refused); check the {how} in the source's environment variable"
            ) from None
        except (paramiko.SSHException, OSError, EOFError) as e:
            raise TransientError(f"{s.where}: connection lost during authentication: {e}") from None
        try:
            sftp = paramiko.SFTPClient.from_transport(transport)
        except (paramiko.SSHException, OSError, EOFError) as e:
            raise TransientError(f"{s.where}: cannot open the SFTP subsystem: {e}") from None
        sftp.get_channel().settimeout(s.timeout)
        yield sftp
    finally:
        transport.close()


def _path(folder: str, name: str) -> str:
    return name if folder in ("", ".") else f"{folder.rstrip('/')}/{name}"


def list_dated(s: SftpSettings, folder: str, file_name: str, date_format: str) -> list[RemoteFile]:
    """The regular files ``<file_name>_<date>.<ext>`` in the remote folder, oldest day first."""

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
            day = day_of(a.filename, file_name, date_format)
            if day is None or not stat.S_ISREG(a.st_mode or 0):
                continue
            out.append(
                RemoteFile(a.filename, day, int(a.st_size), float(a.st_mtime), f"{a.st_size}:{a.st_mtime}")
            )
        return out

    return one_per_day(with_retries(f"{s.where}: list {folder!r}", attempt, s.retries), file_name)


def download(
    s: SftpSettings, folder: str, f: RemoteFile, dest: Path, log: Callable[[str], None] | None = None
) -> Path:
    """Stream one remote file to ``dest/<name>`` in chunks; retried on a dropped connection.

    A file that is gone (deleted or renamed since it was listed) raises VanishedError.
    """
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
