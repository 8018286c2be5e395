"""Transactions: a day's file into its partition of ``tx_<name>``, or many days at once.

The one ingestion path: read (read.py) -> type (typing.py) -> write (write.py). Files of
consecutive days that share format and header are read, typed and written together; a file that
cannot go with others (Parquet, a header that does not fit, a reader that fails) goes through
the one-file path, which gives it its own outcome and message.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial

import duckdb

from pipeline.core.sql import ident, sql
from pipeline.ingest.batches import Job, even_runs, one_ahead
from pipeline.ingest.config import SYSTEM_COLUMNS, WHITESPACE, Limits, TransactionSpec
from pipeline.ingest.dialect import dialect_hint, name_json_problems
from pipeline.ingest.header import check_unique, file_header, read_header
from pipeline.ingest.limits import guarded, mark_long_records
from pipeline.ingest.read import (
    IngestError,
    NotBatchable,
    check_json_lines,
    check_readable,
    drop_batch_tables,
    physical_lines,
    read_csv_batch,
    read_csv_rows,
    read_jsonl_batch,
    read_jsonl_rows,
    read_parquet_rows,
)
from pipeline.ingest.sources.files import LandedFile
from pipeline.ingest.typing import TypedColumn, field_column, string_column, type_rows
from pipeline.ingest.write import (
    READ_ERRORS,
    LoadResult,
    count_batch_rows,
    now,
    record_schema_changes,
    replace_partition,
    replace_partitions,
    run_load,
    schema_changes,
)

BATCH_BYTES = 256 << 20  # at most this many bytes of files are read together (bounds the temp tables)


def _window_check(spec: TransactionSpec, start: str, end: str) -> tuple[str, str, str]:
    """The check that a row's time lies in its partition [``start``, ``end``) (SQL of parameters)."""
    tf = ident(spec.time_field)
    return (
        spec.time_field,
        f"{tf} IS NOT NULL AND ({tf} < {start} OR {tf} >= {end})",
        f"$tfname || ': ' || {tf}::VARCHAR || ' is outside the partition ' || {start}::VARCHAR",
    )


def field_columns(spec: TransactionSpec, fmt: str) -> list[TypedColumn]:
    """How each declared field of the dataset is typed and validated in a file of format ``fmt``;
    ``decimal_separator`` is of delimited files (JSON numbers and Parquet's are written with ``.``)."""
    comma = spec.decimal_separator == "," and fmt == "csv"
    return [field_column(x, spec.is_required(x), decimal_comma=comma) for x in spec.fields]


def read_transaction_file(con: duckdb.DuckDBPyConnection, spec: TransactionSpec, f: LandedFile) -> list[str]:
    """Read a file of the dataset into ``_rows``; returns its columns that no field declares (a
    file with any fails under ``new_columns: freeze``)."""
    check_readable(f)
    declared = [x.name for x in spec.fields]
    if f.format == "parquet":
        return check_new_columns(f, read_parquet_rows(con, f, spec))
    if f.format == "csv":
        header = file_header(f.path, spec.encoding, spec)
        names = header.names
        missing = [n for n in declared if n not in names]
        extra = [n for n in names if n not in declared]
        hint = dialect_hint(names, declared, spec) if missing or extra else None
        if hint:
            raise IngestError(f"{f.name}: {hint}")
        if missing:
            raise IngestError(f"{f.name}: missing column(s) {missing}; the file has {names}")
        check_frozen(f, spec, extra)
        with guarded(f, spec.limits, spec.encoding, header.width, spec) as g:
            read_csv_rows(con, g, spec.encoding, spec, spec.limits.max_record_bytes)
        mark_long_records(con, spec.limits)
        return check_new_columns(f, extra)
    check_json_lines(f)
    with guarded(f, spec.limits) as g:
        max_line = spec.limits.max_record_bytes
        read_jsonl_rows(con, g, spec.encoding, declared, spec.json_paths(), spec.list_fields(), max_line)
    mark_long_records(con, spec.limits)
    if not spec.reads_new_json_keys:
        return []  # by default keys of a JSON line that no field reads are not read
    return new_json_columns(con, f, spec)


