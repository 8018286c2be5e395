"""Customer files applied together: a backfill's daily customer files in one read, typing and transaction.

Files applied one after the other in mode ``update`` (an upsert by customuid) give what applying their
good rows at once gives: each customer takes the row of the last file that has it, keeps the first day
it was seen (before these files, else the day of the first of them that has it), and each file keeps its
own load, rejects and row numbers. Consecutive CSV files with the same header go together; any other
file (the JSON form, another mode, a header of its own) and any batch that cannot be loaded together
goes through ``ingest_customers``, file by file, which gives it its own outcome and message.
"""

from __future__ import annotations

from contextlib import ExitStack

import duckdb

from pipeline.core.catalog import CUSTOMER_ID, register_customer_table
from pipeline.core.sql import ident, sql
from pipeline.core.warehouse import table_exists, transaction
from pipeline.ingest.config import CustomersSpec
from pipeline.ingest.customers import (
    CUSTOMERS,
    check_customer_columns,
    check_mode,
    duplicate_check,
    hash_emails,
    ingest_customers,
)
from pipeline.ingest.header import file_header
from pipeline.ingest.limits import guarded, mark_long_records
from pipeline.ingest.read import (
    DEFAULT_DIALECT,
    NotBatchable,
    check_readable,
    drop_batch_tables,
    read_csv_batch,
)
from pipeline.ingest.sources.files import LandedFile
from pipeline.ingest.typing import MULTI_VALUE_COLUMNS, customer_column, type_rows
from pipeline.ingest.write import READ_ERRORS, LoadResult, count_batch_rows, now, record_loads

BATCH_BYTES = 256 << 20  # at most this many bytes of customer files are read together


def _batch_key(spec: CustomersSpec, f: LandedFile) -> tuple | None:
    """What files must share to be applied together (compression and header), or None when the file
    is applied alone (not CSV, not mode update, an empty file or a header that cannot be read)."""
    if spec.mode != "update" or f.format != "csv":
        return None
    try:
        check_readable(f)
        header = file_header(f.path, spec.encoding)
        return (f.name.lower().endswith(".gz"), tuple(header.names), header.trailing)
    except READ_ERRORS:
        return None


def _groups(spec: CustomersSpec, files: list[LandedFile]) -> list[list[LandedFile]]:
    """Runs of consecutive files with the same key (at most BATCH_BYTES each), in order; a file
    without a key is a run of its own."""
    out: list[list[LandedFile]] = []
    size, prev = 0, None
    for f in files:  # a loop over files, not rows
        key = _batch_key(spec, f)
        if key is not None and out and key == prev and size + f.size <= BATCH_BYTES:
            out[-1].append(f)
            size += f.size
        else:
            out.append([f])
            size = f.size
        prev = key
    return out


def _text_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The text columns of ``_rows`` in their order (what a rejected row's raw text is made of)."""
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = '_rows' AND database_name = 'temp' "
        "ORDER BY column_index"
    ).fetchall()
    system = {"_file", "_row_number", "_raw", "_error", "_error_field"}
    return [n for (n,) in rows if n not in system]


def _read_and_type(con: duckdb.DuckDBPyConnection, spec: CustomersSpec, files: list[LandedFile]) -> list[str]:
    """``_typed`` of the files (``_file`` = 1-based position), as ingest_customers types one file;
    returns the data set's column names."""
    header = file_header(files[0].path, spec.encoding)
    names = header.names
    max_line = spec.limits.max_record_bytes
    with ExitStack() as stack:  # the files as guarded (a long line replaced by a marker)
        read = [
            stack.enter_context(guarded(f, spec.limits, spec.encoding, header.width, DEFAULT_DIALECT))
            for f in files
        ]
        read_csv_batch(con, read, spec.encoding, names, DEFAULT_DIALECT, max_line)
    mark_long_records(con, spec.limits)
    check_customer_columns(files[0], names)
    if "email" in names:
        hash_emails(con)
        names = [("emailsha256" if n == "email" else n) for n in names]
    check_mode(con, files[0], "update", names)
    columns = [customer_column(n) for n in names]
    type_rows(con, columns, [duplicate_check(by=("_file",))], carry=("_file",), raw_of=_text_columns(con))
    con.execute("DROP TABLE _rows")  # _typed keeps the raw text of the rejected rows
    return names


