"""The one ingestion path: read -> type -> validate -> replace the partition -> record the load.

Every source hands over a file (or, later, Arrow batches) and everything after that is shared:

1. **read** the file into a temporary table ``_rows`` of text columns, one row per data record,
   with ``_row_number`` (1-based record number, header not counted) and, for a record that could
   not even be split into fields, ``_error``/``_error_field`` and the raw text in ``_raw``;
2. **type** every field to its declared type in one SQL statement and collect, per row, the
   reasons it is rejected (each reason names the field and the value);
3. **write** in one transaction: replace the partition, replace its rejects, record the load.

Invariant: rows_read = rows_loaded + rows_rejected (also a CHECK on the ``loads`` table).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from pipeline.core.catalog import CUSTOMER_ID, register_customer_table
from pipeline.core.formats import EPOCH_FORMATS, to_strptime
from pipeline.core.settings import FieldType
from pipeline.core.sql import ident, sql
from pipeline.core.warehouse import scalar, table_exists, transaction
from pipeline.ingest.config import CustomersSpec, FieldSpec, TransactionSpec
from pipeline.ingest.sources.local_files import LandedFile, SourceError, version_of

LOADED, PROCESSED, FAILED = "LOADED", "PROCESSED", "FAILED"
SQL_TYPES = {
    FieldType.String: "VARCHAR",
    FieldType.Int: "BIGINT",
    FieldType.Decimal: "DECIMAL(18,4)",
    FieldType.Float: "DOUBLE",
    FieldType.Bool: "BOOLEAN",
    FieldType.Date: "DATE",
    FieldType.Timestamp: "TIMESTAMP",
}
INT_PATTERN = r"[+-]?[0-9]+"
NUMBER_PATTERN = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
# an ISO 8601 date or date-time without offset or zone (no braces: the pattern goes through str.format)
PLAIN_ISO_PATTERN = r"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]([ T][0-9][0-9]:[0-9][0-9]:[0-9][0-9](\.[0-9]([0-9]?[0-9]?[0-9]?[0-9]?[0-9]?))?)?"
CUSTOMER_ID_COLUMNS = ("customuid", "emailsha256", "idfa", "dmpid")
CUSTOMER_PREFIXES = ("txt_", "num_", "attr_", "goal_")
MULTI_VALUE_COLUMNS = ("emailsha256", "idfa", "dmpid")


class IngestError(RuntimeError):
    """A file that cannot be loaded at all; the message says why and what to do."""


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


# --------------------------------------------------------------------------------------------
# 1. read: a file -> temp table _rows(_row_number, _raw, _error, _error_field, <text columns>)
# --------------------------------------------------------------------------------------------


def _first_line(path: Path) -> bytes:
    """The bytes of the first line (ended by LF, CRLF or CR), reading at most 1 MiB."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        head = fh.readline(1 << 20)
    return re.split(rb"\r\n|\n|\r", head, maxsplit=1)[0]


def read_header(path: Path, encoding: str) -> list[str]:
    """The CSV header (first line), names trimmed; spaces after the commas are tolerated."""
    try:
        line = _first_line(path)
    except (OSError, EOFError, zlib.error) as e:
        gz = " (a truncated or corrupt gzip file)" if path.name.lower().endswith(".gz") else ""
        raise IngestError(f"{path.name}: cannot read the file{gz}: {e}") from None
    try:
        text = line.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    except UnicodeDecodeError as e:
        raise IngestError(
            f"{path.name}: the header is not valid {encoding} ({e.reason} at byte {e.start}); "
            f"set `encoding: latin-1` for this dataset if the file is Latin-1"
        ) from None
    try:
        header = next(csv.reader([text], skipinitialspace=True), None)
    except csv.Error as e:
        raise IngestError(f"{path.name}: cannot read the header: {e}") from None
    if not header or not any(h.strip() for h in header):
        raise IngestError(f"{path.name}: the file is empty or its first line is blank (no header)")
    names = [h.strip() for h in header]
    if "" in names:
        raise IngestError(f"{path.name}: column {names.index('') + 1} of the header has no name")
    _check_unique(path.name, names)
    return names


def _check_unique(file: str, names: list[str]) -> None:
    """Column names must differ in more than letter case (SQL names ignore case)."""
    lower = [n.lower() for n in names]
    dupes = sorted({n for n in names if lower.count(n.lower()) > 1})
    if dupes:
        raise IngestError(f"{file}: the header names {dupes} more than once (letter case does not count)")


def _duck_error(f: LandedFile, e: Exception) -> IngestError:
    msg = str(e).split("\n")[0]
    return IngestError(f"{f.name}: cannot read the file: {msg}")


def _number_rows(
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
        "CREATE OR REPLACE TEMP VIEW _numbered AS SELECT n.rn, r.* FROM _read r POSITIONAL JOIN _good_numbers n"
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


def _drop_numbering(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP VIEW IF EXISTS _numbered")
    con.unregister("_good_numbers")


_LINES = """read_csv($path, columns = {'line': 'VARCHAR'}, header = false, delim = chr(31), quote = '',
            escape = '', auto_detect = false, strict_mode = false, encoding = $encoding,
            store_rejects = true, rejects_table = '_lrj', rejects_scan = '_lrs')"""
_LINES_OF_FILES = """read_csv($paths, columns = {'line': 'VARCHAR'}, header = false, delim = chr(31), quote = '',
            escape = '', auto_detect = false, strict_mode = false, encoding = $encoding, filename = true,
            store_rejects = true, rejects_table = '_lrj', rejects_scan = '_lrs')"""


def _has_text(x: str) -> str:
    """SQL: ``x`` holds something other than spaces (``trim(coalesce(x, '')) <> ''``, but the string
    is only trimmed when it starts with a space: trim copies every string it is given)."""
    return f"({x} IS NOT NULL AND ((NOT starts_with({x}, ' ') AND {x} <> '') OR trim({x}) <> ''))"


def _trimmed(x: str) -> str:
    """SQL: ``NULLIF(trim(x), '')``, trimming only a value that starts or ends with a space."""
    return f"CASE WHEN starts_with({x}, ' ') OR ends_with({x}, ' ') THEN NULLIF(trim({x}), '') ELSE NULLIF({x}, '') END"


def _blank_lines(con: duckdb.DuckDBPyConnection, f: LandedFile, encoding: str, records: int) -> np.ndarray:
    """Positions of the blank lines after the header, as DuckDB's CSV reader counts lines.

    The reader skips blank lines but counts them in the line numbers of its rejects. Their
    positions are known from a plain line scan only when no quoted cell spans lines (then every
    non-blank line is one record); otherwise none are returned and numbers count blank lines.
    """
    params = {"path": str(f.path), "encoding": encoding}
    con.execute("DROP TABLE IF EXISTS _lrj; DROP TABLE IF EXISTS _lrs")
    lines, blank = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE trim(coalesce(line, '')) = '') FROM {_LINES}", params
    ).fetchall()[0]
    if not blank or lines - 1 - blank != records:
        return np.array([], dtype=np.int64)
    con.execute("DROP TABLE IF EXISTS _lrj; DROP TABLE IF EXISTS _lrs")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _phys AS SELECT line FROM {_LINES}", params)
    blanks = con.sql("SELECT rowid AS n FROM _phys WHERE trim(coalesce(line, '')) = ''").fetchnumpy()["n"]
    con.execute("DROP TABLE _phys")
    return np.asarray(blanks, dtype=np.int64)


