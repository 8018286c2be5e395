"""The guard a delimited or JSON-lines file passes before a reader opens it.

One streamed pass over the file (a ``.gz`` is decompressed as it goes, never whole in memory)
checks its decompressed size and its number of lines against the dataset's ``limits`` and stops
at the first byte over them: such a file fails its load before DuckDB reads, types or spills
anything. The same pass looks for lines longer than ``max_record_bytes``. DuckDB's CSV reader
silently drops a line longer than its buffer (about 32 MB), so such a line never reaches it: the
file is read from a copy in which each long line is replaced by a short marker line that the
reader rejects, at the same position, and the marker's row is then given the reason
``row: longer than N bytes`` (:func:`mark_long_records`). Every physical record is therefore counted:
rows_read = rows_loaded + rows_rejected whatever the length of a line.

The pass is cheap when no line is long: blocks of half the limit are checked for a line end
(``bytes.find``); a chunk with a block without one is the only one measured line by line (numpy),
and a file with a long line the only one copied.

NUL bytes are removed (the copy is read): no value can hold one (DuckDB keeps them, later stages and
exports cannot), and a NUL is never meaningful in text. A JSON ``\\u0000`` escape is not a NUL byte
of the file and is read as written. A ``\\n``, a ``\\r`` or both end a line, as for the readers.
"""

from __future__ import annotations

import gzip
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, cast

import duckdb
import numpy as np

from pipeline.core.sql import sql
from pipeline.ingest.config import WHITESPACE, CsvDialect, Limits
from pipeline.ingest.read import IngestError
from pipeline.ingest.sources.files import LandedFile

CHUNK = 8 << 20
# The line that stands for a line too long to read (never longer than a few hundred bytes).
MARK = "nightjar-record-too-long"


@dataclass(frozen=True)
class Scan:
    """What the streamed pass found: the decompressed size, the number of lines (None when they were
    not counted: a plain file of at most ``max_rows`` bytes cannot have more lines) and the byte
    ranges ``[start, end)`` of the lines longer than ``max_record_bytes``."""

    size: int
    lines: int | None
    long: tuple[tuple[int, int], ...] = ()
    nul: bool = False  # the file holds NUL bytes


def _open(path: Path) -> IO[bytes]:
    opened = gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")  # noqa: SIM115
    return cast(IO[bytes], opened)


def _chunks(path: Path, size: int = CHUNK) -> Iterator[bytes]:
    with _open(path) as fh:
        while chunk := fh.read(size):
            yield chunk


def _over(f: LandedFile, what: str, limits: Limits, key: str) -> IngestError:
    limit = getattr(limits, key)
    return IngestError(
        f"{f.name}: the file has more than {limit:,} {what} (limits.{key}): nothing was read; "
        f"split the file or raise limits.{key} for this dataset"
    )


def _may_have_long_lines(chunk: bytes, block: int) -> bool:
    """Some block of ``chunk`` (blocks of ``block`` bytes from its start) holds no line end."""
    for start in range(0, len(chunk), block):  # a few blocks per chunk, not rows
        end = min(start + block, len(chunk))
        if chunk.find(b"\n", start, end) < 0 and chunk.find(b"\r", start, end) < 0:
            return True
    return False


def _line_ends(chunk: bytes) -> tuple[int, int]:
    """The positions of the first and the last line end of ``chunk`` (-1, -1 for none); a ``\r`` is
    looked for only before the first (after the last) ``\n``, so a file without one is not read twice."""
    lf = chunk.find(b"\n")
    cr = chunk.find(b"\r", 0, lf if lf >= 0 else len(chunk))
    if lf < 0 and cr < 0:
        return -1, -1
    first = cr if cr >= 0 else lf
    last_lf = chunk.rfind(b"\n")
    return first, max(last_lf, chunk.rfind(b"\r", last_lf + 1))


@dataclass
class _LongLines:
    """The byte ranges of the lines longer than ``limit``, found chunk by chunk in the one pass: the
    line that ends in a chunk is measured from the previous line end; the lines inside a chunk are
    measured (numpy) only when one of its blocks holds no line end."""

    limit: int
    block: int
    last_end: int = -1
    found: list[tuple[int, int]] = field(default_factory=list)

    def feed(self, chunk: bytes, offset: int) -> None:
        first, last = _line_ends(chunk)
        if first < 0:
            return  # the line goes on: measured where it ends
        if offset + first - (self.last_end + 1) > self.limit:
            self.found.append((self.last_end + 1, offset + first))
        if _may_have_long_lines(chunk, self.block):
            a = np.frombuffer(chunk, np.uint8)
            ends = np.flatnonzero((a == 10) | (a == 13)).astype(np.int64) + offset
            long = ends[1:] - (ends[:-1] + 1) > self.limit
            self.found += zip((ends[:-1][long] + 1).tolist(), ends[1:][long].tolist(), strict=True)
        self.last_end = offset + last

    def finish(self, size: int) -> tuple[tuple[int, int], ...]:
        if size - (self.last_end + 1) > self.limit:  # the last line, without a line end
            self.found.append((self.last_end + 1, size))
        return tuple(self.found)


