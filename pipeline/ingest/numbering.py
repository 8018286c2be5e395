"""Record numbers: the 1-based number of each record of a file as read, where the reader's own line
positions count blank lines and its rejected records come apart from the good ones."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa


def number_rows(
    con: duckdb.DuckDBPyConnection, n_good: int, bad: np.ndarray, blanks: np.ndarray | None = None
) -> np.ndarray:
    """Number the good records of ``_read`` and return the bad records' numbers.

    The good records, in file order, are ``_numbered(rn, ...)``. ``bad`` and ``blanks`` are line
    positions as DuckDB's reader counts them (blank lines included); the numbers given out are
    record numbers, in which blank lines do not count.
    """
    bad = bad.astype(np.int64)
    if blanks is None and not len(
        bad
    ):  # the common case: every record is good, numbers follow the file order
        con.execute("CREATE OR REPLACE TEMP VIEW _numbered AS SELECT rowid + 1 AS rn, * FROM _read")
        return bad
    good, bad_numbers = record_numbers(n_good, bad, blanks)
    # the k-th good record (in the order _read holds them) gets the k-th number: a positional join
    con.register("_good_numbers", pa.table({"rn": good}))
    con.execute(
        "CREATE OR REPLACE TEMP VIEW _numbered AS "
        "SELECT n.rn, r.* FROM _read r POSITIONAL JOIN _good_numbers n"
    )
    return bad_numbers


def record_numbers(
    n_good: int, bad: np.ndarray, blanks: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The record numbers of a file's ``n_good`` good records (in file order) and of its bad ones.

    ``bad`` and ``blanks`` are line positions as DuckDB's reader counts them (blank lines
    included); record numbers do not count blank lines.
    """
    bad = bad.astype(np.int64)
    blanks = np.sort(blanks.astype(np.int64)) if blanks is not None else np.array([], dtype=np.int64)
    taken = np.union1d(bad, blanks)
    if not len(taken):
        return np.arange(1, n_good + 1, dtype=np.int64), bad
    total = n_good + len(taken)
    good = np.setdiff1d(np.arange(1, total + 1, dtype=np.int64), taken, assume_unique=True)[:n_good]
    good -= np.searchsorted(blanks, good)
    return good, bad - np.searchsorted(blanks, bad)


def drop_numbering(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP VIEW IF EXISTS _numbered")
    con.unregister("_good_numbers")