def _physical_lines(path: Path, chunk: int = 1 << 23) -> int | None:
    """The number of lines of a plain file (ended by LF, CRLF or CR), counted on the bytes
    (LF and CR are the same bytes in UTF-8 and Latin-1); None for a gzip file."""
    if path.name.lower().endswith(".gz"):
        return None
    n, prev_cr, last = 0, False, b""
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            n += block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n")
            if prev_cr and block[:1] == b"\n":  # a CRLF split between two blocks
                n -= 1
            prev_cr, last = block[-1:] == b"\r", block[-1:]
    return n + (1 if last not in (b"\n", b"\r", b"") else 0)


def read_csv_rows(con: duckdb.DuckDBPyConnection, f: LandedFile, encoding: str) -> list[str]:
    """Read a CSV file into ``_rows``; returns its column names."""
    names = read_header(f.path, encoding)
    positional = {f"c{i}": "VARCHAR" for i in range(len(names))}
    con.execute("DROP TABLE IF EXISTS _read; DROP TABLE IF EXISTS _rj; DROP TABLE IF EXISTS _rs")
    try:
        con.execute(
            """CREATE TEMP TABLE _read AS SELECT * FROM read_csv($path, columns = $columns, header = true,
                 delim = ',', quote = '"', escape = '"', auto_detect = false, encoding = $encoding,
                 store_rejects = true, rejects_table = '_rj', rejects_scan = '_rs', null_padding = false)""",
            {"path": str(f.path), "columns": positional, "encoding": encoding},
        )
    except duckdb.Error as e:
        raise _duck_error(f, e) from None
    bad = con.sql(
        """SELECT line - 1 AS rn,
                  arg_min(error_type, column_idx) AS error_type,
                  arg_min(error_message, column_idx) AS error_message,
                  any_value(csv_line) AS csv_line
           FROM _rj GROUP BY line"""
    ).to_arrow_table()
    n_good = scalar(con, "SELECT count(*) FROM _read")
    records = n_good + bad.num_rows
    # Blank lines only shift the numbers of rows after a bad row. They need the second scan only
    # when there is a bad row and the file has more lines than the header and its records.
    blanks = None
    if bad.num_rows and _physical_lines(f.path) != records + 1:
        try:
            blanks = _blank_lines(con, f, encoding, records)
        except duckdb.Error as e:
            raise _duck_error(f, e) from None
    bad_numbers = _number_rows(con, n_good, bad.column("rn").to_numpy(), blanks)
    con.register("_bad", bad.set_column(0, "rn", pa.array(bad_numbers, pa.int64())))
    renamed = ", ".join(f"r.c{i} AS {ident(n)}" for i, n in enumerate(names))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rows AS
            SELECT r.rn AS _row_number, NULL::VARCHAR AS _raw, NULL::VARCHAR AS _error,
                   NULL::VARCHAR AS _error_field, {renamed}
            FROM _numbered r
            UNION ALL BY NAME
            SELECT rn AS _row_number, trim(csv_line, chr(13) || chr(10)) AS _raw,
                   CASE error_type
                     WHEN 'INVALID ENCODING' THEN 'encoding: the row is not valid ' || $encoding
                          || ' (set `encoding: latin-1` for this dataset if the file is Latin-1)'
                     WHEN 'MISSING COLUMNS' THEN 'columns: ' || error_message
                     WHEN 'TOO MANY COLUMNS' THEN 'columns: ' || error_message
                     WHEN 'LINE SIZE OVER MAXIMUM' THEN 'row: the line is longer than the 2 MB a row may have'
                     ELSE 'row: ' || coalesce(error_message, error_type) END AS _error,
                   CASE WHEN error_type = 'INVALID ENCODING' THEN 'encoding'
                        WHEN error_type IN ('MISSING COLUMNS', 'TOO MANY COLUMNS') THEN 'columns'
                        ELSE 'row' END AS _error_field
            FROM _bad""",
        {"encoding": encoding},
    )
    con.unregister("_bad")
    _drop_numbering(con)
    con.execute("DROP TABLE _read")
    return names


def _read_lines(con: duckdb.DuckDBPyConnection, f: LandedFile, encoding: str) -> Callable[[], None]:
    """Read a file as lines into the view ``_lines(_row_number, line, _error)``, blank lines left out.

    A line whose bytes are not ``encoding`` is kept with an ``encoding`` error. ``_lines`` is a
    view (the lines are not copied once more); the returned function drops it and what it reads.
    """
    con.execute("DROP TABLE IF EXISTS _read; DROP TABLE IF EXISTS _lrj; DROP TABLE IF EXISTS _lrs")
    try:
        con.execute(
            f"CREATE TEMP TABLE _read AS SELECT * FROM {_LINES}", {"path": str(f.path), "encoding": encoding}
        )
    except duckdb.Error as e:
        raise _duck_error(f, e) from None
    bad = con.sql("SELECT line AS rn, any_value(csv_line) AS raw FROM _lrj GROUP BY line").to_arrow_table()
    _number_rows(con, scalar(con, "SELECT count(*) FROM _read"), bad.column("rn").to_numpy())
    if bad.num_rows:  # a view takes no parameters: the reason goes in a column of _bad
        reason = f"encoding: the line is not valid {encoding} (set `encoding: latin-1` for this dataset if the file is Latin-1)"
        con.register("_bad", bad.append_column("error", pa.array([reason] * bad.num_rows, pa.string())))
        con.execute(
            f"""CREATE OR REPLACE TEMP VIEW _lines AS
               SELECT r.rn AS _row_number, r.line, NULL::VARCHAR AS _error
               FROM _numbered r
               WHERE {_has_text("r.line")}
               UNION ALL
               SELECT rn, raw, error FROM _bad"""
        )
    else:  # the common case: one view, no union
        con.execute(
            f"""CREATE OR REPLACE TEMP VIEW _lines AS
               SELECT r.rn AS _row_number, r.line, NULL::VARCHAR AS _error
               FROM _numbered r WHERE {_has_text("r.line")}"""
        )

    def drop() -> None:
        con.execute("DROP VIEW IF EXISTS _lines")
        con.unregister("_bad")
        _drop_numbering(con)
        con.execute("DROP TABLE IF EXISTS _read")

    return drop


def read_jsonl_rows(
    con: duckdb.DuckDBPyConnection, f: LandedFile, encoding: str, names: list[str]
) -> list[str]:
    """Read a JSON-lines file into ``_rows`` with one text column per name in ``names``.

    Each line must be a JSON object; a key that is absent or null is a missing value. Keys that
    are not declared are ignored.
    """
    drop = _read_lines(con, f, encoding)
    try:
        _parse_json_lines(con, names)
    finally:
        drop()
    return names


def _parse_json_lines(con: duckdb.DuckDBPyConnection, names: list[str], carry: str = "") -> None:
    """``_rows`` from the view ``_lines(<carry>, _row_number, line, _error)``: one text column per name.

    ``carry`` is a column list (with a trailing comma) kept as it is, e.g. ``"_file, "``.
    """
    # One JSON parse per line for the values (after json_valid's): json_extract_string with a list of
    # paths returns the text of every field. A valid line starting with '{' is an object (only the
    # others are parsed again to tell). A value that is an object or array comes back as JSON text,
    # so only a line with a '{' after its first character or a '[' is parsed again to tell a nested
    # value from a string.
    values = ", ".join(f"__s[{i + 1}] AS {ident(n)}" for i, n in enumerate(names))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rows AS
            SELECT {carry}_row_number, line AS _raw,
                   CASE WHEN _error IS NOT NULL THEN _error
                        WHEN NOT _valid THEN 'json: the line is not valid JSON'
                        WHEN NOT _ok THEN 'json: the line is not a JSON object'
                        WHEN __nested > 0 THEN $names[__nested] || ': a JSON object or array is not a single value'
                   END AS _error,
                   CASE WHEN _error IS NOT NULL THEN 'encoding' WHEN NOT _ok THEN 'json'
                        WHEN __nested > 0 THEN $names[__nested] END AS _error_field,
                   {values}
            FROM (SELECT *, CASE WHEN _ok AND (line LIKE '%[%' OR line LIKE '_%{{%')
                                 THEN list_position(list_transform(json_type(line, $paths),
                                                                   lambda x: x IN ('OBJECT', 'ARRAY')), true)
                            END AS __nested
                  FROM (SELECT *, CASE WHEN _ok THEN json_extract_string(line, $paths) END AS __s
                        FROM (SELECT *, _valid AND (starts_with(line, '{{')
                                                    OR json_type(CASE WHEN _valid THEN line END) = 'OBJECT') AS _ok
                              FROM (SELECT *, _error IS NULL AND json_valid(line) AS _valid FROM _lines))))""",
        {"paths": [f'$."{n}"' for n in names], "names": names},
    )


