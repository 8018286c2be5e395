"""Range files: one file that holds many days, each row into the partition of its time_field day.

Loading a range file replaces exactly the days it covers (``replaces: covered_days``, the
default), or upserts its rows by ``key`` (``replaces: none``, for append-only feeds). ``loads``
gets one row per day the file touches (and one of no day for the rows whose time is missing or
unreadable), so rows_read = rows_loaded + rows_rejected holds per file and per day. An asset run
loads the rows of its window's days only; an upload without a date loads every day of the file.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from pipeline.core.sql import ident, sql
from pipeline.ingest.config import TransactionSpec
from pipeline.ingest.sources.files import LandedFile
from pipeline.ingest.transactions import field_columns, new_columns, read_transaction_file
from pipeline.ingest.typing import GOOD, type_rows
from pipeline.ingest.write import (
    LOADED,
    PROCESSED,
    READ_ERRORS,
    LoadResult,
    failure_message,
    now,
    record_failure,
    replace_range_days,
    schema_changes,
)

# The first and last day (inclusive) whose rows a load takes: every day, or an asset run's window.
Window = tuple[dt.date, dt.date]
EVERY_DAY: Window = (dt.date(1, 1, 1), dt.date(9999, 12, 31))


def key_checks(spec: TransactionSpec) -> list[tuple[str, str, str]]:
    """With a ``key``, a good row whose key a later good row of the file repeats is rejected (the last
    good row wins; a row rejected for its own values takes no part)."""
    if not spec.key:
        return []
    keys = ", ".join(ident(k) for k in spec.key)
    later = f"{GOOD} AND _row_number < max(_row_number) FILTER (WHERE {GOOD}) OVER (PARTITION BY {keys})"
    reason = "'key: a later row of the file has the same ' || $keyname || ' (the last one is kept)'"
    return [("key", later, reason)]


def day_results(
    con: duckdb.DuckDBPyConnection, spec: TransactionSpec, source: str, f: LandedFile, window: Window
) -> list[LoadResult]:
    """One result per day of ``_typed`` in the window (None last: the rows without a day), counted."""
    counts = con.execute(
        sql("ingest/range_day_counts", idents={"time_field": spec.time_field}),
        {"first": window[0], "last": window[1]},
    ).fetchall()
    by_day: dict[dt.date | None, LoadResult] = {}
    for day, fld, n in counts:  # one row per day and field at fault, not per data row
        r = by_day.setdefault(
            day, LoadResult(source=source, dataset=spec.name, file=f.name, partition_date=day)
        )
        r.rows_read += n
        if fld is not None:
            r.rejects_by_field[fld] = n
    for r in by_day.values():
        r.rows_rejected = sum(r.rejects_by_field.values())
        r.rows_loaded = r.rows_read - r.rows_rejected
        r.status = LOADED
    results = list(by_day.values())
    # a file without rows in the window: one PROCESSED load of no day, so the file is known as read
    return results or [LoadResult(source, spec.name, f.name, None, status=PROCESSED)]


def ingest_range_file(
    con: duckdb.DuckDBPyConnection,
    spec: TransactionSpec,
    source: str,
    f: LandedFile,
    window: Window = EVERY_DAY,
) -> list[LoadResult]:
    """Load the rows of ``f`` whose day is in ``window`` into their days' partitions; never raises
    for a bad file (a file that cannot be read gives one FAILED load of no day and changes nothing)."""
    started = now()
    try:
        extra = read_transaction_file(con, spec, f)
        columns = field_columns(spec, f.format) + new_columns(spec, extra)
        params = {"keyname": ", ".join(spec.key)} if spec.key else {}
        type_rows(con, columns, key_checks(spec), params, null_values=spec.null_values)
        results = day_results(con, spec, source, f, window)
        ids = con.execute(
            "SELECT nextval('load_ids') FROM range($n) ORDER BY 1", {"n": len(results)}
        ).fetchall()
        for r, (load_id,) in zip(results, ids, strict=True):
            r.load_id = load_id
        results[0].schema_changes = schema_changes(con, spec, extra)  # recorded with the file's first load
    except READ_ERRORS as e:
        failed = LoadResult(source=source, dataset=spec.name, file=f.name, partition_date=None)
        return [record_failure(con, failed, f, started, failure_message(f, e))]
    try:
        replace_range_days(con, spec, columns, results, f, window, started)
    except duckdb.IOException:
        raise  # the warehouse cannot be written (full disk...): not the file's fault, nothing to record
    except READ_ERRORS as e:
        failed = LoadResult(source=source, dataset=spec.name, file=f.name, partition_date=None)
        return [record_failure(con, failed, f, started, failure_message(f, e))]
    return results


def covered_days(results: list[LoadResult]) -> list[dt.date]:
    """The days a range file's loads touched (the partitions it changed): the days of its rows, and
    with ``replaces: none`` the days the earlier rows of its keys were deleted from."""
    loaded = [r for r in results if r.status == LOADED]
    days = {r.partition_date for r in loaded if r.partition_date is not None}
    return sorted(days.union(*(r.key_days for r in loaded)))


# Why a day outside a run's partitions changed (see changed_outside)
MOVED_AWAY = "moved"
LOADED_INTO = "loaded"


def changed_outside(results: list[LoadResult], window: Window) -> dict[dt.date, list[tuple[str, str]]]:
    """The days outside ``window`` (a run's partitions) that range files' loads changed, each with the
    (file, why) of every load that changed it: ``moved`` when an upsert by key (``replaces: none``)
    deleted the earlier row of a key from it, ``loaded`` when rows were loaded into it (an API's records
    go to their own days whatever the run's partitions)."""
    out: dict[dt.date, list[tuple[str, str]]] = {}
    for r in results:  # one result per file and day, not per row
        if r.status != LOADED or r.file is None:
            continue
        changes = [(d, MOVED_AWAY) for d in r.key_days]
        if r.partition_date is not None:
            changes.append((r.partition_date, LOADED_INTO))
        for day, why in changes:
            if not window[0] <= day <= window[1] and (r.file, why) not in out.get(day, []):
                out.setdefault(day, []).append((r.file, why))
    return dict(sorted(out.items()))
