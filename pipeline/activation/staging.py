"""Staged writes: a file is written under a hidden name of its own, ``.<name>.partial-<hex>``, beside its
target and renamed into place, so a reader sees the old file or the whole new one and two writers of
one file never take each other's. What a writer killed before its rename left is removed by a later
write of the same file: locally a staging folder whose OS lock is free (its writer is gone), remotely
(pipeline/activation/destinations.py) a staged file older than :data:`STALE_STAGED_SECONDS`.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

STALE_STAGED_SECONDS = 3600  # a staged file this old was left by a writer killed before its rename
_SUFFIX = re.compile(r"\.partial-[0-9a-f]{8}")
_NO_LOCKS = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP)  # flock on a file system that has none


def staged_name(name: str) -> str:
    """A hidden name of its own for a file ``name`` being written: ``.<name>.partial-<8 hex digits>``."""
    return f".{name}.partial-{secrets.token_hex(4)}"


def is_staged(candidate: str, name: str) -> bool:
    """Whether ``candidate`` is a :func:`staged_name` of ``name`` (never another file's)."""
    prefix = f".{name}"
    return candidate.startswith(prefix) and _SUFFIX.fullmatch(candidate[len(prefix) :]) is not None


@contextlib.contextmanager
def staging(folder: Path, name: str) -> Iterator[Path]:
    """A new hidden folder ``folder/<staged name of name>`` to write ``name`` in, under an OS lock on it
    (released when the process ends, even killed) until the block ends, then removed with what it holds.
    The staged folders and files of ``name`` whose lock is free (a killed writer's) go first."""
    remove_abandoned(folder, name)
    while True:
        path = folder / staged_name(name)
        path.mkdir()
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as e:
            if e.errno not in _NO_LOCKS:
                os.close(fd)
                raise
            break  # a file system without locks: no export can take it for a killed one's either
        try:
            if os.path.samestat(os.stat(path), os.fstat(fd)):
                break
        except FileNotFoundError:
            pass
        os.close(fd)  # another writer took it for a killed one's between its creation and our lock
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)


def remove_abandoned(folder: Path, name: str) -> list[str]:
    """Remove the staged folders and files of ``name`` in ``folder`` whose lock is free: a writer at work
    holds its folder's lock, a killed one's was released by the OS. Returns their names."""
    try:
        candidates = sorted(p for p in folder.iterdir() if is_staged(p.name, name))
    except OSError:
        return []
    removed = []
    for p in candidates:
        try:
            fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW)  # a symbolic link is never followed
        except OSError:  # gone already, or not ours to open
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()
            removed.append(p.name)
        except OSError:  # held by a writer at work, or removed by another export meanwhile
            pass
        finally:
            os.close(fd)
    return removed