def read_customer_json_rows(con: duckdb.DuckDBPyConnection, f: LandedFile) -> list[str]:
    """Read the JSON form of customer data, ``{"header": [...], "data": [[...], ...]}``, into ``_rows``."""
    path = f.path
    if f.name.lower().endswith(".gz"):
        try:
            text = gzip.decompress(path.read_bytes()).decode("utf-8")
        except (OSError, EOFError, zlib.error, UnicodeDecodeError) as e:
            raise IngestError(f"{f.name}: cannot read the file: {e}") from None
        con.execute("CREATE OR REPLACE TEMP TABLE _doc AS SELECT $t AS content", {"t": text})
    else:
        try:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE _doc AS SELECT content FROM read_text($p)", {"p": str(path)}
            )
        except duckdb.Error as e:
            raise _duck_error(f, e) from None
    shape = con.execute(
        """SELECT json_valid(content),
                  CASE WHEN json_valid(content) THEN json_type(content, '$.header') END,
                  CASE WHEN json_valid(content) THEN json_type(content, '$.data') END,
                  length(content)
           FROM _doc"""
    ).fetchall()[0]
    if shape[3] == 0:
        raise IngestError(f"{f.name}: the file is empty")
    if not shape[0]:
        raise IngestError(f"{f.name}: the file is not valid JSON")
    if shape[1] != "ARRAY" or shape[2] != "ARRAY":
        raise IngestError(f'{f.name}: customer JSON must be {{"header": [...], "data": [[...], ...]}}')
    header = con.execute("SELECT json_extract_string(content, '$.header[*]') FROM _doc").fetchall()[0][0]
    names = [(h or "").strip() for h in header]
    if "" in names:
        raise IngestError(f"{f.name}: the header must name every column: {names}")
    _check_unique(f.name, names)
    # A JSON array is a multi-value cell where the column takes several values, else an error.
    cells, nested = [], []
    for i, n in enumerate(names):
        x = f"json_extract(row, '$[{i}]')"
        cells.append(
            f"CASE WHEN _ok THEN CASE json_type({x}) WHEN 'ARRAY' THEN array_to_string(json_extract_string({x}, '$[*]'), ',') "
            f"ELSE json_extract_string({x}, '$') END END AS {ident(n)}"
        )
        takes_list = n in MULTI_VALUE_COLUMNS or n == "email" or n.startswith("attr_")
        bad = "('OBJECT')" if takes_list else "('OBJECT', 'ARRAY')"
        nested.append(f"CASE WHEN _ok AND json_type({x}) IN {bad} THEN {i + 1} END")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rows AS
            SELECT _row_number, row::VARCHAR AS _raw,
                   CASE WHEN NOT _ok THEN 'columns: expected ' || $n || ' values, found '
                             || coalesce(json_array_length(row)::VARCHAR, 'no array')
                        WHEN __nested > 0 THEN $names[__nested] || ': a JSON object or array is not a single value'
                   END AS _error,
                   CASE WHEN NOT _ok THEN 'columns' WHEN __nested > 0 THEN $names[__nested] END AS _error_field,
                   * EXCLUDE (_row_number, row, _ok, __nested)
            FROM (SELECT _row_number, row, _ok, coalesce({", ".join(nested)}) AS __nested, {", ".join(cells)}
                  FROM (SELECT *, coalesce(json_type(row) = 'ARRAY' AND json_array_length(row) = $n, false) AS _ok
                        FROM (SELECT unnest(d) AS row, generate_subscripts(d, 1) AS _row_number
                              FROM (SELECT json_extract(content, '$.data[*]') AS d FROM _doc))))""",
        {"n": len(names), "names": names},
    )
    con.execute("DROP TABLE _doc")
    return names


def read_parquet_rows(con: duckdb.DuckDBPyConnection, f: LandedFile, spec: TransactionSpec) -> list[str]:
    """Read a Parquet file (a remote query's Arrow batches, or a Parquet object) into ``_rows``.

    Typed Arrow columns become text in the form the field's type and format expect, so that
    typing and validation are the same as for CSV: a temporal column with a declared format is
    written in that format (or as epoch numbers for unix/unix_ms).
    """
    try:
        described = con.execute("DESCRIBE SELECT * FROM read_parquet($p)", {"p": str(f.path)}).fetchall()
    except duckdb.Error as e:
        raise _duck_error(f, e) from None
    types = {r[0]: r[1] for r in described}
    declared = [x.name for x in spec.fields]
    missing = [n for n in declared if n not in types]
    extra = [n for n in types if n not in declared]
    if missing:
        raise IngestError(f"{f.name}: missing column(s) {missing}; the data has {list(types)}")
    if extra:
        raise IngestError(
            f"{f.name}: column(s) {extra} are not declared fields of {spec.name!r}; "
            f"declare them under transactions[].fields or leave them out of the query"
        )
    cols, params = [], {"p": str(f.path)}
    for i, x in enumerate(spec.fields):
        c, t = ident(x.name), types[x.name].upper()
        temporal = t.startswith(("TIMESTAMP", "DATE"))
        if temporal and x.format in EPOCH_FORMATS:
            cols.append(
                f"CAST(floor(epoch_ms({c}::TIMESTAMP) * {EPOCH_FORMATS[x.format]} / 1000) AS BIGINT)::VARCHAR AS {c}"
            )
        elif temporal and x.format:
            cols.append(f"strftime({c}::TIMESTAMP, $fmt{i}) AS {c}")
            params[f"fmt{i}"] = to_strptime(x.format)
        else:
            cols.append(f"{c}::VARCHAR AS {c}")
    try:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _rows AS
                SELECT file_row_number + 1 AS _row_number, NULL::VARCHAR AS _raw, NULL::VARCHAR AS _error,
                       NULL::VARCHAR AS _error_field, {", ".join(cols)}
                FROM read_parquet($p, file_row_number = true)""",
            params,
        )
    except duckdb.Error as e:
        raise _duck_error(f, e) from None
    return declared


