"""The physical line count of a plain file (what tells whether a file with rejected rows has blank
lines to find): LF, CRLF and CR ends, a last line without an end, a CRLF split between two blocks."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from pipeline.ingest.line_scan import first_byte_in, line_ends, scan_lines
from pipeline.ingest.read import physical_lines

CASES = [b"", b"a", b"a\n", b"a\r\nb\r\n", b"a\rb\r", b"a\r\n\r\nb", b"\n\n\n", b"x\r", b"a\nb\rc\r\nd"]


@pytest.mark.parametrize("body", CASES)
def test_lines_are_counted_as_the_reader_ends_them(tmp_path: Path, body: bytes) -> None:
    path = tmp_path / "x_20260101.csv"
    path.write_bytes(body)
    ends = len(re.findall(rb"\r\n|\n|\r", body))
    expected = ends + (1 if body and not body.endswith((b"\n", b"\r")) else 0)
    assert [physical_lines(path, chunk) for chunk in (1, 2, 3, 1 << 23)] == [expected] * 4
    assert physical_lines(tmp_path / "x_20260101.csv.gz") is None


def _lines(body: bytes) -> list[bytes]:
    lines = re.split(rb"\r\n|\n|\r", body)
    return lines[:-1] if lines and lines[-1] == b"" else lines


@pytest.mark.parametrize("body", [*CASES, b" \r", b"  ", b"h\r\n \r\n\xe9\x93\n  x\n\n", b"\x80\n\n\xff"])
@pytest.mark.parametrize("gz", [False, True])
def test_the_line_scan_finds_every_line_and_the_blank_ones(tmp_path: Path, body: bytes, gz: bool) -> None:
    """Whatever the bytes (not UTF-8, not Latin-1 for DuckDB: 0x80-0x9f), in blocks of any size."""
    path = tmp_path / ("x_20260101.csv.gz" if gz else "x_20260101.csv")
    path.write_bytes(gzip.compress(body) if gz else body)
    lines = _lines(body)
    blank = [i + 1 for i, line in enumerate(lines) if line.strip(b" ") == b""]
    for chunk in (1, 2, 3, 1 << 23):
        scanned = scan_lines(path, chunk)
        assert (scanned.count, scanned.blank.tolist()) == (len(lines), blank)


@pytest.mark.parametrize("body", [*CASES, b"a\r\nb\nc\rd\r\n", b"\r\r\n\n"])
@pytest.mark.parametrize("gz", [False, True])
def test_line_ends_are_counted_by_kind(tmp_path: Path, body: bytes, gz: bool) -> None:
    """What tells a file that mixes line ends (the CSV reader takes one kind per file), in blocks of
    any size (a CRLF split between two blocks is one CRLF)."""
    path = tmp_path / ("x_20260101.csv.gz" if gz else "x_20260101.csv")
    path.write_bytes(gzip.compress(body) if gz else body)
    ends = re.findall(rb"\r\n|\n|\r", body)
    expected = {kind: ends.count(end) for kind, end in (("LF", b"\n"), ("CRLF", b"\r\n"), ("CR", b"\r"))}
    for chunk in (1, 2, 3, 1 << 23):
        assert line_ends(path, chunk) == expected


@pytest.mark.parametrize(
    "body, found",
    [
        (b"", None),
        (b"a\nb\r\nc\rd", None),
        (b"\x93", (1, 0x93)),
        (b"a\r\nb\nc\rd\x80\x93", (4, 0x80)),
        (b"a\r\n\r\n\xe9\x9f", (3, 0x9F)),  # 0xe9 (Latin-1 e acute) is outside 0x80-0x9f
        (b"a\r\r\n\n\x85", (4, 0x85)),
    ],
)
@pytest.mark.parametrize("gz", [False, True])
def test_the_first_byte_in_a_range_is_found_with_its_line(
    tmp_path: Path, body: bytes, found: tuple[int, int] | None, gz: bool
) -> None:
    """What names the line of a Windows-1252 byte in a Latin-1 dataset, in blocks of any size."""
    path = tmp_path / ("x_20260101.csv.gz" if gz else "x_20260101.csv")
    path.write_bytes(gzip.compress(body) if gz else body)
    for chunk in (1, 2, 3, 1 << 23):
        assert first_byte_in(path, 0x80, 0x9F, chunk) == found
