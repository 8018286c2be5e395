"""A file's physical lines, found on its bytes (a ``.gz`` decompressed as it goes): how many there
are and which are blank.

The CSV reader skips blank lines but counts them in the line numbers of its rejects, so the
numbering of a file with rejected records needs their positions (read.py). They are found on the
bytes, whatever the dataset's encoding, so that no line is left out: a DuckDB scan of the lines in
the dataset's encoding leaves out a line that is not valid UTF-8, and one in Latin-1 fails on the
bytes 0x80-0x9f (DuckDB's Latin-1 has no such characters). Lines end as the reader ends them: LF,
CRLF or CR (a CRLF split between two blocks is one end); a blank line is empty or spaces only.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import numpy as np

CHUNK = 8 << 20
LF, CR, SPACE = 10, 13, 32


@dataclass(frozen=True)
class LineScan:
    """What :func:`scan_lines` found: the number of lines (a last line without an end counts) and
    the 1-based numbers of the blank ones."""

    count: int
    blank: np.ndarray


@dataclass(frozen=True)
class _Block:
    """The whole lines of a block of bytes: line k is ``[start[k], end[k])``, its end bytes after it
    (``width[k]`` of them); ``rest`` is where the unfinished last line starts."""

    start: np.ndarray
    end: np.ndarray
    width: np.ndarray
    rest: int


def _blocks(path: Path, size: int) -> Iterator[bytes]:
    opened = gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")  # noqa: SIM115
    with cast(IO[bytes], opened) as fh:
        while block := fh.read(size):
            yield block


def _lines_of(a: np.ndarray, final: bool) -> _Block:
    """The whole lines of the bytes ``a``; a CR at the end of a block that is not the last may be the
    first half of a CRLF: its line is left for the next block."""
    after_cr = np.zeros(len(a), dtype=bool)
    after_cr[1:] = a[:-1] == CR
    end = np.flatnonzero((a == CR) | ((a == LF) & ~after_cr))  # the first byte of each line end
    if not final and len(end) and end[-1] == len(a) - 1 and a[-1] == CR:
        end = end[:-1]
    nxt = np.minimum(end + 1, len(a) - 1)
    width = 1 + ((a[end] == CR) & (end + 1 < len(a)) & (a[nxt] == LF)).astype(np.int64)
    start = np.concatenate(([0], end + width))
    return _Block(start[:-1], end, width, int(start[-1]))


def scan_lines(path: Path, chunk: int = CHUNK) -> LineScan:
    """The file's lines (see the module), streamed in blocks of ``chunk`` bytes."""
    count, blank = 0, [np.array([], dtype=np.int64)]
    carry = b""
    for block in [*_blocks(path, chunk), None]:  # a loop over blocks of bytes, not rows (None: the end)
        buf = carry + (block or b"")
        a = np.frombuffer(buf, np.uint8)
        lines = _lines_of(a, final=block is None)
        blank.append(count + 1 + np.flatnonzero(_blank(a, lines)))
        count += len(lines.end)
        carry = buf[lines.rest :]
    if carry:  # the last line, without an end
        count += 1
        blank += [np.array([count], dtype=np.int64)] if carry.strip(b" ") == b"" else []
    return LineScan(count, np.concatenate(blank))


def _blank(a: np.ndarray, lines: _Block) -> np.ndarray:
    """Whether each whole line of ``a`` is blank: no byte but spaces before its end (a line and its
    end bytes hold ``width`` bytes that are not spaces, the end's)."""
    if not len(lines.end):
        return np.array([], dtype=bool)
    not_space = np.add.reduceat(a[: lines.rest] != SPACE, lines.start, dtype=np.int64)
    return not_space == lines.width