# --------------------------------------------------------------------------------------------
# 2. type: text columns -> declared types, and a reason for every row that does not fit
# --------------------------------------------------------------------------------------------


@dataclass
class TypedColumn:
    """One output column: its SQL type, the cast of its text value ``v`` and the reject test."""

    name: str
    sql_type: str
    cast: str  # SQL over the trimmed, NULL-if-empty text value (written as {v})
    fails: str  # SQL that is true when a present value does not cast (written over {v} and {c})
    expected: str  # what the value should have been, for the reason text
    required: bool = False
    pattern: str | None = (
        None  # a strptime pattern the cast uses (written as {pattern}), bound as a parameter
    )


def _time_cast(f: FieldSpec) -> tuple[str, str]:
    """The cast of a Date/Timestamp field and the words for the reason."""
    target = "DATE" if f.type == FieldType.Date else "TIMESTAMP"
    if f.format in EPOCH_FORMATS:
        div = EPOCH_FORMATS[f.format]
        cast = f"try(CAST(to_timestamp(TRY_CAST({{v}} AS DOUBLE) / {div}) AS {target}))"
        return cast, f"a {f.type.value} in {f.format} time"
    if f.format and any(z in to_strptime(f.format) for z in ("%z", "%Z")):
        cast = f"try(CAST(CAST(try_strptime({{v}}, {{pattern}}) AS TIMESTAMPTZ) AS {target}))"
        return cast, f"a {f.type.value} in format {f.format}"
    if (
        f.format
    ):  # no time zone in the format: the parsed time is the time (no round trip through TIMESTAMPTZ)
        cast = f"CAST(try_strptime({{v}}, {{pattern}}) AS {target})"
        return cast, f"a {f.type.value} in format {f.format}"
    # ISO 8601 with or without an offset. A value with no offset or zone at all (the common case) is
    # cast straight to TIMESTAMP: the same time (the session's time zone is UTC), without the far
    # slower TIMESTAMPTZ cast, which every other value still goes through.
    with_tz = f"try(CAST(TRY_CAST({{v}} AS TIMESTAMPTZ) AS {target}))"
    cast = f"CASE WHEN regexp_full_match({{v}}, '{PLAIN_ISO_PATTERN}') THEN TRY_CAST(TRY_CAST({{v}} AS TIMESTAMP) AS {target}) ELSE {with_tz} END"
    return cast, f"an ISO 8601 {f.type.value}"


def field_column(f: FieldSpec, required: bool) -> TypedColumn:
    """How a declared transaction field is typed and validated."""
    if f.type in (FieldType.Date, FieldType.Timestamp):
        cast, expected = _time_cast(f)
    elif f.type == FieldType.Bool:
        cast = (
            "CASE WHEN lower({v}) IN ('true', 't', '1', 'yes', 'y') THEN true "
            "WHEN lower({v}) IN ('false', 'f', '0', 'no', 'n') THEN false END"
        )
        expected = "a Bool (true/false, 1/0, yes/no)"
    elif f.type == FieldType.String:
        cast, expected = "{v}", "a String"
    elif f.type == FieldType.Int:
        cast, expected = (
            f"CASE WHEN regexp_full_match({{v}}, '{INT_PATTERN}') THEN TRY_CAST({{v}} AS BIGINT) END",
            "an Int",
        )
    else:
        cast = f"CASE WHEN regexp_full_match({{v}}, '{NUMBER_PATTERN}') THEN TRY_CAST({{v}} AS {SQL_TYPES[f.type]}) END"
        expected = f"a {f.type.value}"
    pattern = to_strptime(f.format) if f.format and f.format not in EPOCH_FORMATS else None
    return TypedColumn(f.name, SQL_TYPES[f.type], cast, "{c} IS NULL", expected, required, pattern)