def check_frozen(f: LandedFile, spec: TransactionSpec, extra: list[str]) -> None:
    """Under ``new_columns: freeze`` a file with undeclared columns fails, naming them."""
    if extra and spec.new_columns == "freeze":
        raise IngestError(
            f"{f.name}: column(s) {extra} are not declared fields of {spec.name!r}; "
            f"declare them under transactions[].fields or remove them from the file "
            "(or set `new_columns: evolve` or `discard`)"
        )


def new_json_columns(con: duckdb.DuckDBPyConnection, f: LandedFile, spec: TransactionSpec) -> list[str]:
    """The top-level keys of the JSON lines in ``_rows`` that no field reads, in order of appearance;
    with ``new_columns: evolve`` each becomes a text column of ``_rows`` (an object or array as its
    JSON text)."""
    known = spec.json_keys_read()
    extra = [k for (k,) in con.execute(sql("ingest/json_new_keys"), {"known": known}).fetchall()]
    check_frozen(f, spec, extra)
    check_unique(f.name, [*known, *extra])
    if extra and spec.new_columns == "evolve":
        values = ", ".join(f"__x[{i + 1}] AS {ident(k)}" for i, k in enumerate(extra))
        paths = ["$." + json.dumps(k) for k in extra]
        con.execute(sql("ingest/json_new_columns", fragments={"values": values}), {"paths": paths})
    return check_new_columns(f, extra)


def check_new_columns(f: LandedFile, extra: list[str]) -> list[str]:
    """New columns may not take the names of Nightjar's own columns."""
    taken = [n for n in extra if n.lower() in SYSTEM_COLUMNS]
    if taken:
        raise IngestError(f"{f.name}: column(s) {taken} use names Nightjar keeps for its own columns")
    return extra


def new_columns(spec: TransactionSpec, extra: list[str]) -> list[TypedColumn]:
    """The columns the table gains from a file's undeclared columns (``new_columns: evolve``)."""
    return [string_column(n) for n in extra] if spec.new_columns == "evolve" else []


def ingest_transaction(
    con: duckdb.DuckDBPyConnection, spec: TransactionSpec, source: str, f: LandedFile, day: dt.date
) -> LoadResult:
    """Load one file into the ``day`` partition of ``tx_<name>``; never raises for a bad file.

    A file that cannot be read at all gives a FAILED load and leaves the partition as it was.
    """
    return ingest_transactions(con, spec, source, [(day, f)])[0]


def _ingest_one(
    con: duckdb.DuckDBPyConnection, spec: TransactionSpec, source: str, f: LandedFile, day: dt.date
) -> LoadResult:
    """The one-file path: what a file that cannot be loaded with others goes through (its FAILED
    load and message come from here)."""
    result = LoadResult(source=source, dataset=spec.name, file=f.name, partition_date=day)

    def prepare() -> Callable[[], None]:
        extra = read_transaction_file(con, spec, f)
        columns = field_columns(spec, f.format) + new_columns(spec, extra)
        window_params = {"start": day, "end": day + dt.timedelta(days=1), "tfname": spec.time_field}
        type_rows(
            con,
            columns,
            [_window_check(spec, "$start", "$end")],
            window_params,
            null_values=spec.null_values,
            trimmed=_json_trimmed(spec, f),
        )

        def write() -> None:
            result.schema_changes = schema_changes(con, spec, extra)
            replace_partition(con, spec, columns, day, result)
            record_schema_changes(con, result)

        return write

    return run_load(con, result, f, prepare, rejects_by_file=False)


def _json_trimmed(spec: TransactionSpec, f: LandedFile) -> list[str]:
    """The columns a JSON-lines file's reader trims already (json_values): its declared fields."""
    return [x.name for x in spec.fields] if f.format not in ("csv", "parquet") else []


def _is_gz(f: LandedFile) -> bool:
    return f.name.lower().endswith(".gz")


def _batch_key(spec: TransactionSpec, f: LandedFile) -> tuple | None:
    """What files must share to be read together (format, compression, CSV header), or None when
    the file goes through the one-file path (Parquet, an empty file, a header that does not fit:
    that path gives it its FAILED load and message)."""
    try:
        check_readable(f)
        if f.format == "csv":
            if spec.delimiter == WHITESPACE:
                return None
            header = file_header(f.path, spec.encoding, spec)
            declared = {x.name for x in spec.fields}
            if set(header.names) != declared or len(header.names) != len(declared):
                return None
            return ("csv", _is_gz(f), tuple(header.names), header.trailing)
        if f.format == "jsonl":
            check_json_lines(f)
            # undeclared keys that new_columns governs are found per file (the one-file path)
            return None if spec.reads_new_json_keys else ("jsonl", _is_gz(f))
    except READ_ERRORS:
        return None
    return None


