"""The raw text of the records the reader rejected for their bytes (field ``encoding``).

DuckDB's reject table gives such a record's line with each byte that is not UTF-8 made a ``?``,
and sometimes the byte after it too, a delimiter included (``Caf\\xe9,u2`` comes as ``Caf??u2``):
the cells of that raw text can no longer be told apart (``nightjar forget`` looks for an
identifier as a cell of it). Those lines are read again from the file's bytes instead, by their
line numbers (line_scan.py), each byte that is not UTF-8 a U+FFFD, as a text editor shows them.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.sql import sql
from pipeline.ingest.line_scan import LineScan, scan_lines


def with_raw_lines(
    con: duckdb.DuckDBPyConnection,
    paths: list[Path],
    bad: pa.Table,
    raw: str,
    before: int | None = None,
    scans: dict[int, LineScan] | None = None,
) -> pa.Table:
    """``bad`` (the rejected records) with the ``raw`` text of those rejected for their bytes read
    again from their file (see the module).

    ``bad`` has ``line`` (the reader's line number), ``_file`` (the 1-based position of the record's
    file in ``paths``) when there are several, and ``bad_bytes`` (the record has bytes that are not
    the encoding; every record when it is absent). With ``before`` (delimited files: the lines before
    the first record) a file's lines are read again only when each later line is one record, blank
    lines aside (the reader's line numbers are the file's then), counted against the file's records
    in ``_read`` (``file_index``) and in ``bad``; else its raw text stays the reader's. ``scans``, if
    given, gets the scan of each file read again (by its 1-based position), for the caller to reuse.
    """
    n = bad.num_rows
    mask = _column(bad, "bad_bytes", np.ones(n, dtype=bool)).astype(bool)
    if not mask.any():
        return bad
    files = _column(bad, "_file", np.ones(n, dtype=np.int64)).astype(np.int64)
    line = bad.column("line").to_numpy().astype(np.int64)
    texts = np.full(n, None, dtype=object)
    done = np.zeros(n, dtype=bool)
    good = _records(con, len(paths)) if before is not None else None
    for i in np.unique(files[mask]):  # a loop over the files with such records, not over rows
        rows = mask & (files == i)
        numbers = np.unique(line[rows])
        lines = scan_lines(paths[i - 1], wanted=numbers)
        if scans is not None:
            scans[int(i)] = lines
        records = None if good is None else int(good[i - 1] + (files == i).sum())
        if len(lines.texts) == len(numbers) and (
            records is None or lines.one_record_a_line(before or 0, records)
        ):
            texts[rows] = np.array(lines.texts, dtype=object)[np.searchsorted(numbers, line[rows])]
            done |= rows
    if not done.any():
        return bad
    column = pc.replace_with_mask(bad.column(raw), pa.array(done), pa.array(texts[done], pa.string()))
    return bad.set_column(bad.schema.get_field_index(raw), raw, column)


def _column(t: pa.Table, name: str, default: np.ndarray) -> np.ndarray:
    return t.column(name).to_numpy(zero_copy_only=False) if name in t.column_names else default


def _records(con: duckdb.DuckDBPyConnection, n_files: int) -> np.ndarray:
    """The number of records the reader kept of each file (0-based position) in ``_read``."""
    counts = np.zeros(n_files, dtype=np.int64)
    per_file = con.execute(sql("ingest/read/records_per_file")).fetchnumpy()
    index = np.asarray(per_file["file_index"], dtype=np.int64)
    counts[index] = np.asarray(per_file["records"], dtype=np.int64)
    return counts