def type_rows(
    con: duckdb.DuckDBPyConnection,
    columns: list[TypedColumn],
    extra_checks: list[tuple[str, str, str]] = (),
    extra_params: dict | None = None,
    carry: tuple[str, ...] = (),
) -> None:
    """Create ``_typed`` from ``_rows``: typed columns, ``_reason`` (NULL = good) and ``_field``.

    ``extra_checks`` are (field, SQL condition over typed columns that marks a bad row, SQL reason),
    with the parameters they use in ``extra_params``. ``carry`` are columns of ``_rows`` kept as
    they are (and usable in the checks), e.g. ``_file`` when several files are typed at once.
    """
    trims = ", ".join(f"{_trimmed(ident(c.name))} AS {ident('__v_' + c.name)}" for c in columns)
    casts = ", ".join(
        f"{c.cast.format(v=ident('__v_' + c.name), pattern=f'$pattern{i}')} AS {ident(c.name)}"
        for i, c in enumerate(columns)
    )
    reasons, labels = [], []
    for i, c in enumerate(columns):
        v, typed = ident("__v_" + c.name), ident(c.name)
        bad_value = c.fails.format(v=v, c=typed)
        text = f"$name{i} || ': ' || '''' || left({v}, 80) || ''' is not ' || $expected{i}"
        missing = f"WHEN {v} IS NULL THEN $name{i} || ': missing (required)'" if c.required else ""
        reasons.append(f"CASE WHEN {v} IS NOT NULL AND ({bad_value}) THEN {text} {missing} END")
        labels.append(f"$name{i}")
    for j, (_, condition, reason) in enumerate(extra_checks):
        reasons.append(f"CASE WHEN {condition} THEN {reason} END")
        labels.append(f"$extra{j}")
    params: dict = dict(extra_params or {})
    for i, c in enumerate(columns):
        params[f"name{i}"] = c.name
        params[f"expected{i}"] = c.expected
        if c.pattern is not None:
            params[f"pattern{i}"] = c.pattern
    for j, (fname, _, _) in enumerate(extra_checks):
        params[f"extra{j}"] = fname
    reason_cols = ", ".join(f"{r} AS __r{k}" for k, r in enumerate(reasons))
    first_field = " ".join(f"WHEN __r{k} IS NOT NULL THEN {label}" for k, label in enumerate(labels))
    all_reasons = ", ".join(f"__r{k}" for k in range(len(reasons)))
    names = ", ".join(ident(c.name) for c in columns)
    kept = "".join(f"{ident(c)}, " for c in carry)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _typed AS
            SELECT {kept}_row_number, {names},
                   coalesce(_error, NULLIF(concat_ws('; ', {all_reasons}), '')) AS _reason,
                   coalesce(_error_field, CASE {first_field} END) AS _field
            FROM (SELECT *, {reason_cols}
                  FROM (SELECT *, {casts}
                        FROM (SELECT {kept}_row_number, _error, _error_field, {trims} FROM _rows)))""",
        params,
    )


# --------------------------------------------------------------------------------------------
# 3. write: one transaction replaces the partition, its rejects, and records the load
# --------------------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _counts(con: duckdb.DuckDBPyConnection, result: LoadResult) -> None:
    rows = con.execute(
        "SELECT _field, count(*) FROM _typed WHERE _reason IS NOT NULL GROUP BY 1 ORDER BY 1"
    ).fetchall()
    result.rejects_by_field = {f: n for f, n in rows}
    result.rows_rejected = sum(result.rejects_by_field.values())
    result.rows_read = scalar(con, "SELECT count(*) FROM _typed")
    result.rows_loaded = result.rows_read - result.rows_rejected
    result.status = LOADED if result.rows_read else PROCESSED


def _replace_rejects(con: duckdb.DuckDBPyConnection, result: LoadResult, by_file: bool) -> None:
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


def _record_load(
    con: duckdb.DuckDBPyConnection, result: LoadResult, f: LandedFile | None, started: dt.datetime
) -> None:
    _record_loads(con, [result], [f], started)


def _record_loads(
    con: duckdb.DuckDBPyConnection,
    results: list[LoadResult],
    files: list[LandedFile | None],
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
            "finished": _now(),
        },
    )


def _fail(
    con: duckdb.DuckDBPyConnection, result: LoadResult, f: LandedFile | None, started: dt.datetime, error: str
) -> LoadResult:
    """Record a FAILED load (nothing else changes) and return it."""
    result.status, result.error = FAILED, error
    result.rows_read = result.rows_loaded = result.rows_rejected = 0
    result.rejects_by_field = {}
    result.load_id = scalar(con, "SELECT nextval('load_ids')")
    _record_load(con, result, f, started)
    return result


def _in_transaction(con: duckdb.DuckDBPyConnection, steps) -> None:
    with transaction(con):
        for step in steps:
            step()


def _ensure_table(con: duckdb.DuckDBPyConnection, table: str, columns: list[tuple[str, str]]) -> None:
    """Create the table, or add the columns it lacks (a field declared later)."""
    if not table_exists(con, table):
        cols = ", ".join(f"{ident(n)} {t}" for n, t in columns)
        con.execute(f"CREATE TABLE {ident(table)} ({cols})")
        return
    have = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
        ).fetchall()
    }
    for n, t in columns:
        if n not in have:
            con.execute(f"ALTER TABLE {ident(table)} ADD COLUMN {ident(n)} {t}")


# What reading a bad file can raise; each becomes a FAILED load with the message.
READ_ERRORS = (IngestError, SourceError, duckdb.Error, csv.Error, UnicodeError, OSError, EOFError, zlib.error)


def _message(f: LandedFile, e: Exception) -> str:
    if isinstance(e, IngestError | SourceError):
        return str(e)
    return f"{f.name}: cannot load the file: {str(e).splitlines()[0] if str(e) else type(e).__name__}"


def _run_load(
    con: duckdb.DuckDBPyConnection,
    result: LoadResult,
    f: LandedFile,
    prepare: Callable[[], Callable[[], None]],
    rejects_by_file: bool,
) -> LoadResult:
    """Read and type a file with ``prepare`` (which returns the write step), then write it all in
    one transaction: the step, the rejects and the load. A file that cannot be loaded gives a
    FAILED load and leaves the warehouse as it was."""
    started = _now()
    try:
        write = prepare()
        _counts(con, result)
        result.load_id = scalar(con, "SELECT nextval('load_ids')")
    except READ_ERRORS as e:
        return _fail(con, result, f, started, _message(f, e))
    try:
        _in_transaction(
            con,
            [
                write,
                lambda: _replace_rejects(con, result, rejects_by_file),
                lambda: _record_load(con, result, f, started),
            ],
        )
    except duckdb.IOException:
        raise  # the warehouse cannot be written (full disk...): not the file's fault, nothing to record
    except READ_ERRORS as e:
        return _fail(con, result, f, started, _message(f, e))
    return result


def _check_not_empty(f: LandedFile) -> None:
    if f.path.stat().st_size == 0:
        raise IngestError(f"{f.name}: the file is empty (0 bytes): nothing was loaded")


def _check_json_lines(f: LandedFile) -> None:
    opener = gzip.open if f.name.lower().endswith(".gz") else open
    with opener(f.path, "rb") as fh:
        head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"["):
        raise IngestError(
            f"{f.name}: the file is one JSON array; Nightjar reads JSON lines (one object per line)"
        )


def _read_transaction_file(con: duckdb.DuckDBPyConnection, spec: TransactionSpec, f: LandedFile) -> None:
    _check_not_empty(f)
    declared = [x.name for x in spec.fields]
    if f.format == "parquet":
        read_parquet_rows(con, f, spec)
    elif f.format == "csv":
        names = read_csv_rows(con, f, spec.encoding)
        missing = [n for n in declared if n not in names]
        extra = [n for n in names if n not in declared]
        if missing:
            raise IngestError(f"{f.name}: missing column(s) {missing}; the file has {names}")
        if extra:
            raise IngestError(
                f"{f.name}: column(s) {extra} are not declared fields of {spec.name!r}; "
                f"declare them under transactions[].fields or remove them from the file"
            )
    else:
        _check_json_lines(f)
        read_jsonl_rows(con, f, spec.encoding, declared)


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
    table = spec.table
    names = ", ".join(ident(x.name) for x in spec.fields)
    system = [("_load_id", "BIGINT"), ("_partition_date", "DATE"), ("_row_number", "BIGINT")]

    def prepare() -> Callable[[], None]:
        _read_transaction_file(con, spec, f)
        columns = [field_column(x, spec.is_required(x)) for x in spec.fields]
        tf = ident(spec.time_field)
        window = (
            spec.time_field,
            f"{tf} IS NOT NULL AND ({tf} < $start OR {tf} >= $end)",
            f"$tfname || ': ' || {tf}::VARCHAR || ' is outside the partition ' || $start::VARCHAR",
        )
        window_params = {"start": day, "end": day + dt.timedelta(days=1), "tfname": spec.time_field}
        type_rows(con, columns, [window], window_params)

        def replace_partition() -> None:
            _ensure_table(con, table, [(c.name, c.sql_type) for c in columns] + system)
            for kind in spec.customer_keys:  # so that `nightjar forget` reaches the feed's rows
                register_customer_table(con, table, spec.customer_field, kind)
            con.execute(f"DELETE FROM {ident(table)} WHERE _partition_date = $d", {"d": day})
            con.execute(
                f"""INSERT INTO {ident(table)} ({names}, _load_id, _partition_date, _row_number)
                    SELECT {names}, $id, $d, _row_number FROM _typed WHERE _reason IS NULL ORDER BY _row_number""",
                {"id": result.load_id, "d": day},
            )

        return replace_partition

    return _run_load(con, result, f, prepare, rejects_by_file=False)


# --------------------------------------------------------------------------------------------
# many days at once (a backfill): one read, one typing and one transaction for all their files
# --------------------------------------------------------------------------------------------

BATCH_BYTES = 256 << 20  # at most this many bytes of files are read together (bounds the temp tables)


class _NotBatchable(Exception):
    """The files cannot be loaded together (the reader failed or did not keep them apart): load
    them one by one, which gives each its own outcome and message."""


def _is_gz(f: LandedFile) -> bool:
    return f.name.lower().endswith(".gz")


def _batch_key(spec: TransactionSpec, f: LandedFile) -> tuple | None:
    """What files must share to be read together (format, compression, CSV header), or None when
    the file goes through the one-file path (Parquet, an empty file, a header that does not fit:
    that path gives it its FAILED load and message)."""
    try:
        _check_not_empty(f)
        if f.format == "csv":
            names = read_header(f.path, spec.encoding)
            declared = {x.name for x in spec.fields}
            if set(names) != declared or len(names) != len(declared):
                return None
            return ("csv", _is_gz(f), tuple(names))
        if f.format == "jsonl":
            _check_json_lines(f)
            return ("jsonl", _is_gz(f))
    except READ_ERRORS:
        return None
    return None


def _batch_groups(
    spec: TransactionSpec, inputs: list[tuple[dt.date, LandedFile]]
) -> list[tuple[list[int], bool]]:
    """Runs of consecutive ``inputs`` to be read together (same format and header, at most
    BATCH_BYTES each), in order, and whether the run goes through the batch path (else it is one
    file for the one-file path). Keeping the order keeps the load ids in the order of the days."""
    out: list[tuple[list[int], bool]] = []
    size, prev = 0, None
    for i, (_, f) in enumerate(inputs):
        key = _batch_key(spec, f)
        if key is not None and out and out[-1][1] and key == prev and size + f.size <= BATCH_BYTES:
            out[-1][0].append(i)
            size += f.size
        else:
            out.append(([i], key is not None))
            size = f.size
        prev = key
    return out


def _file_blocks(con: duckdb.DuckDBPyConnection, paths: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The number of records of each file in ``_read`` and the rowid of its first, checking that the
    reader kept each file's records together and in the order of ``paths`` (the numbering relies on it)."""
    rows = con.execute(
        "SELECT filename, count(*), min(rowid), max(rowid) FROM _read GROUP BY filename"
    ).fetchall()
    index = {p: i for i, p in enumerate(paths)}
    counts, first = np.zeros(len(paths), dtype=np.int64), np.zeros(len(paths), dtype=np.int64)
    expect, last = 0, -1
    for name, n, lo, hi in sorted(rows, key=lambda r: r[2]):  # one row per file
        i = index.get(name)
        if i is None or i <= last or lo != expect or hi - lo + 1 != n:
            raise _NotBatchable(f"the reader did not return {name} as one block in file order")
        counts[i], first[i], expect, last = n, lo, hi + 1, i
    return counts, first


