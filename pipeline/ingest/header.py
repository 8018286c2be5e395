"""The header of a delimited file: its column names, and whether it ends with the delimiter.

Excel and many ERP exports end every line with the delimiter (``order_id,amount,`` then ``o1,10,``):
the header then has an unnamed last column whose values are all empty. Such a column is nothing:
its name is left out and the reader reads one value more per record (``Header.width``), a record
with a value in it being a rejected row (sql/ingest/read/csv_values.sql). An unnamed column
elsewhere fails the file.
"""

from __future__ import annotations

import csv
import gzip
import re
import zlib
from pathlib import Path
from typing import NamedTuple

from pipeline.ingest.config import WHITESPACE, CsvDialect
from pipeline.ingest.dialect import split_header
from pipeline.ingest.read_errors import IngestError

DEFAULT_DIALECT = CsvDialect()


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
        lines = re.split(rb"\r\n|\n|\r", head, maxsplit=skip + 1)
        if len(lines) <= skip + 1:  # (a CR ending the line at 64 KiB gives the same line as its CRLF)
            head += fh.read((1 << 20) - len(head))
            lines = re.split(rb"\r\n|\n|\r", head, maxsplit=skip + 1)
        if len(lines) <= skip + 1 and fh.read(1):
            raise IngestError(f"{path.name}: the header is longer than 1 MiB (or the file has no line ends)")
    return lines[skip] if len(lines) > skip else b""


def file_header(path: Path, encoding: str, dialect: CsvDialect = DEFAULT_DIALECT) -> Header:
    """The header (the line after ``skip_rows``), names trimmed (spaces after the delimiters are
    tolerated), or the dialect's ``columns`` for a file without a header."""
    if not dialect.header:
        return Header(list(dialect.columns or []), False)
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


def read_header(path: Path, encoding: str, dialect: CsvDialect = DEFAULT_DIALECT) -> list[str]:
    """The column names of the file (file_header), an unnamed last column left out."""
    return file_header(path, encoding, dialect).names


def check_unique(file: str, names: list[str]) -> None:
    """Column names must differ in more than letter case (SQL names ignore case)."""
    lower = [n.lower() for n in names]
    dupes = sorted({n for n in names if lower.count(n.lower()) > 1})
    if dupes:
        raise IngestError(f"{file}: the header names {dupes} more than once (letter case does not count)")
