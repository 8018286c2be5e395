"""Writing: one transaction replaces the partition(s), their rejects, and records the load(s).

Invariant: rows_read = rows_loaded + rows_rejected (also a CHECK on the ``loads`` table). A file
that cannot be loaded gives a FAILED load and leaves the warehouse as it was.
"""

from __future__ import annotations

import csv
import datetime as dt
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import duckdb

from pipeline.core.catalog import register_customer_table
from pipeline.core.sql import ident, sql
from pipeline.core.warehouse import any_insert_order, scalar, table_exists, transaction
from pipeline.ingest.column_types import migrate_types, type_name
from pipeline.ingest.config import TransactionSpec
from pipeline.ingest.read import IngestError
from pipeline.ingest.sources.files import LandedFile, SourceError
from pipeline.ingest.typing import TypedColumn

LOADED, PROCESSED, FAILED = "LOADED", "PROCESSED", "FAILED"
# The columns Nightjar adds to every transaction table.
SYSTEM_COLUMNS = [("_load_id", "BIGINT"), ("_partition_date", "DATE"), ("_row_number", "BIGINT")]


@dataclass
class LoadResult:
    """What one load did; mirrors a row of the ``loads`` table."""

    source: str
    dataset: str
    file: str | None
    partition_date: dt.date | None
    status: str = FAILED
    load_id: int | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    error: str | None = None
    rejects_by_field: dict[str, int] = field(default_factory=dict)
    schema_changes: dict[str, str] = field(default_factory=dict)  # column -> added | discarded
    # a range file upserted by key (on its first load): the days of the earlier rows of its keys, deleted
    key_days: list[dt.date] = field(default_factory=list)
    # columns converted to the type their field is declared with now: column -> "OLD -> NEW"
    retyped: dict[str, str] = field(default_factory=dict)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def count_rows(con: duckdb.DuckDBPyConnection, result: LoadResult) -> None:
    rows = con.execute(
        "SELECT _field, count(*) FROM _typed WHERE _reason IS NOT NULL GROUP BY 1 ORDER BY 1"
    ).fetchall()
    result.rejects_by_field = {f: n for f, n in rows}
    result.rows_rejected = sum(result.rejects_by_field.values())
    result.rows_read = scalar(con, "SELECT count(*) FROM _typed")
    result.rows_loaded = result.rows_read - result.rows_rejected
    result.status = LOADED if result.rows_read else PROCESSED


def count_batch_rows(con: duckdb.DuckDBPyConnection, results: list[LoadResult]) -> None:
    """rows_read / rows_loaded / rows_rejected and rejects by field of each file of ``_typed``."""
    for r in results:
        r.rows_read, r.rejects_by_field = 0, {}
    for i, fld, n in con.execute(
        "SELECT _file, _field, count(*) FROM _typed WHERE _reason IS NOT NULL GROUP BY ALL ORDER BY 1, 2"
    ).fetchall():
        results[i - 1].rejects_by_field[fld] = n
    for i, n in con.execute("SELECT _file, count(*) FROM _typed GROUP BY _file").fetchall():
        results[i - 1].rows_read = n
    for r in results:
        r.rows_rejected = sum(r.rejects_by_field.values())
        r.rows_loaded = r.rows_read - r.rows_rejected
        r.status = LOADED if r.rows_read else PROCESSED


def replace_rejects(con: duckdb.DuckDBPyConnection, result: LoadResult, by_file: bool) -> None:
    """Replace the rejects of this partition (transactions) or of this file (customer data)."""
    if by_file:
        con.execute(sql("ingest/delete_file_rejects"), {"ds": result.dataset, "file": result.file})
    else:
        con.execute(
            sql("ingest/delete_partition_rejects"), {"ds": result.dataset, "d": result.partition_date}
        )
    con.execute(
        sql("ingest/insert_rejects"),
        {"load_id": result.load_id, "ds": result.dataset, "file": result.file, "d": result.partition_date},
    )


def record_load(
    con: duckdb.DuckDBPyConnection, result: LoadResult, f: LandedFile | None, started: dt.datetime
) -> None:
    """The ``loads`` row of one result."""
    record_loads(con, [result], [f], started)