def _batch_groups(
    spec: TransactionSpec, inputs: list[tuple[dt.date, LandedFile]]
) -> list[tuple[list[int], bool]]:
    """Runs of consecutive ``inputs`` to be read together (same format and header; a run longer than
    BATCH_BYTES cut into batches of about equal size), in order, and whether the run goes through the
    batch path (else it is one file for the one-file path). Keeping the order keeps the load ids in
    the order of the days."""
    out: list[tuple[list[int], bool]] = []
    run: list[int] = []
    prev = None

    def flush() -> None:
        sizes = [inputs[i][1].size for i in run]
        out.extend(([run[j] for j in part], True) for part in even_runs(sizes, BATCH_BYTES))
        run.clear()

    for i, (_, f) in enumerate(inputs):
        key = _batch_key(spec, f)
        if key is None or key != prev:
            flush()
        if key is None:
            out.append(([i], False))
        else:
            run.append(i)
        prev = key
    flush()
    return out


@dataclass(frozen=True)
class Guarded:
    """A batch's files as the reader is to get them (see limits.guarded) and, for delimited files,
    their physical line counts (read.py asks for them for the files with rejected records)."""

    files: list[LandedFile]
    lines: list[int | None]


def _guard_job(spec: TransactionSpec, files: list[LandedFile]) -> Job[Guarded]:
    """The guard pass over a batch's files (limits, long lines, NUL bytes: limits.py) and the line
    counts of delimited files, as a job for one_ahead; the marked copies live until the batch is done."""

    def job(stack: ExitStack) -> Guarded:
        if files[0].format == "csv":
            n = file_header(files[0].path, spec.encoding, spec).width
            read = [stack.enter_context(guarded(f, spec.limits, spec.encoding, n, spec)) for f in files]
            return Guarded(read, [physical_lines(f.path) for f in files])
        return Guarded([stack.enter_context(guarded(f, spec.limits)) for f in files], [])

    return job


class _Marked(Exception):
    """The guard pass marked a file that was read while it ran: the batch is read again from the copies."""


def _read_while_guarded(f: LandedFile, limits: Limits) -> bool:
    """Whether the file may be read while its guard pass runs: a plain file no larger than the limits
    on bytes and lines (a line holds a byte at least) cannot pass them; the pass can then only find
    long lines or NUL bytes, and the file is read again from its marked copy if it does."""
    size = f.path.stat().st_size
    return not _is_gz(f) and size <= limits.max_uncompressed_bytes and size <= limits.max_rows


