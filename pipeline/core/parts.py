"""The fingerprints of a daily table's days, recorded by the table's writer as it writes them.

What a day of a table holds is summed up as its rows and a fingerprint of them (the sum of the rows'
hashes, sql/core/parts/fingerprints.sql). The published snapshot (pipeline/activation/publish.py)
compares them with the last version's to write only the days that changed; hashing a large table
(40 M attribution credits at SF1) every night to find the one day that changed costs seconds, while
the writer holds that day's rows anyway. So a writer may *record* them (``part_fingerprints``), and
then every writer of that table keeps the records true:

- the table's own writer calls :func:`record_parts` in the transaction that replaces days: those days
  are fingerprinted and recorded (and, when the records do not add up to the table's rows, any other
  day without a valid record, the first time all);
- any other writer that deletes rows from it (``nightjar forget``, retention) calls
  :func:`refresh_parts` afterwards: the days whose row count no longer equals their record (a delete
  always lowers it) are fingerprinted again, the records of days that are gone dropped.

:func:`fresh_parts` is what a reader asks: the fingerprint of every day, from the records, the days
without a valid record hashed. A record is valid only for the columns and types of the table it was
made of, and only while the day's row count equals it; a table without any record (its writer does
not record) gets ``None``: hash it whole, as before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb

from pipeline.core.sql import ident, sql
from pipeline.core.warehouse import scalar, table_exists

PARTS = "part_fingerprints"


def fingerprints_sql(select: str, day: str | None) -> str:
    """sql/core/parts/fingerprints.sql over ``select`` (a SELECT without a trailing semicolon), per
    ``day`` (a column of it) or as one part (``day`` None)."""
    fragments = {"day": ident(day) if day else "NULL", "select": select}
    return sql("core/parts/fingerprints", fragments=fragments)


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> str:
    return str(scalar(con, sql("core/parts/columns"), {"table": table}))


def _of_days(table: str, day: str) -> str:
    """parts/fingerprints.sql over the rows of ``table`` whose ``day`` is one of $days."""
    select = sql("core/parts/select_days", idents={"table": table, "day": day}).rstrip().rstrip(";")
    return fingerprints_sql(select, day).rstrip().rstrip(";")


def _record(
    con: duckdb.DuckDBPyConnection, table: str, day: str, days: Sequence[dt.date], columns: str
) -> None:
    """Fingerprint ``table``'s rows of ``days`` and record them (the days' old records replaced)."""
    con.execute(sql("core/parts/clear"), {"table": table, "days": list(days)})
    query = sql("core/parts/record", fragments={"fingerprints": _of_days(table, day)})
    con.execute(query, {"table": table, "day_column": day, "columns": columns, "days": list(days)})


def record_parts(con: duckdb.DuckDBPyConnection, table: str, day: str, first: dt.date, last: dt.date) -> None:
    """The writer's call, in the transaction that replaced the days ``first`` to ``last`` of ``table``
    (partitioned by its column ``day``): record those days' rows and fingerprints, and those of any
    other day without a valid record (all of them the first time)."""
    con.execute(sql("core/parts/create"))
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    columns = _columns(con, table)
    _record(con, table, day, days, columns)
    if not _all_recorded(con, table, day, columns):
        fresh_parts(con, table, day)


def _all_recorded(con: duckdb.DuckDBPyConnection, table: str, day: str, columns: str) -> bool:
    """Whether the records of ``table`` (per ``day``, of its ``columns``) add up to its row count (read
    from the table's metadata, not its rows): then every day is recorded, short of a day that lost rows
    without :func:`refresh_parts` just as another one without a record gained as many. A reader checks
    each day's count against its record anyway (:func:`fresh_parts`), so such a day costs a hash, not
    a wrong fingerprint; counting every day's rows (0.1-0.25 s a night at SF1) is left to it."""
    query = sql("core/parts/all_recorded", idents={"table": table})
    return bool(scalar(con, query, {"table": table, "day_column": day, "columns": columns}))


def _recorded(con: duckdb.DuckDBPyConnection, table: str) -> str | None:
    """The day column of ``table`` when its days have recorded fingerprints, else None."""
    if not table_exists(con, PARTS):
        return None
    column = scalar(con, sql("core/parts/day_column"), {"table": table})
    return str(column) if column is not None else None


def _valid(con: duckdb.DuckDBPyConnection, table: str, columns: str) -> dict[str, list]:
    """The records of ``table`` made of its ``columns`` as they are now: per day, [rows, fingerprint]."""
    rows = con.execute(sql("core/parts/recorded"), {"table": table, "columns": columns}).fetchall()
    return {d: [n, fp] for d, n, fp in rows}


def fresh_parts(
    con: duckdb.DuckDBPyConnection, table: str, day: str | None = None, record: bool = True
) -> dict[str, list] | None:
    """Per day (ISO date) of ``table``: [rows, fingerprint], as parts/fingerprints.sql gives them for
    ``SELECT * FROM table``, from the records; the days without a valid record (made of other columns,
    of another row count, or none) fingerprinted now, and with ``record`` recorded (the records of
    days the table no longer holds dropped). None when the table has no records (its writer does not
    record them), when they are per another column than ``day`` (when given), or when the table holds
    a row without a day: hash it whole."""
    recorded_by = _recorded(con, table)
    if recorded_by is None or (day is not None and day != recorded_by):
        return None
    columns = _columns(con, table)
    counts = dict(
        con.execute(sql("core/parts/counts", idents={"table": table, "day": recorded_by})).fetchall()
    )
    if None in counts:
        return None
    parts = _valid(con, table, columns)
    stale = [dt.date.fromisoformat(d) for d, n in counts.items() if parts.get(d, [None])[0] != n]
    if record:
        con.execute(
            sql("core/parts/clear_others"), {"table": table, "days": [*map(dt.date.fromisoformat, counts)]}
        )
        if stale:
            _record(con, table, recorded_by, stale, columns)
            parts = _valid(con, table, columns)
    elif stale:
        hashed = con.execute(_of_days(table, recorded_by), {"days": stale}).fetchall()
        parts |= {d: [n, fp] for d, n, fp in hashed}
    return {d: parts[d] for d in sorted(counts)}


def refresh_parts(con: duckdb.DuckDBPyConnection, tables: Sequence[str]) -> None:
    """After deleting rows of ``tables`` (``nightjar forget``, retention): the records of their days
    made true again (:func:`fresh_parts`; tables without records are left alone)."""
    for table in tables:  # a loop over tables, not rows
        fresh_parts(con, table)