# ``_read`` with each record's file (1-based) and record number (made by _number_batch)
_NUMBERED = """(SELECT m._file, coalesce(n.rn, r.rowid - m.lo + 1) AS _row_number, r.*
               FROM _read r JOIN _filemap m USING (filename) LEFT JOIN _nums n ON n.pos = r.rowid)"""


def _number_batch(
    con: duckdb.DuckDBPyConnection, files: list[LandedFile], bad: pa.Table, blanks_of: Callable | None
) -> pa.Table:
    """Number the good records of ``_read`` per file (see ``_NUMBERED``) and return ``bad`` with
    its ``rn`` turned into record numbers.

    A file without bad rows is numbered in SQL (its records follow the file order); the good records
    of a file with some get their numbers in ``_nums(pos, rn)`` (pos = rowid in ``_read``).
    ``bad`` has ``_file`` (1-based) and ``rn`` (the reader's line position); ``blanks_of(f,
    records)`` gives the blank-line positions of a file with bad rows, or None.
    """
    paths = [str(f.path) for f in files]
    counts, first = _file_blocks(con, paths)
    bad_file = bad.column("_file").to_numpy()
    bad_rn = bad.column("rn").to_numpy().astype(np.int64)
    numbered = bad_rn.copy()
    pos_parts, rn_parts = [np.array([], np.int64)], [np.array([], np.int64)]
    for i, f in enumerate(files):  # a loop over the files, not over rows
        mask = bad_file == i + 1
        if not mask.any():
            continue
        blanks = blanks_of(f, int(counts[i] + mask.sum())) if blanks_of else None
        good, numbered[mask] = record_numbers(int(counts[i]), bad_rn[mask], blanks)
        pos_parts.append(first[i] + np.arange(len(good), dtype=np.int64))
        rn_parts.append(good)
    filemap = pa.table(
        {"filename": paths, "_file": np.arange(1, len(files) + 1, dtype=np.int32), "lo": first}
    )
    nums = pa.table({"pos": np.concatenate(pos_parts), "rn": np.concatenate(rn_parts)})
    for name, t in (("_filemap", filemap), ("_nums", nums)):
        con.register(name + "_arrow", t)
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
        finally:
            con.unregister(name + "_arrow")
    return bad.set_column(bad.schema.get_field_index("rn"), "rn", pa.array(numbered, pa.int64()))


