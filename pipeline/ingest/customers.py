"""Customer data: create / update / overwrite the ``customers`` table, file by file.

A customer file goes through the same read, typing and write as a transaction file; its columns
are typed by their names (typing.customer_column) and its rejects are kept per file.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from pipeline.core.catalog import CUSTOMER_ID, register_customer_table
from pipeline.core.settings import IDENTIFIER
from pipeline.core.sql import ident, sql
from pipeline.core.warehouse import scalar, table_exists
from pipeline.ingest.config import CustomersSpec, Limits
from pipeline.ingest.dialect import json_problem
from pipeline.ingest.header import check_unique, file_header
from pipeline.ingest.limits import guarded, mark_long_records, scan
from pipeline.ingest.read import (
    DEFAULT_DIALECT,
    IngestError,
    check_readable,
    read_csv_rows,
    read_error,
)
from pipeline.ingest.sources.files import LandedFile, version_of
from pipeline.ingest.typing import (
    CUSTOMER_ID_COLUMNS,
    CUSTOMER_PREFIXES,
    GOOD,
    MULTI_VALUE_COLUMNS,
    customer_column,
    split_values,
    type_rows,
)
from pipeline.ingest.write import LoadResult, ensure_table, run_load

CUSTOMERS = "customers"
JSON_DOCUMENT_BYTES = 256 << 20  # the JSON form of customer data is parsed whole: at most this, decompressed
CUSTOMER_SYSTEM_COLUMNS = [("_first_seen_at", "DATE"), ("_updated_at", "DATE"), ("_load_id", "BIGINT")]


def read_customer_json_rows(con: duckdb.DuckDBPyConnection, f: LandedFile, limits: Limits) -> list[str]:
    """Read the JSON form of customer data, ``{"header": [...], "data": [[...], ...]}``, into ``_rows``.

    The document is parsed whole, so it is first checked on a streamed pass (a ``.gz`` is
    decompressed as it goes, never in Python's memory): at most ``limits.max_uncompressed_bytes``
    and JSON_DOCUMENT_BYTES once decompressed. DuckDB then reads it, within its memory limit."""
    path = f.path
    size = scan(f, limits, records=False).size
    if size > JSON_DOCUMENT_BYTES:
        raise IngestError(
            f"{f.name}: the JSON form of customer data is read whole and may hold at most "
            f"{JSON_DOCUMENT_BYTES:,} bytes once decompressed (this one: {size:,}); "
            "give larger customer data as CSV"
        )
    if f.name.lower().endswith(".gz"):
        if size == 0:
            raise IngestError(f"{f.name}: the file is empty")
        query, params = sql("ingest/read/customer_json_gz"), {"p": str(path), "max": JSON_DOCUMENT_BYTES}
    else:
        query, params = sql("ingest/read/customer_json_plain"), {"p": str(path)}
    try:
        con.execute(query, params)
    except duckdb.Error as e:
        raise read_error(f, e) from None
    # one parse of the document per statement: each parse of a large one takes about five times its size
    # (three in one statement ran out of DuckDB's memory limit on a 100 MB file)
    length, valid = con.execute("SELECT length(content), json_valid(content) FROM _doc").fetchall()[0]
    if length == 0:
        raise IngestError(f"{f.name}: the file is empty")
    if not valid:
        raise IngestError(
            f"{f.name}: the file is not valid JSON: {json_problem(scalar(con, 'SELECT content FROM _doc'))}"
        )
    kinds = con.execute("SELECT json_type(content, ['$.header', '$.data']) FROM _doc").fetchall()[0][0]
    if kinds != ["ARRAY", "ARRAY"]:
        raise IngestError(f'{f.name}: customer JSON must be {{"header": [...], "data": [[...], ...]}}')
    header = con.execute("SELECT json_extract_string(content, '$.header[*]') FROM _doc").fetchall()[0][0]
    names = [(h or "").strip() for h in header]
    if "" in names:
        raise IngestError(f"{f.name}: the header must name every column: {names}")
    check_unique(f.name, names)
    # A JSON array is a multi-value cell where the column takes several values, else an error.
    # __t / __s: the JSON type and the text of every value of an entry (one parse of the entry each)
    cells, nested = [], []
    for i, n in enumerate(names):
        t, v = f"__t[{i + 1}]", f"__s[{i + 1}]"
        cells.append(
            f"CASE WHEN _ok THEN CASE {t} "
            f"WHEN 'ARRAY' THEN array_to_string(json_extract_string({v}, '$[*]'), ',') "
            f"ELSE {v} END END AS {ident(n)}"
        )
        takes_list = n in MULTI_VALUE_COLUMNS or n == "email" or n.startswith("attr_")
        bad = "('OBJECT')" if takes_list else "('OBJECT', 'ARRAY')"
        nested.append(f"CASE WHEN _ok AND {t} IN {bad} THEN {i + 1} END")
    con.execute(
        sql("ingest/read/customer_json", fragments={"nested": ", ".join(nested), "cells": ", ".join(cells)}),
        {"n": len(names), "names": names, "paths": [f"$[{i}]" for i in range(len(names))]},
    )
    con.execute("DROP TABLE _doc")
    return names


def check_customer_columns(f: LandedFile, names: list[str]) -> None:
    unknown = [
        n for n in names if n not in (*CUSTOMER_ID_COLUMNS, "email") and not n.startswith(CUSTOMER_PREFIXES)
    ]
    if unknown:
        raise IngestError(
            f"{f.name}: unknown customer column(s) {unknown}: columns are customuid, emailsha256 (or email), "
            f"idfa, dmpid, or start with {', '.join(CUSTOMER_PREFIXES)}"
        )
    odd = [n for n in names if not IDENTIFIER.match(n)]
    if odd:  # a name every later stage accepts: SQL identifiers, model feature names, the API
        raise IngestError(
            f"{f.name}: column name(s) {odd} may hold only letters, digits and _ (and not start with a digit)"
        )
    if "customuid" not in names:
        raise IngestError(f"{f.name}: the required column customuid is missing; the file has {names}")
    if "email" in names and "emailsha256" in names:
        raise IngestError(f"{f.name}: give either email or emailsha256, not both")


def hash_emails(con: duckdb.DuckDBPyConnection) -> None:
    """Replace the plain `email` column by `emailsha256` (SHA-256 of the lower-cased, trimmed address).

    The raw text of every row is dropped too, so a plain address never reaches the warehouse,
    not even the rejects table.
    """
    con.execute(sql("ingest/hash_emails", fragments={"hashed": split_values("email", lower=True)}))


def _dataset_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    system = {n for n, _ in CUSTOMER_SYSTEM_COLUMNS}
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [CUSTOMERS],
    ).fetchall()
    return [r[0] for r in rows if r[0] not in system]


def check_mode(con: duckdb.DuckDBPyConnection, f: LandedFile, mode: str, names: list[str]) -> None:
    have = _dataset_columns(con)
    missing = [n for n in have if n not in names]
    extra = [n for n in names if n not in have]
    if mode == "create":
        raise IngestError(
            f"{f.name}: mode create makes a new data set, but `customers` exists already; "
            "use update or overwrite"
        )
    if mode == "update" and (missing or extra):
        raise IngestError(
            f"{f.name}: mode update needs exactly the data set's columns {have}; "
            f"missing {missing}, not in the data set {extra} (use overwrite to add columns)"
        )
    if mode == "overwrite" and missing:
        raise IngestError(
            f"{f.name}: mode overwrite may add columns but may not drop or rename one; missing {missing}"
        )


def duplicate_check(by: tuple[str, ...] = ()) -> tuple[str, str, str]:
    """type_rows' check that rejects a good row whose ``customuid`` an earlier good row of its file
    has (the first good row is applied; a row rejected for its own values takes no part). ``by``: the
    columns that tell the files apart when several are typed at once."""
    within = ", ".join([*map(ident, by), "customuid"])
    first = f"min(_row_number) FILTER (WHERE {GOOD}) OVER (PARTITION BY {within})"
    return (
        "customuid",
        f"{GOOD} AND customuid IS NOT NULL AND _row_number > {first}",
        f"'customuid: ''' || customuid || ''' appears again in the file (first at row ' || {first} || ')'",
    )


def ingest_customers(
    con: duckdb.DuckDBPyConnection, spec: CustomersSpec, source: str, f: LandedFile, mode: str | None = None
) -> LoadResult:
    """Apply one customer file to the ``customers`` table in ``mode`` (default: the config's).

    The first file creates the data set whatever the mode. A file that cannot be applied gives a
    FAILED load and leaves ``customers`` as it was.
    """
    mode = mode or spec.mode
    result = LoadResult(source=source, dataset=CUSTOMERS, file=f.name, partition_date=f.day)

    def prepare() -> Callable[[], None]:
        check_readable(f)
        if f.format == "json":
            names = read_customer_json_rows(con, f, spec.limits)
        else:
            n = file_header(f.path, spec.encoding).width
            with guarded(f, spec.limits, spec.encoding, n, DEFAULT_DIALECT) as g:
                names = read_csv_rows(con, g, spec.encoding, max_line=spec.limits.max_record_bytes)
            mark_long_records(con, spec.limits)
        check_customer_columns(f, names)
        if "email" in names:
            hash_emails(con)
            names = [("emailsha256" if n == "email" else n) for n in names]
        exists = table_exists(con, CUSTOMERS)
        if exists:
            check_mode(con, f, mode, names)
        columns = [customer_column(n) for n in names]
        type_rows(con, columns, [duplicate_check()])
        cols = ", ".join(ident(n) for n in names)

        def apply() -> None:
            ensure_table(con, CUSTOMERS, [(c.name, c.sql_type) for c in columns] + CUSTOMER_SYSTEM_COLUMNS)
            register_customer_table(con, CUSTOMERS, "customuid", CUSTOMER_ID)  # customuid IS the customer_id
            for column in ("customuid", *MULTI_VALUE_COLUMNS):
                if column in names:
                    register_customer_table(con, CUSTOMERS, column, column)
            con.execute(
                "CREATE OR REPLACE TEMP TABLE _seen AS SELECT customuid, _first_seen_at FROM customers "
                "WHERE customuid IN (SELECT customuid FROM _typed WHERE _reason IS NULL)"
            )
            if exists and mode == "overwrite":
                con.execute("DELETE FROM customers")
            else:
                con.execute("DELETE FROM customers WHERE customuid IN (SELECT customuid FROM _seen)")
            query = sql(
                "ingest/insert_customers",
                fragments={"columns": cols, "typed_columns": ", ".join("t." + ident(n) for n in names)},
            )
            con.execute(query, {"d": f.day, "id": result.load_id})
            con.execute("DROP TABLE _seen")

        return apply

    return run_load(con, result, f, prepare, rejects_by_file=True)


def files_to_apply(con: duckdb.DuckDBPyConnection, dataset: str, files: list[LandedFile]) -> list[LandedFile]:
    """The files (oldest first) to apply so that the data set reflects every file's current version.

    A file not loaded in its current version (name + size + mtime) is applied, and so is every
    later file: they were applied on top of the old version and must be applied again, in order.
    """
    done = {
        version_of(name, size, mtime)
        for name, size, mtime in con.execute(sql("ingest/loaded_files"), {"ds": dataset}).fetchall()
    }
    first = next((i for i, f in enumerate(files) if f.version not in done), len(files))
    return files[first:]