def _ingest_batch(
    con: duckdb.DuckDBPyConnection,
    spec: TransactionSpec,
    source: str,
    batch: list[tuple[dt.date, LandedFile]],
    guard: Callable[[], Guarded],
) -> list[LoadResult]:
    """Load files of ``spec`` that share their format and header, each into its own day's partition,
    with one read, one typing and one transaction; raises NotBatchable when they must be loaded one by
    one. ``guard()`` gives the files as the reader is to get them (see _guard_job; it raises for a
    file over the limits); the files are read while it runs when none can pass the limits."""
    started = now()
    days = [d for d, _ in batch]
    files = [f for _, f in batch]
    results = [LoadResult(source=source, dataset=spec.name, file=f.name, partition_date=d) for d, f in batch]
    declared = [x.name for x in spec.fields]
    max_line = spec.limits.max_record_bytes
    try:
        columns = field_columns(spec, files[0].format)
        window = _window_check(spec, "$starts[_file]", "$ends[_file]")
        params = {
            "starts": days,
            "ends": [d + dt.timedelta(days=1) for d in days],
            "tfname": spec.time_field,
        }

        def type_batch(names: list[str], rows: str, rows_params: dict) -> None:
            """``_typed`` of the batch from the query ``rows`` of its rows (``names``: their text
            columns, in order), typed straight from what was read; it keeps the raw text of the
            rejected rows."""
            type_rows(
                con,
                columns,
                [window],
                params | rows_params,
                carry=("_file",),
                null_values=spec.null_values,
                raw_of=names,
                rows=rows,
                trimmed=_json_trimmed(spec, files[0]),
            )

        def load(read: list[LandedFile]) -> None:
            """``_typed`` of the batch read from ``read`` (the files, or their marked copies); its
            typing waits for the guard pass, which may have marked a file read while it ran."""

            def typed(names: list[str], rows: str, rows_params: dict) -> None:
                if guard().files != read:
                    raise _Marked
                type_batch(names, rows, rows_params)

            def lines(i: int) -> int | None:  # the i-th file's lines, counted by the guard pass
                return guard().lines[i]

            if files[0].format == "csv":
                names = read_header(files[0].path, spec.encoding, spec)
                read_csv_batch(con, read, spec.encoding, names, spec, max_line, partial(typed, names), lines)
            else:
                json_fields = (spec.json_paths(), spec.list_fields())
                read_jsonl_batch(
                    con, read, spec.encoding, declared, partial(typed, declared), *json_fields, max_line
                )
                name_json_problems(con, typed=True)

        # plain files that cannot pass the limits are read while the guard pass runs on the worker
        # thread; one it marks (a long line, NUL bytes) is read again from its marked copy
        first = files if all(_read_while_guarded(f, spec.limits) for f in files) else guard().files
        try:
            load(first)
        except (_Marked, duckdb.Error):
            if first == guard().files:
                raise
            drop_batch_tables(con)  # (a line past the reader's buffer may fail the read)
            load(guard().files)
        mark_long_records(con, spec.limits, typed=True)
        count_batch_rows(con, results)
        ids = [
            i
            for (i,) in con.execute(
                "SELECT nextval('load_ids') FROM range($n) ORDER BY 1", {"n": len(results)}
            ).fetchall()
        ]
        for r, load_id in zip(results, ids, strict=True):
            r.load_id = load_id
    except (*READ_ERRORS, NotBatchable) as e:
        raise NotBatchable(str(e)) from e
    try:
        replace_partitions(con, spec, columns, results, files, started)
    except duckdb.IOException:
        raise  # the warehouse cannot be written (full disk...): not the files' fault, nothing to record
    except READ_ERRORS as e:
        raise NotBatchable(str(e)) from e
    con.execute("DROP TABLE _typed")  # its memory goes back before the next batch
    return results


def ingest_transactions(
    con: duckdb.DuckDBPyConnection,
    spec: TransactionSpec,
    source: str,
    inputs: list[tuple[dt.date, LandedFile]],
) -> list[LoadResult]:
    """Load each ``(day, file)`` into the ``day`` partition of ``tx_<name>`` (one file per day);
    the results in the order of ``inputs``. Never raises for a bad file.

    Files that share format and header are read, typed and written together (a backfill's days):
    one read of all of them, one typing, then one transaction replacing every one of their
    partitions, rejects and writing a ``loads`` row per file. The outcome of each file is the one
    ``ingest_transaction`` gives it alone; when they cannot be loaded together (one of them cannot
    be read, say) each is loaded alone, so a bad file fails alone and leaves its partition as it was.
    """
    if len({d for d, _ in inputs}) != len(inputs):
        raise ValueError("ingest_transactions: one file per day")
    groups = _batch_groups(spec, inputs)
    by_position: dict[int, LoadResult] = {}
    # the guard pass over the next batch's files runs on a thread while DuckDB loads the current one
    jobs = [_guard_job(spec, [inputs[i][1] for i in g]) if batchable else None for g, batchable in groups]
    with one_ahead(jobs) as prepared:
        for (group, _), guard in zip(groups, prepared, strict=True):
            batch = [inputs[i] for i in group]
            done = None
            if guard is not None:
                try:
                    done = _ingest_batch(con, spec, source, batch, guard)
                except NotBatchable:
                    drop_batch_tables(con)
                    done = None
            if done is None:
                done = [_ingest_one(con, spec, source, f, d) for d, f in batch]
            for i, r in zip(group, done, strict=True):
                by_position[i] = r
    results = [by_position[i] for i in range(len(inputs))]
    return results