def scan(f: LandedFile, limits: Limits, records: bool = True) -> Scan:
    """Stream the file once against ``limits``; raises IngestError at the first byte or line over
    ``max_uncompressed_bytes`` or ``max_rows``. ``records``: look for lines longer than
    ``max_record_bytes`` (not for a document read whole)."""
    block = max(1, limits.max_record_bytes // 2)
    size = lf = cr = 0
    nul = False
    last = b""  # the file's last byte
    lines = _LongLines(limits.max_record_bytes, block)
    # a line holds at least one byte: the lines of a plain file no longer than max_rows bytes need no count
    count = f.name.lower().endswith(".gz") or f.path.stat().st_size > limits.max_rows
    try:
        for chunk in _chunks(f.path, block * max(1, CHUNK // block)):
            if records:
                lines.feed(chunk, size)
            size += len(chunk)
            if size > limits.max_uncompressed_bytes:
                raise _over(f, "bytes once decompressed", limits, "max_uncompressed_bytes")
            if count:
                n = chunk.count(b"\n")
                lf, cr = lf + n, cr + (0 if n else chunk.count(b"\r"))  # CR-only line ends counted apart
                if max(lf, cr) > limits.max_rows:
                    raise _over(f, "lines", limits, "max_rows")
            nul = nul or b"\x00" in chunk
            last = chunk[-1:]
        long = lines.finish(size) if records else ()
    except (OSError, EOFError) as e:
        gz = " (a truncated or corrupt gzip file)" if f.name.lower().endswith(".gz") else ""
        raise IngestError(f"{f.name}: cannot read the file{gz}: {e}") from None
    n_lines = max(lf, cr) + _unterminated(last)
    if count and n_lines > limits.max_rows:
        raise _over(f, "lines", limits, "max_rows")
    return Scan(size, n_lines if count else None, long, nul)


def _unterminated(last: bytes) -> int:
    """1 when the file's last byte (``b""`` for an empty file) ends a line without a line end, else 0."""
    return int(last not in (b"", b"\n", b"\r"))


def marker(fmt: str, encoding: str, columns: int, dialect: CsvDialect | None) -> bytes:
    """The line that stands for a long line: one the reader rejects (too many values for a
    delimited file, not JSON for JSON lines)."""
    if fmt != "csv" or dialect is None:
        return MARK.encode()
    sep = " " if dialect.delimiter == WHITESPACE else dialect.delimiter
    return (MARK + (sep + "x") * max(columns, 1)).encode(
        encoding
    )  # not empty: trailing empty cells are ignored


def _copy(src: IO[bytes], dst: IO[bytes], n: int | None) -> None:
    """Copy ``n`` bytes (None: the rest), without NUL bytes."""
    while (n is None or n > 0) and (chunk := src.read(CHUNK if n is None else min(n, CHUNK))):
        dst.write(chunk.replace(b"\x00", b""))
        n = None if n is None else n - len(chunk)


def _skip(src: IO[bytes], n: int) -> None:
    while n > 0 and (chunk := src.read(min(n, CHUNK))):
        n -= len(chunk)


def write_marked_copy(f: LandedFile, long: tuple[tuple[int, int], ...], mark: bytes, folder: Path) -> Path:
    """A copy of the file (same name, same compression) with each long line replaced by ``mark``
    and its NUL bytes removed."""
    out = folder / f.name
    gz = f.name.lower().endswith(".gz")
    target = gzip.open(out, "wb", compresslevel=1) if gz else open(out, "wb")  # noqa: SIM115
    with _open(f.path) as src, cast(IO[bytes], target) as dst:
        pos = 0
        for start, end in long:  # the long lines only
            _copy(src, dst, start - pos)
            dst.write(mark)
            _skip(src, end - start)
            pos = end
        _copy(src, dst, None)
    return out


@contextmanager
def guarded(
    f: LandedFile,
    limits: Limits,
    encoding: str = "utf-8",
    columns: int = 1,
    dialect: CsvDialect | None = None,
) -> Iterator[LandedFile]:
    """The file to read: ``f`` itself, or (when it has lines longer than ``max_record_bytes`` or NUL
    bytes) a temporary copy with those lines replaced by a marker and the NUL bytes removed, deleted
    when the block ends; raises IngestError for a file over ``limits``. A header longer than the
    limit fails the file."""
    found = scan(f, limits)
    if not found.long and not found.nul:
        yield f
        return
    if (
        found.long
        and found.long[0][0] == 0
        and (dialect is not None and dialect.header and not dialect.skip_rows)
    ):
        raise IngestError(f"{f.name}: the header is longer than {limits.max_record_bytes:,} bytes")
    with tempfile.TemporaryDirectory(prefix="nightjar-long-") as tmp:
        path = write_marked_copy(f, found.long, marker(f.format, encoding, columns, dialect), Path(tmp))
        yield replace(f, path=path)


def mark_long_records(con: duckdb.DuckDBPyConnection, limits: Limits, typed: bool = False) -> None:
    """The marker rows of ``_rows`` (with ``typed``: of ``_typed``, rows typed straight from the lines
    read) get the reason ``row: longer than N bytes`` (and an empty raw text)."""
    query = sql("ingest/read/long_records_typed" if typed else "ingest/read/long_records")
    con.execute(query, {"mark": MARK, "max_line": limits.max_record_bytes})
