"""A file's physical lines, found on its bytes (a ``.gz`` decompressed as it goes): how many there
are, which are blank, and the text of those asked for.

The CSV reader skips blank lines but counts them in the line numbers of its rejects, so the
numbering of a file with rejected records needs their positions (read.py). They are found on the
bytes, whatever the dataset's encoding, so that no line is left out: a DuckDB scan of the lines in
the dataset's encoding leaves out a line that is not valid UTF-8, and one in Latin-1 fails on the
bytes 0x80-0x9f (DuckDB's Latin-1 has no such characters). Lines end as the reader ends them: LF,
CRLF or CR (a CRLF split between two blocks is one end); a blank line is empty or spaces only.

The text of a line is asked for where the reader's text of a rejected line is not the line (see
raw_lines.py): it is the line's bytes decoded as UTF-8, each byte that is not UTF-8 a U+FFFD.
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
    """What :func:`scan_lines` found: the number of lines (a last line without an end counts), the
    1-based numbers of the blank ones and the text of the lines asked for, in their order."""

    count: int
    blank: np.ndarray
    texts: list[str]

    def blank_after(self, before: int) -> np.ndarray:
        """The positions of the blank lines after the first ``before`` lines (1 = the line after)."""
        return self.blank[self.blank > before] - before

    def one_record_a_line(self, before: int, records: int) -> bool:
        """Whether each line after the first ``before`` is one of ``records`` records, blank lines
        aside (else a quoted cell spans lines, and a reader's line numbers are not the file's)."""
        return self.count - before - len(self.blank_after(before)) == records


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


def scan_lines(path: Path, chunk: int = CHUNK, wanted: np.ndarray | None = None) -> LineScan:
    """The file's lines (see the module), streamed in blocks of ``chunk`` bytes, with the text of the
    lines numbered ``wanted`` (1-based, ascending, distinct; a number past the end has none)."""
    wanted = np.array([], dtype=np.int64) if wanted is None else wanted
    count, blank = 0, [np.array([], dtype=np.int64)]
    found: list[bytes] = []
    carry = b""
    for block in [*_blocks(path, chunk), None]:  # a loop over blocks of bytes, not rows (None: the end)
        buf = carry + (block or b"")
        a = np.frombuffer(buf, np.uint8)
        lines = _lines_of(a, final=block is None)
        blank.append(count + 1 + np.flatnonzero(_blank(a, lines)))
        here = wanted[(wanted > count) & (wanted <= count + len(lines.end))] - count - 1
        found += [buf[lines.start[k] : lines.end[k]] for k in here]  # the lines asked for only
        count += len(lines.end)
        carry = buf[lines.rest :]
    if carry:  # the last line, without an end
        count += 1
        blank += [np.array([count], dtype=np.int64)] if carry.strip(b" ") == b"" else []
        found += [carry] if count in wanted else []
    return LineScan(count, np.concatenate(blank), as_text(found))


def line_ends(path: Path, chunk: int = CHUNK) -> dict[str, int]:
    """How many line ends of each kind (``LF``, ``CRLF``, ``CR``) the file's bytes hold, quoted cells
    included; a CRLF split between two blocks is one CRLF."""
    lf = cr = crlf = 0
    prev_cr = False
    for block in _blocks(path, chunk):  # a loop over blocks of bytes, not rows
        a = np.frombuffer(block, np.uint8)
        lf += int(np.count_nonzero(a == LF))
        cr += int(np.count_nonzero(a == CR))
        crlf += int(np.count_nonzero((a[:-1] == CR) & (a[1:] == LF))) + int(prev_cr and a[0] == LF)
        prev_cr = bool(a[-1] == CR)
    return {"LF": lf - crlf, "CRLF": crlf, "CR": cr - crlf}


def first_byte_in(path: Path, lo: int, hi: int, chunk: int = CHUNK) -> tuple[int, int] | None:
    """The first byte of the file between ``lo`` and ``hi`` (inclusive) and the 1-based number of its
    line (lines end by LF, CRLF or CR), or None when there is none."""
    ends, prev_cr = 0, False
    for block in _blocks(path, chunk):  # a loop over blocks of bytes, not rows
        a = np.frombuffer(block, np.uint8)
        hits = np.flatnonzero((a >= lo) & (a <= hi))
        b = a[: hits[0]] if len(hits) else a
        crlf = int(np.count_nonzero((b[:-1] == CR) & (b[1:] == LF))) + int(prev_cr and len(b) and b[0] == LF)
        ends += int(np.count_nonzero(b == LF)) + int(np.count_nonzero(b == CR)) - crlf
        if len(hits):
            return ends + 1, int(a[hits[0]])
        prev_cr = bool(a[-1] == CR)
    return None


def as_text(lines: list[bytes]) -> list[str]:
    """Lines (none holds a line end) decoded as UTF-8, each byte that is not UTF-8 a U+FFFD; decoded
    at once."""
    return b"\n".join(lines).decode("utf-8", "replace").split("\n") if lines else []


def _blank(a: np.ndarray, lines: _Block) -> np.ndarray:
    """Whether each whole line of ``a`` is blank: no byte but spaces before its end (a line and its
    end bytes hold ``width`` bytes that are not spaces, the end's)."""
    if not len(lines.end):
        return np.array([], dtype=bool)
    not_space = np.add.reduceat(a[: lines.rest] != SPACE, lines.start, dtype=np.int64)
    return not_space == lines.width