def record_loads(
    con: duckdb.DuckDBPyConnection,
    results: Sequence[LoadResult],
    files: Sequence[LandedFile | None],
    started: dt.datetime,
) -> None:
    """One ``loads`` row per result, in one statement (a batch of a backfill records its 90 loads at once)."""
    con.execute(
        sql("ingest/record_load"),
        {
            "id": [r.load_id for r in results],
            "source": [r.source for r in results],
            "ds": [r.dataset for r in results],
            "file": [r.file for r in results],
            "size": [f.size if f else None for f in files],
            "mtime": [f.mtime if f else None for f in files],
            "d": [r.partition_date for r in results],
            "read": [r.rows_read for r in results],
            "loaded": [r.rows_loaded for r in results],
            "rejected": [r.rows_rejected for r in results],
            "status": [r.status for r in results],
            "error": [r.error for r in results],
            "started": started,
            "finished": now(),
        },
    )


def record_failure(
    con: duckdb.DuckDBPyConnection, result: LoadResult, f: LandedFile | None, started: dt.datetime, error: str
) -> LoadResult:
    """Record a FAILED load (nothing else changes) and return it."""
    result.status, result.error = FAILED, error
    result.rows_read = result.rows_loaded = result.rows_rejected = 0
    result.rejects_by_field, result.retyped = {}, {}
    result.load_id = scalar(con, "SELECT nextval('load_ids')")
    record_load(con, result, f, started)
    return result


def in_transaction(con: duckdb.DuckDBPyConnection, steps: list[Callable[[], None]]) -> None:
    with transaction(con):
        for step in steps:
            step()