def _read_csv_batch(
    con: duckdb.DuckDBPyConnection, files: list[LandedFile], encoding: str, names: list[str]
) -> None:
    """Read CSV files with the same header into ``_rows`` (``_file`` = 1-based position in ``files``)."""
    paths = [str(f.path) for f in files]
    positional = {f"c{i}": "VARCHAR" for i in range(len(names))}
    con.execute("DROP TABLE IF EXISTS _read; DROP TABLE IF EXISTS _rj; DROP TABLE IF EXISTS _rs")
    con.execute(
        """CREATE TEMP TABLE _read AS SELECT * FROM read_csv($paths, columns = $columns, header = true,
             delim = ',', quote = '"', escape = '"', auto_detect = false, encoding = $encoding, filename = true,
             store_rejects = true, rejects_table = '_rj', rejects_scan = '_rs', null_padding = false)""",
        {"paths": paths, "columns": positional, "encoding": encoding},
    )
    bad = con.sql(
        """SELECT list_position($paths, s.file_path)::INTEGER AS _file, j.line - 1 AS rn,
                  arg_min(j.error_type, j.column_idx) AS error_type,
                  arg_min(j.error_message, j.column_idx) AS error_message,
                  any_value(j.csv_line) AS csv_line
           FROM _rj j JOIN _rs s USING (scan_id, file_id) GROUP BY ALL ORDER BY 1, 2""",
        params={"paths": paths},
    ).to_arrow_table()

    def blanks_of(f: LandedFile, records: int) -> np.ndarray | None:
        # Blank lines only shift the numbers of rows after a bad row: the second scan only when the
        # file has more lines than the header and its records.
        return _blank_lines(con, f, encoding, records) if _physical_lines(f.path) != records + 1 else None

    bad = _number_batch(con, files, bad, blanks_of)
    con.register("_bad", bad)
    renamed = ", ".join(f"r.c{i} AS {ident(n)}" for i, n in enumerate(names))
    try:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _rows AS
                SELECT r._file, r._row_number, NULL::VARCHAR AS _raw, NULL::VARCHAR AS _error,
                       NULL::VARCHAR AS _error_field, {renamed}
                FROM {_NUMBERED} r
                UNION ALL BY NAME
                SELECT _file, rn AS _row_number, trim(csv_line, chr(13) || chr(10)) AS _raw,
                       CASE error_type
                         WHEN 'INVALID ENCODING' THEN 'encoding: the row is not valid ' || $encoding
                              || ' (set `encoding: latin-1` for this dataset if the file is Latin-1)'
                         WHEN 'MISSING COLUMNS' THEN 'columns: ' || error_message
                         WHEN 'TOO MANY COLUMNS' THEN 'columns: ' || error_message
                         WHEN 'LINE SIZE OVER MAXIMUM' THEN 'row: the line is longer than the 2 MB a row may have'
                         ELSE 'row: ' || coalesce(error_message, error_type) END AS _error,
                       CASE WHEN error_type = 'INVALID ENCODING' THEN 'encoding'
                            WHEN error_type IN ('MISSING COLUMNS', 'TOO MANY COLUMNS') THEN 'columns'
                            ELSE 'row' END AS _error_field
                FROM _bad""",
            {"encoding": encoding},
        )
    finally:
        con.unregister("_bad")
    con.execute("DROP TABLE _read; DROP TABLE _nums; DROP TABLE _filemap")


def _read_jsonl_batch(
    con: duckdb.DuckDBPyConnection, files: list[LandedFile], encoding: str, names: list[str]
) -> None:
    """Read JSON-lines files into ``_rows`` (``_file`` = 1-based position in ``files``), as
    read_jsonl_rows does for one file."""
    paths = [str(f.path) for f in files]
    con.execute("DROP TABLE IF EXISTS _read; DROP TABLE IF EXISTS _lrj; DROP TABLE IF EXISTS _lrs")
    con.execute(
        f"CREATE TEMP TABLE _read AS SELECT * FROM {_LINES_OF_FILES}",
        {"paths": paths, "encoding": encoding},
    )
    bad = con.sql(
        """SELECT list_position($paths, s.file_path)::INTEGER AS _file, j.line AS rn, any_value(j.csv_line) AS raw
           FROM _lrj j JOIN _lrs s USING (scan_id, file_id) GROUP BY ALL ORDER BY 1, 2""",
        params={"paths": paths},
    ).to_arrow_table()
    bad = _number_batch(con, files, bad, None)
    reason = f"encoding: the line is not valid {encoding} (set `encoding: latin-1` for this dataset if the file is Latin-1)"
    # a table, not a view: the JSON functions then run in parallel over it
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _lines AS
           SELECT r._file, r._row_number, r.line, NULL::VARCHAR AS _error
           FROM {_NUMBERED} r
           WHERE {_has_text("r.line")}"""
    )
    con.execute("DROP TABLE _read; DROP TABLE _nums; DROP TABLE _filemap")
    if bad.num_rows:
        con.register("_bad", bad.append_column("error", pa.array([reason] * bad.num_rows, pa.string())))
        try:
            con.execute("INSERT INTO _lines SELECT _file, rn, raw, error FROM _bad")
        finally:
            con.unregister("_bad")
    try:
        _parse_json_lines(con, names, carry="_file, ")
    finally:
        con.execute("DROP TABLE _lines")


def _drop_batch_tables(con: duckdb.DuckDBPyConnection) -> None:
    """What a batch that failed half-way may have left (the one-file path makes a view ``_lines``)."""
    for name in ("_lines", "_nums", "_filemap", "_read"):
        try:
            con.execute(f"DROP TABLE IF EXISTS {name}")
        except duckdb.CatalogException:  # a view of that name (not the batch's): left alone
            pass


def _batch_counts(con: duckdb.DuckDBPyConnection, results: list[LoadResult]) -> None:
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


def _ingest_batch(
    con: duckdb.DuckDBPyConnection,
    spec: TransactionSpec,
    source: str,
    batch: list[tuple[dt.date, LandedFile]],
) -> list[LoadResult]:
    """Load files of ``spec`` that share their format and header, each into its own day's partition,
    with one read, one typing and one transaction; raises _NotBatchable when they must be loaded one by one."""
    started = _now()
    days = [d for d, _ in batch]
    files = [f for _, f in batch]
    results = [LoadResult(source=source, dataset=spec.name, file=f.name, partition_date=d) for d, f in batch]
    declared = [x.name for x in spec.fields]
    table = spec.table
    try:
        if files[0].format == "csv":
            _read_csv_batch(con, files, spec.encoding, read_header(files[0].path, spec.encoding))
        else:
            _read_jsonl_batch(con, files, spec.encoding, declared)
        columns = [field_column(x, spec.is_required(x)) for x in spec.fields]
        tf = ident(spec.time_field)
        window = (
            spec.time_field,
            f"{tf} IS NOT NULL AND ({tf} < $starts[_file] OR {tf} >= $ends[_file])",
            f"$tfname || ': ' || {tf}::VARCHAR || ' is outside the partition ' || $starts[_file]::VARCHAR",
        )
        params = {"starts": days, "ends": [d + dt.timedelta(days=1) for d in days], "tfname": spec.time_field}
        type_rows(con, columns, [window], params, carry=("_file",))
        _batch_counts(con, results)
        ids = [
            i
            for (i,) in con.execute(
                "SELECT nextval('load_ids') FROM range($n) ORDER BY 1", {"n": len(results)}
            ).fetchall()
        ]
        for r, load_id in zip(results, ids, strict=True):
            r.load_id = load_id
    except (*READ_ERRORS, _NotBatchable) as e:
        raise _NotBatchable(str(e)) from e
    names = ", ".join(ident(x.name) for x in spec.fields)
    system = [("_load_id", "BIGINT"), ("_partition_date", "DATE"), ("_row_number", "BIGINT")]
    try:
        with transaction(con):
            _ensure_table(con, table, [(c.name, c.sql_type) for c in columns] + system)
            for kind in spec.customer_keys:  # so that `nightjar forget` reaches the feed's rows
                register_customer_table(con, table, spec.customer_field, kind)
            con.execute(
                f"DELETE FROM {ident(table)} WHERE list_contains($days, _partition_date)", {"days": days}
            )
            con.execute(
                f"""INSERT INTO {ident(table)} ({names}, _load_id, _partition_date, _row_number)
                    SELECT {names}, $ids[_file], $days[_file], _row_number FROM _typed
                    WHERE _reason IS NULL ORDER BY _file, _row_number""",
                {"ids": ids, "days": days},
            )
            con.execute(sql("ingest/delete_partitions_rejects"), {"ds": spec.name, "days": days})
            con.execute(
                sql("ingest/insert_batch_rejects"),
                {"ids": ids, "ds": spec.name, "files": [f.name for f in files], "days": days},
            )
            _record_loads(con, results, files, started)
    except duckdb.IOException:
        raise  # the warehouse cannot be written (full disk...): not the files' fault, nothing to record
    except READ_ERRORS as e:
        raise _NotBatchable(str(e)) from e
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
    results: list[LoadResult | None] = [None] * len(inputs)
    for group, batchable in _batch_groups(spec, inputs):
        batch = [inputs[i] for i in group]
        done = None
        if batchable:
            try:
                done = _ingest_batch(con, spec, source, batch)
            except _NotBatchable:
                _drop_batch_tables(con)
                done = None
        if done is None:
            done = [_ingest_one(con, spec, source, f, d) for d, f in batch]
        for i, r in zip(group, done, strict=True):
            results[i] = r
    return results


