"""The physical line count of a plain file (what tells whether a file with rejected rows has blank
lines to find): LF, CRLF and CR ends, a last line without an end, a CRLF split between two blocks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

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
