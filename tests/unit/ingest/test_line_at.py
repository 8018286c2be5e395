"""The header line of a file (header.py's _line_at): read from the first 64 KiB, or from the first MiB
when it ends later (a long header, skipped lines, a CRLF split at the 64 KiB boundary)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from pipeline.ingest.header import _line_at
from pipeline.ingest.read_errors import IngestError

K64 = 1 << 16


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize(
    ("body", "skip", "expected"),
    [
        (b"a,b\nx,y\n", 0, b"a,b"),
        (b"h" * 100_000 + b"\r\nrow\n", 0, b"h" * 100_000),  # ends past 64 KiB
        (b"s" * (K64 - 1) + b"\r\nhead\nrow\n", 1, b"head"),  # a CRLF split at the boundary
        (b"s" * (K64 - 2) + b"\r\n\r\nhead\n", 2, b"head"),
        (b"s\n" * 40_000 + b"head\n", 40_000, b"head"),  # skipped lines past 64 KiB
        (b"only", 0, b"only"),  # no line end at all
        (b"", 0, b""),
    ],
)
def test_the_line_after_the_skipped_ones(
    tmp_path: Path, gz: bool, body: bytes, skip: int, expected: bytes
) -> None:
    path = tmp_path / ("f.csv.gz" if gz else "f.csv")
    path.write_bytes(gzip.compress(body) if gz else body)
    assert _line_at(path, skip) == expected


def test_a_line_that_does_not_end_within_a_mib_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"h" * (1 << 20) + b"x\nrow\n")
    with pytest.raises(IngestError, match="longer than 1 MiB"):
        _line_at(path)