def _apply(
    con: duckdb.DuckDBPyConnection, names: list[str], results: list[LoadResult], files: list[LandedFile]
) -> None:
    """In one transaction: the good rows of ``_typed`` upserted into ``customers``, the files'
    rejects replaced, a load recorded per file."""
    ids = [r.load_id for r in results]
    days = [f.day for f in files]
    register_customer_table(con, CUSTOMERS, "customuid", CUSTOMER_ID)
    for column in ("customuid", *MULTI_VALUE_COLUMNS):
        if column in names:
            register_customer_table(con, CUSTOMERS, column, column)
    con.execute(sql("ingest/customer_batch_seen"))
    con.execute("DELETE FROM customers WHERE customuid IN (SELECT customuid FROM _seen)")
    columns = {
        "columns": ", ".join(ident(n) for n in names),
        "typed_columns": ", ".join("t." + ident(n) for n in names),
    }
    con.execute(sql("ingest/insert_customer_batch", fragments=columns), {"ids": ids, "days": days})
    con.execute("DROP TABLE _seen")
    files_of = {"ds": CUSTOMERS, "files": [f.name for f in files]}
    con.execute(sql("ingest/delete_files_rejects"), files_of)
    con.execute(sql("ingest/insert_batch_rejects"), {**files_of, "ids": ids, "days": days})


def _ingest_batch(
    con: duckdb.DuckDBPyConnection, spec: CustomersSpec, source: str, files: list[LandedFile]
) -> list[LoadResult]:
    """Apply files together (see the module); raises NotBatchable when they must be applied one by one."""
    started = now()
    results = [LoadResult(source=source, dataset=CUSTOMERS, file=f.name, partition_date=f.day) for f in files]
    try:
        if not table_exists(con, CUSTOMERS):
            raise NotBatchable("the first customer file creates the data set alone")
        names = _read_and_type(con, spec, files)
        count_batch_rows(con, results)
        ids = con.execute("SELECT nextval('load_ids') FROM range($n) ORDER BY 1", {"n": len(files)})
        for r, (load_id,) in zip(results, ids.fetchall(), strict=True):
            r.load_id = load_id
    except (*READ_ERRORS, NotBatchable) as e:
        raise NotBatchable(str(e)) from e
    try:
        with transaction(con):
            _apply(con, names, results, files)
            record_loads(con, results, files, started)
    except duckdb.IOException:
        raise  # the warehouse cannot be written (full disk...): not the files' fault, nothing to record
    except READ_ERRORS as e:
        raise NotBatchable(str(e)) from e
    con.execute("DROP TABLE _typed")
    return results


def ingest_customer_files(
    con: duckdb.DuckDBPyConnection, spec: CustomersSpec, source: str, files: list[LandedFile]
) -> list[LoadResult]:
    """Apply customer files in order (each as ``ingest_customers`` would, in the config's mode); the
    results in the order of ``files``. Never raises for a bad file."""
    results: list[LoadResult] = []
    for group in _groups(spec, files):
        if len(group) > 1 and not table_exists(con, CUSTOMERS):  # the first file creates the data set
            results.append(ingest_customers(con, spec, source, group.pop(0)))
        done = None
        if len(group) > 1:
            try:
                done = _ingest_batch(con, spec, source, group)
            except NotBatchable:
                drop_batch_tables(con)
                con.execute("DROP TABLE IF EXISTS _seen")
        results += done if done is not None else [ingest_customers(con, spec, source, f) for f in group]
    return results
