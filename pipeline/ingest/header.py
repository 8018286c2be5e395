"""The header of a delimited file: its column names, and whether it ends with the delimiter.

Excel and many ERP exports end every line with the delimiter (``order_id,amount,`` then ``o1,10,``):
the header then has an unnamed last column whose values are all empty. Such a column is nothing:
its name is left out and the reader reads one value more per record (``Header.width``), a record
with a value in it being a rejected row (sql/ingest/read/csv_values.sql). An unnamed column
elsewhere fails the file.

A file without a header (``header: false``) has no line that says so: its first records do
(ends_with_delimiter). Their number of values tells, not their last character: a record of the
plain file whose last value is empty ends with the delimiter too.
"""

from __future__ import annotations

import csv
import gzip
import re
import zlib
from collections import Counter
from pathlib import Path
from typing import NamedTuple

from pipeline.ingest.config import WHITESPACE, CsvDialect
from pipeline.ingest.dialect import split_header, split_records
from pipeline.ingest.read_errors import IngestError

DEFAULT_DIALECT = CsvDialect()
# the first records (of the first bytes) that tell whether a headerless file's lines end with the delimiter
SAMPLE_BYTES, SAMPLE_RECORDS = 1 << 16, 100
LINE_END = rb"\r\n|\n|\r"


class Header(NamedTuple):
    names: list[str]
    trailing: bool  # the header ends with the delimiter (an unnamed last column)

    @property
    def width(self) -> int:
        """The values the reader reads per record: the names, and the unnamed last column if any."""
        return len(self.names) + int(self.trailing)


def _line_at(path: Path, skip: int = 0) -> bytes:
    """The bytes of the line after ``skip`` lines (lines end by LF, CRLF or CR), reading at most
    1 MiB; a line that does not end within it is an error."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        head = fh.read(1 << 16)  # the header ends in the first 64 KiB of almost every file
        lines = re.split(LINE_END, head, maxsplit=skip + 1)
        if len(lines) <= skip + 1:  # (a CR ending the line at 64 KiB gives the same line as its CRLF)
            head += fh.read((1 << 20) - len(head))
            lines = re.split(LINE_END, head, maxsplit=skip + 1)
        if len(lines) <= skip + 1 and fh.read(1):
            raise IngestError(f"{path.name}: the header is longer than 1 MiB (or the file has no line ends)")
    return lines[skip] if len(lines) > skip else b""


def file_header(path: Path, encoding: str, dialect: CsvDialect = DEFAULT_DIALECT) -> Header:
    """The header (the line after ``skip_rows``), names trimmed (spaces after the delimiters are
    tolerated), or the dialect's ``columns`` for a file without a header."""
    if not dialect.header:
        return Header(list(dialect.columns or []), ends_with_delimiter(path, encoding, dialect))
    try:
        line = _line_at(path, dialect.skip_rows)
    except (OSError, EOFError, zlib.error) as e:
        gz = " (a truncated or corrupt gzip file)" if path.name.lower().endswith(".gz") else ""
        raise IngestError(f"{path.name}: cannot read the file{gz}: {e}") from None
    try:
        text = line.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    except UnicodeDecodeError as e:
        raise IngestError(
            f"{path.name}: the header is not valid {encoding} ({e.reason} at byte {e.start}); "
            f"set `encoding: latin-1` for this dataset if the file is Latin-1"
        ) from None
    try:
        header = split_header(text, dialect)
    except csv.Error as e:
        raise IngestError(f"{path.name}: cannot read the header: {e}") from None
    if not header or not any(h.strip() for h in header):
        if dialect.skip_rows:
            raise IngestError(
                f"{path.name}: no header after the {dialect.skip_rows} skipped line(s) (`skip_rows`): "
                "the line is blank or the file ends before it"
            )
        raise IngestError(f"{path.name}: the file is empty or its first line is blank (no header)")
    names = [h.strip() for h in header]
    trailing = dialect.delimiter != WHITESPACE and names[-1] == ""
    if trailing:
        names = names[:-1]
    if "" in names:
        raise IngestError(f"{path.name}: column {names.index('') + 1} of the header has no name")
    check_unique(path.name, names)
    return Header(names, trailing)


def ends_with_delimiter(path: Path, encoding: str, dialect: CsvDialect) -> bool:
    """Whether the lines of a file without a header end with the delimiter (an unnamed last column,
    as after a header that does): more of its first records (_first_records) have one value more
    than ``columns``, the last empty, than have as many values as ``columns``. So a record that is
    not as most are (a shifted row, a value in the unnamed column) does not decide, even the first
    one; on a tie, or for a file the sample cannot be read from, it is the plain file (the reader
    then says what is wrong)."""
    if dialect.delimiter == WHITESPACE or not dialect.columns:
        return False
    n = len(dialect.columns)
    shapes = Counter(len(r) - n for r in _first_records(path, encoding, dialect) if _plain_or_ends(r, n))
    return shapes[1] > shapes[0]


def _plain_or_ends(record: list[str], n: int) -> bool:
    """Whether the record has ``n`` values, or ``n + 1`` with the last empty (it ends with the delimiter)."""
    return len(record) == n or (len(record) == n + 1 and record[-1] == "")


def _first_records(path: Path, encoding: str, dialect: CsvDialect) -> list[list[str]]:
    """The first SAMPLE_RECORDS records (not blank) that end within the first SAMPLE_BYTES of a file,
    after ``skip_rows``; none when the file cannot be read, those before the first the dialect does not
    fit."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(SAMPLE_BYTES)
            whole = not fh.read(1)
    except (OSError, EOFError, zlib.error):
        return []
    lines = head.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")[dialect.skip_rows :]
    text = b"\n".join(lines).decode("utf-8-sig" if encoding == "utf-8" else encoding, "replace")
    records: list[list[str]] = []
    try:
        for r in split_records(text.split("\n"), dialect):
            if len(records) > SAMPLE_RECORDS:
                break
            if any(v.strip() for v in r):
                records.append(r)
    except csv.Error:
        pass
    # the sample may end within its last record
    return records[:SAMPLE_RECORDS] if whole or len(records) > SAMPLE_RECORDS else records[:-1]


def read_header(path: Path, encoding: str, dialect: CsvDialect = DEFAULT_DIALECT) -> list[str]:
    """The column names of the file (file_header), an unnamed last column left out."""
    return file_header(path, encoding, dialect).names


def check_unique(file: str, names: list[str]) -> None:
    """Column names must differ in more than letter case (SQL names ignore case)."""
    lower = [n.lower() for n in names]
    dupes = sorted({n for n in names if lower.count(n.lower()) > 1})
    if dupes:
        raise IngestError(f"{file}: the header names {dupes} more than once (letter case does not count)")