# --------------------------------------------------------------------------------------------
# customer data: create / update / overwrite the `customers` table, file by file
# --------------------------------------------------------------------------------------------

CUSTOMERS = "customers"
CUSTOMER_SYSTEM_COLUMNS = [("_first_seen_at", "DATE"), ("_updated_at", "DATE"), ("_load_id", "BIGINT")]


def split_values(column: str, lower: bool = False) -> str:
    """SQL: the values of a multi-value cell ("a, b") as a list, trimmed (and lower-cased), empties dropped."""
    value = "lower(trim(x))" if lower else "trim(x)"
    return f"list_filter(list_transform(string_split({column}, ','), lambda x: {value}), lambda x: x <> '')"


def customer_column(name: str) -> TypedColumn:
    """How a customer column is typed, decided by its name."""
    if name == "customuid":
        return TypedColumn(name, "VARCHAR", "{v}", "false", "a String", required=True)
    if name in MULTI_VALUE_COLUMNS:
        values = split_values("{v}", lower=name == "emailsha256")
        return TypedColumn(name, "VARCHAR", f"array_to_string({values}, ',')", "false", "a String")
    if name.startswith("num_"):
        cast = f"CASE WHEN regexp_full_match({{v}}, '{NUMBER_PATTERN}') THEN TRY_CAST({{v}} AS DOUBLE) END"
        return TypedColumn(name, "DOUBLE", cast, "{c} IS NULL", "a number")
    if name.startswith("attr_"):
        return TypedColumn(name, "VARCHAR[]", split_values("{v}"), "false", "a list")
    if name.startswith("goal_") and name.endswith("_timestamp"):
        seconds = f"CASE WHEN regexp_full_match({{v}}, '{INT_PATTERN}') THEN TRY_CAST({{v}} AS BIGINT) END"
        cast = f"CASE WHEN {seconds} <> 0 THEN try(CAST(to_timestamp({seconds}) AS TIMESTAMP)) END"
        fails = f"{{c}} IS NULL AND {seconds} IS DISTINCT FROM 0"
        return TypedColumn(name, "TIMESTAMP", cast, fails, "unix seconds (or 0 or empty)")
    if name.startswith("goal_"):
        cast = "CASE WHEN lower({v}) IN ('1', '1.0', 'true') THEN true WHEN lower({v}) IN ('0', '0.0', 'false') THEN false END"
        return TypedColumn(name, "BOOLEAN", cast, "{c} IS NULL", "1, 0 or empty")
    return TypedColumn(name, "VARCHAR", "{v}", "false", "a String")  # txt_*


def _check_customer_columns(f: LandedFile, names: list[str]) -> None:
    unknown = [
        n for n in names if n not in (*CUSTOMER_ID_COLUMNS, "email") and not n.startswith(CUSTOMER_PREFIXES)
    ]
    if unknown:
        raise IngestError(
            f"{f.name}: unknown customer column(s) {unknown}: columns are customuid, emailsha256 (or email), "
            f"idfa, dmpid, or start with {', '.join(CUSTOMER_PREFIXES)}"
        )
    if "customuid" not in names:
        raise IngestError(f"{f.name}: the required column customuid is missing; the file has {names}")
    if "email" in names and "emailsha256" in names:
        raise IngestError(f"{f.name}: give either email or emailsha256, not both")


def _hash_emails(con: duckdb.DuckDBPyConnection) -> None:
    """Replace the plain `email` column by `emailsha256` (SHA-256 of the lower-cased, trimmed address).

    The raw text of every row is dropped too, so a plain address never reaches the warehouse,
    not even the rejects table.
    """
    hashed = split_values("email", lower=True)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rows AS
            SELECT * EXCLUDE (email, _raw), NULL::VARCHAR AS _raw,
                   NULLIF(array_to_string(list_transform({hashed}, lambda x: sha256(x)), ','), '') AS emailsha256
            FROM _rows"""
    )


def _dataset_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    system = {n for n, _ in CUSTOMER_SYSTEM_COLUMNS}
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [CUSTOMERS],
    ).fetchall()
    return [r[0] for r in rows if r[0] not in system]


def _check_mode(con: duckdb.DuckDBPyConnection, f: LandedFile, mode: str, names: list[str]) -> None:
    have = _dataset_columns(con)
    missing = [n for n in have if n not in names]
    extra = [n for n in names if n not in have]
    if mode == "create":
        raise IngestError(
            f"{f.name}: mode create makes a new data set, but `customers` exists already; use update or overwrite"
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
        _check_not_empty(f)
        if f.format == "json":
            names = read_customer_json_rows(con, f)
        else:
            names = read_csv_rows(con, f, spec.encoding)
        _check_customer_columns(f, names)
        if "email" in names:
            _hash_emails(con)
            names = [("emailsha256" if n == "email" else n) for n in names]
        exists = table_exists(con, CUSTOMERS)
        if exists:
            _check_mode(con, f, mode, names)
        columns = [customer_column(n) for n in names]
        duplicate = (
            "customuid",
            "customuid IS NOT NULL AND _row_number > min(_row_number) OVER (PARTITION BY customuid)",
            "'customuid: ''' || customuid || ''' appears again in the file (first at row '"
            " || min(_row_number) OVER (PARTITION BY customuid) || ')'",
        )
        type_rows(con, columns, [duplicate])
        cols = ", ".join(ident(n) for n in names)

        def apply() -> None:
            _ensure_table(con, CUSTOMERS, [(c.name, c.sql_type) for c in columns] + CUSTOMER_SYSTEM_COLUMNS)
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
            con.execute(
                f"""INSERT INTO customers ({cols}, _first_seen_at, _updated_at, _load_id)
                    SELECT {", ".join("t." + ident(n) for n in names)}, coalesce(s._first_seen_at, $d), $d, $id
                    FROM _typed t LEFT JOIN _seen s USING (customuid)
                    WHERE t._reason IS NULL ORDER BY t._row_number""",
                {"d": f.day, "id": result.load_id},
            )
            con.execute("DROP TABLE _seen")

        return apply

    return _run_load(con, result, f, prepare, rejects_by_file=True)


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


def record_missing_file(
    con: duckdb.DuckDBPyConnection, source: str, dataset: str, day: dt.date, error: str
) -> LoadResult:
    """Record a FAILED load for a partition whose file is not there; the partition stays as it was."""
    result = LoadResult(source=source, dataset=dataset, file=None, partition_date=day)
    return _fail(con, result, None, _now(), error)
