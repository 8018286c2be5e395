"""Why a file cannot be read: the one-line error of a file the reader failed on, in the words of the
fix where the reader's own message does not give it."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from pipeline.ingest.line_scan import first_byte_in, line_ends
from pipeline.ingest.sources.files import LandedFile

DIAGNOSES_FAIL = (OSError, EOFError, zlib.error)  # the file cannot be read again: the reader's message stays


class IngestError(RuntimeError):
    """A file that cannot be loaded at all; the message says why and what to do."""


UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")  # the byte order marks of UTF-16 (and of UTF-32 little-endian)
UTF16_SAMPLE = 4096  # the first bytes of a text file in which UTF-16 without a byte order mark shows


def utf16_order(head: bytes) -> str | None:
    """``LE`` or ``BE`` when a file's first bytes ``head`` are UTF-16 text of that byte order without
    a byte order mark, else None: at least half of their two-byte units are characters of the ASCII
    range (their high byte NUL: the second byte in little-endian, the first in big-endian) and under a
    tenth have a NUL low byte. A UTF-8 or Latin-1 text file holds no NUL bytes (or a stray one)."""
    units = len(head) // 2
    second, first = head[1 : 2 * units : 2].count(0), head[0 : 2 * units : 2].count(0)
    for order, high, low in (("LE", second, first), ("BE", first, second)):
        if units and 2 * high >= units and 10 * low < units:
            return order
    return None


def check_not_utf16(f: LandedFile) -> None:
    """A text file that starts with a UTF-16 byte order mark (as Windows PowerShell and Excel's
    "Unicode text" write), or whose first bytes are UTF-16 without one (utf16_order, as some tools
    write UTF-16LE or UTF-16BE), fails whole: read as UTF-8 or Latin-1 with its NUL bytes removed, it
    would lose its first line and turn every character outside ASCII into others. Only the file's
    first UTF16_SAMPLE bytes are read (a Parquet file is binary: its NUL bytes say nothing)."""
    opener = gzip.open if f.name.lower().endswith(".gz") else open
    try:
        with opener(f.path, "rb") as fh:
            head = fh.read(UTF16_SAMPLE)
    except DIAGNOSES_FAIL:
        return  # (a corrupt .gz: the reader says so)
    if head[:2] in UTF16_MARKS:
        raise IngestError(
            f"{f.name}: the file is UTF-16 (it starts with a UTF-16 byte order mark): save it as UTF-8"
        )
    order = utf16_order(head) if f.format != "parquet" else None
    if order:
        raise IngestError(
            f"{f.name}: the file is UTF-16{order} (UTF-16 without a byte order mark: its first bytes "
            "alternate NUL bytes and text): save it as UTF-8"
        )


def read_error(f: LandedFile, e: Exception) -> IngestError:
    """``{file}: cannot read the file: {the reader's message}``, or what the reader meant by it."""
    msg = str(e).split("\n")[0]
    try:
        why = _diagnosis(f.path, msg)
    except DIAGNOSES_FAIL:
        why = None
    return IngestError(f"{f.name}: {why}" if why else f"{f.name}: cannot read the file: {msg}")


def _diagnosis(path: Path, msg: str) -> str | None:
    if "is not latin-1 encoded" in msg:
        # DuckDB's Latin-1 has no characters for the bytes 0x80-0x9f (Python's has control characters)
        found = first_byte_in(path, 0x80, 0x9F)
        if found:
            line, byte = found
            return (
                f"line {line} holds the byte 0x{byte:02x}, a Windows-1252 character (curly quotes, the euro "
                "sign, dashes) that Latin-1 reading cannot take: save the file as UTF-8 and set "
                "`encoding: utf-8` for this dataset"
            )
    if "state machine reached an invalid state" in msg:
        # the CSV reader takes one kind of line end per file (any kind within quoted cells)
        ends = {kind: n for kind, n in line_ends(path).items() if n}
        if len(ends) > 1:
            found_ends = ", ".join(f"{n} {kind}" for kind, n in ends.items())
            return (
                f"the file mixes line ends ({found_ends}); the reader takes one kind per file: "
                "write it with one kind of line end throughout (LF, CRLF or CR)"
            )
    return None