def ensure_table(con: duckdb.DuckDBPyConnection, table: str, columns: list[tuple[str, str]]) -> None:
    """Create the table, or add the columns it lacks (a field declared later)."""
    if not table_exists(con, table):
        definitions = column_definitions(columns)
        con.execute(sql("core/create_table", idents={"table": table}, fragments={"definitions": definitions}))
        return
    have = set(table_columns(con, table))
    for n, t in columns:
        if n not in have:
            con.execute(sql("core/add_column", idents={"table": table, "column": n}, fragments={"type": t}))


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The columns of a table (none when it does not exist)."""
    rows = con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table])
    return [r[0] for r in rows.fetchall()]


# What reading a bad file can raise; each becomes a FAILED load with the message.
READ_ERRORS = (IngestError, SourceError, duckdb.Error, csv.Error, UnicodeError, OSError, EOFError, zlib.error)


def column_definitions(columns: list[tuple[str, str]]) -> str:
    """SQL: ``"name" TYPE, ...`` (the types are Nightjar's own, from typing.SQL_TYPES)."""
    return ", ".join(f"{ident(n)} {t}" for n, t in columns)


def column_list(names: Sequence[str]) -> str:
    """SQL: the quoted names, comma-separated."""
    return ", ".join(ident(n) for n in names)


def _prepare_table(con: duckdb.DuckDBPyConnection, spec: TransactionSpec, columns: list[TypedColumn]) -> None:
    ensure_table(con, spec.table, [(c.name, c.sql_type) for c in columns] + SYSTEM_COLUMNS)
    for kind in spec.customer_keys:  # so that `nightjar forget` reaches the feed's rows
        register_customer_table(con, spec.table, spec.customer_field, kind)


def retype(
    con: duckdb.DuckDBPyConnection, spec: TransactionSpec, columns: list[TypedColumn], result: LoadResult
) -> None:
    """Convert the columns whose field changed type (column_types.py), in the load's transaction, after
    its days' rows were deleted (a value they held need not convert); noted in ``result.retyped``."""
    changes = migrate_types(con, spec.name, spec.table, columns, by_key=spec.replaces == "none")
    result.retyped = {c.column.name: f"{type_name(c.old)} -> {type_name(c.new)}" for c in changes}


def schema_changes(con: duckdb.DuckDBPyConnection, spec: TransactionSpec, extra: list[str]) -> dict[str, str]:
    """What a file's undeclared columns change (before its write): ``added`` for a column the table
    does not have yet (``new_columns: evolve``), ``discarded`` for each one left out (``discard``)."""
    if not extra:
        return {}
    if spec.new_columns == "discard":
        return dict.fromkeys(extra, "discarded")
    have = {c.lower() for c in table_columns(con, spec.table)}
    return {n: "added" for n in extra if n.lower() not in have}


def record_schema_changes(con: duckdb.DuckDBPyConnection, result: LoadResult) -> None:
    """Record a load's schema changes in ``schema_changes`` (in the load's transaction)."""
    if not result.schema_changes:
        return
    con.execute(sql("ingest/create_schema_changes"))
    con.execute(
        sql("ingest/record_schema_changes"),
        {
            "ds": result.dataset,
            "columns": list(result.schema_changes),
            "changes": list(result.schema_changes.values()),
            "file": result.file,
            "load_id": result.load_id,
            "at": now(),
        },
    )


def replace_partition(
    con: duckdb.DuckDBPyConnection,
    spec: TransactionSpec,
    columns: list[TypedColumn],
    day: dt.date,
    result: LoadResult,
) -> None:
    """The good rows of ``_typed`` (one file, the load ``result``) replace the ``day`` partition of
    ``tx_<name>``."""
    _prepare_table(con, spec, columns)
    table = {"table": spec.table}
    con.execute(sql("ingest/delete_partition", idents=table), {"d": day})
    retype(con, spec, columns, result)
    if result.load_id is None:  # run_load gives it its id before the write step runs
        raise AssertionError("a load is written before it has an id")
    names = column_list([c.name for c in columns])
    con.execute(
        sql("ingest/insert_partition", idents=table, fragments={"columns": names}),
        {"id": result.load_id, "d": day},
    )


def replace_partitions(
    con: duckdb.DuckDBPyConnection,
    spec: TransactionSpec,
    columns: list[TypedColumn],
    results: list[LoadResult],
    files: list[LandedFile],
    started: dt.datetime,
) -> None:
    """In one transaction: the good rows of ``_typed`` (several files, ``_file`` = position) replace
    each file's day partition, the rejects of those days are replaced, and a load is recorded per file."""
    days = [r.partition_date for r in results]
    ids = [r.load_id for r in results]
    table = {"table": spec.table}
    names = column_list([c.name for c in columns])
    with transaction(con):
        _prepare_table(con, spec, columns)
        con.execute(sql("ingest/delete_partitions", idents=table), {"days": days})
        retype(con, spec, columns, results[0])
        with any_insert_order(con):  # nothing reads tx_<name> in its physical order
            con.execute(
                sql("ingest/insert_partitions", idents=table, fragments={"columns": names}),
                {"ids": ids, "days": days},
            )
        con.execute(sql("ingest/delete_partitions_rejects"), {"ds": spec.name, "days": days})
        con.execute(
            sql("ingest/insert_batch_rejects"),
            {"ids": ids, "ds": spec.name, "files": [f.name for f in files], "days": days},
        )
        record_loads(con, results, files, started)


def replace_range_days(
    con: duckdb.DuckDBPyConnection,
    spec: TransactionSpec,
    columns: list[TypedColumn],
    results: list[LoadResult],
    f: LandedFile,
    window: tuple[dt.date, dt.date],
    started: dt.datetime,
) -> None:
    """In one transaction: the good rows of ``_typed`` (a range file) go into their days'
    partitions, replacing those days (``replaces: covered_days``) or the rows of the same key
    (``replaces: none``); the rejects of the file's days are replaced; a load per day is recorded.
    ``results`` are the file's loads, one per day, the one of no day (if any) last."""
    table, tf = {"table": spec.table}, {"time_field": spec.time_field}
    days = [r.partition_date for r in results if r.partition_date is not None]
    undated = len(days) < len(results)
    ids = [r.load_id for r in results]
    span = {"first": window[0], "last": window[1]}
    names = column_list([c.name for c in columns])
    with transaction(con):
        _prepare_table(con, spec, columns)
        if days:
            if spec.replaces == "covered_days":
                con.execute(sql("ingest/delete_partitions", idents=table), {"days": days})
                con.execute(sql("ingest/delete_partitions_rejects"), {"ds": spec.name, "days": days})
                retype(con, spec, columns, results[0])
            else:  # converted first: the keys are compared in the types declared now
                retype(con, spec, columns, results[0])
                keys = column_list(spec.key)
                match = " AND ".join(f"t.{ident(k)} = k.{ident(k)}" for k in spec.key)
                fragments = {"key": keys, "match": match}
                found = con.execute(sql("ingest/key_days", idents=table | tf, fragments=fragments), span)
                results[0].key_days = [d for (d,) in found.fetchall()]  # one row per day, not per data row
                con.execute(sql("ingest/delete_by_key", idents=table | tf, fragments=fragments), span)
            con.execute(
                sql("ingest/insert_range_rows", idents=table | tf, fragments={"columns": names}),
                {"ids": ids[: len(days)], "days": days, **span},
            )
        if days or undated:
            con.execute(
                sql("ingest/delete_file_days_rejects"),
                {"ds": spec.name, "file": f.name, "days": days or [dt.date.min], "undated": undated},
            )
            con.execute(
                sql("ingest/insert_range_rejects", idents=tf),
                {
                    "ids": ids,
                    "days": [*days, *([None] if undated else [])],
                    "ds": spec.name,
                    "file": f.name,
                    **span,
                },
            )
        record_loads(con, results, [f] * len(results), started)
        record_schema_changes(con, results[0])


def failure_message(f: LandedFile, e: Exception) -> str:
    if isinstance(e, IngestError | SourceError):
        return str(e)
    return f"{f.name}: cannot load the file: {str(e).splitlines()[0] if str(e) else type(e).__name__}"


def run_load(
    con: duckdb.DuckDBPyConnection,
    result: LoadResult,
    f: LandedFile,
    prepare: Callable[[], Callable[[], None]],
    rejects_by_file: bool,
) -> LoadResult:
    """Read and type a file with ``prepare`` (which returns the write step), then write it all in
    one transaction: the step, the rejects and the load. A file that cannot be loaded gives a
    FAILED load and leaves the warehouse as it was."""
    started = now()
    try:
        write = prepare()
        count_rows(con, result)
        result.load_id = scalar(con, "SELECT nextval('load_ids')")
    except READ_ERRORS as e:
        return record_failure(con, result, f, started, failure_message(f, e))
    try:
        in_transaction(
            con,
            [
                write,
                lambda: replace_rejects(con, result, rejects_by_file),
                lambda: record_load(con, result, f, started),
            ],
        )
    except duckdb.IOException:
        raise  # the warehouse cannot be written (full disk...): not the file's fault, nothing to record
    except READ_ERRORS as e:
        return record_failure(con, result, f, started, failure_message(f, e))
    return result


def record_missing_file(
    con: duckdb.DuckDBPyConnection, source: str, dataset: str, day: dt.date, error: str
) -> LoadResult:
    """Record a FAILED load for a partition whose file is not there; the partition stays as it was."""
    result = LoadResult(source=source, dataset=dataset, file=None, partition_date=day)
    return record_failure(con, result, None, now(), error)


def record_empty_day(
    con: duckdb.DuckDBPyConnection, source: str, spec: TransactionSpec, day: dt.date
) -> LoadResult:
    """A day without a file in a dataset with ``missing_file: empty``: as a header-only file would,
    its partition and rejects are emptied and a PROCESSED load of 0 rows is recorded."""
    result = LoadResult(source=source, dataset=spec.name, file=None, partition_date=day, status=PROCESSED)
    started = now()
    result.load_id = scalar(con, "SELECT nextval('load_ids')")
    with transaction(con):
        if table_exists(con, spec.table):
            con.execute(sql("ingest/delete_partition", idents={"table": spec.table}), {"d": day})
        con.execute(sql("ingest/delete_partition_rejects"), {"ds": spec.name, "d": day})
        record_load(con, result, None, started)
    return result
